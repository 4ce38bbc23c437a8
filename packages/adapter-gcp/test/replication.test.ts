import { type GcpEmulator, startGcpEmulator } from '@secret-gateway/emulators/gcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeOptions, GcpAdapter, optionsFromEnv } from '../src/index.ts';
import { randomPath, secretOf } from './helpers.ts';

// Issue 14 item 4: organisations enforcing constraints/gcp.resourceLocations refuse automatic
// (global) replication with FAILED_PRECONDITION (GoogleCloudPlatform/scion#1531, firebase-tools#6454).
let emu: GcpEmulator;
beforeAll(async () => {
  emu = await startGcpEmulator({ allowedLocations: ['europe-west1', 'europe-west4'] });
});
afterAll(() => emu.stop());

const BASE = { GOOGLE_CLOUD_PROJECT: 'p' };
const adapter = (env: Record<string, string>) =>
  new GcpAdapter({
    ...optionsFromEnv({ ...BASE, ...env }),
    projectId: emu.project,
    endpoint: emu.url,
    insecure: true,
    accessToken: emu.token,
  });
const KEY = (l: string) => `projects/p/locations/${l}/keyRings/r/cryptoKeys/k`;

describe('replication under an organisation location policy', () => {
  it('automatic replication: the first write is refused with a message naming the setting, nothing stored', async () => {
    const path = randomPath();
    await expect(adapter({}).write(path, 'hunter2')).rejects.toMatchObject({
      code: 'backend_error',
      reason: 'invalid',
      message:
        "GCP refused to create the secret (FAILED_PRECONDITION): the organisation's location policy (constraints/gcp.resourceLocations) refuses automatic (global) replication; set SGW_GCP_REPLICATION_LOCATIONS to regions it allows",
      detail: { backend: 'gcp', operation: 'create secret', backendCode: 'FAILED_PRECONDITION' },
    });
    expect(secretOf(emu, path)).toBeUndefined();
  });

  it('SGW_GCP_REPLICATION_LOCATIONS inside the policy: created user-managed in those regions, with the keys', async () => {
    const path = randomPath();
    const a = adapter({
      SGW_GCP_REPLICATION_LOCATIONS: 'europe-west1, europe-west4',
      SGW_GCP_KMS_KEY: `${KEY('europe-west1')},${KEY('europe-west4')}`,
    });
    expect(await a.write(path, 'v')).toBe(1);
    expect(await a.read(path, undefined)).toEqual({ value: 'v', version: 1 });
    expect(secretOf(emu, path)?.replication).toEqual({
      user_managed: {
        replicas: [
          { location: 'europe-west1', customer_managed_encryption: { kms_key_name: KEY('europe-west1') } },
          { location: 'europe-west4', customer_managed_encryption: { kms_key_name: KEY('europe-west4') } },
        ],
      },
    });
  });

  it('a region outside the policy: refused, naming the configured regions', async () => {
    await expect(
      adapter({ SGW_GCP_REPLICATION_LOCATIONS: 'us-central1' }).write(randomPath(), 'v'),
    ).rejects.toMatchObject({
      reason: 'invalid',
      message: expect.stringContaining('refuses a region of SGW_GCP_REPLICATION_LOCATIONS (us-central1)'),
    });
  });
});

describe('the replication settings are checked before connecting', () => {
  it.each([
    [
      { SGW_GCP_REPLICATION_LOCATIONS: 'global' },
      /SGW_GCP_REPLICATION_LOCATIONS: "global" is not a GCP region/,
    ],
    [{ SGW_GCP_REPLICATION_LOCATIONS: 'Europe-West1' }, /is not a GCP region/],
    [{ SGW_GCP_REPLICATION_LOCATIONS: 'europe-west1,europe-west1' }, /names a region twice/],
    [{ SGW_GCP_KMS_KEY: 'my-key' }, /SGW_GCP_KMS_KEY: "my-key" is not projects\/P\/locations/],
    [
      { SGW_GCP_REPLICATION_LOCATIONS: 'europe-west1,europe-west4', SGW_GCP_KMS_KEY: KEY('europe-west1') },
      /one key per location of SGW_GCP_REPLICATION_LOCATIONS \(2\)/,
    ],
    [
      { SGW_GCP_REPLICATION_LOCATIONS: 'europe-west1', SGW_GCP_KMS_KEY: KEY('europe-west4') },
      /the key for europe-west1 is in location europe-west4/,
    ],
    [{ SGW_GCP_KMS_KEY: KEY('europe-west1') }, /the key for global is in location europe-west1/],
    [{ SGW_GCP_CA_FILE: '/ca.pem', SGW_GCP_INSECURE: 'true' }, /SGW_GCP_CA_FILE is for TLS/],
  ])('%j is refused', (env, message) => {
    expect(() => optionsFromEnv({ ...BASE, ...env })).toThrow(message);
  });

  it('describeOptions names the replication and calls a fixed token development only', () => {
    expect(
      describeOptions(
        optionsFromEnv({ ...BASE, SGW_GCP_ACCESS_TOKEN: 't', SGW_GCP_REPLICATION_LOCATIONS: 'europe-west1' }),
      ),
    ).toBe(
      'gcp: project p, the Google endpoint, a fixed access token (SGW_GCP_ACCESS_TOKEN, development only: never refreshed), user-managed replication in europe-west1',
    );
    expect(describeOptions(optionsFromEnv({ ...BASE, SGW_GCP_KMS_KEY: KEY('global') }))).toContain(
      'automatic (global) replication with CMEK',
    );
  });
});

import { type GcpEmulator, startGcpEmulator } from '@secret-gateway/emulators/gcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromEnv, optionsFromEnv, pathOfSecret, secretId } from '../src/index.ts';
import { adapterFor, randomPath, secretOf, versionNameOf } from './helpers.ts';

// Reads the emulator's state behind the adapter's back: names, labels, annotations, version states.
let emu: GcpEmulator;
beforeAll(async () => {
  emu = await startGcpEmulator();
});
afterAll(() => emu.stop());

describe('what the GCP adapter stores', () => {
  it("encodes the path into a legal secret id, labelled as the gateway's, payload sent with CRC32C", async () => {
    const path = `${randomPath('tfy-secret/acme/prod')}/db_pass.v2`;
    await adapterFor(emu).write(path, 'x');
    const id = [...emu.state.secrets.keys()].find((k) => k.endsWith('_2fdb_5fpass_2ev2'));
    expect(id).toBe(secretId(path));
    expect(id).toMatch(/^tfy-secret_2facme_2fprod_2f[0-9a-f]{8}_2fdb_5fpass_2ev2$/);
    expect(pathOfSecret(id as string)).toBe(path);
    const secret = secretOf(emu, path);
    expect(secret?.labels).toEqual({ 'managed-by': 'secret-gateway' });
    expect(secret?.annotations).toEqual({});
    expect(secret?.versions.get(1)).toMatchObject({ state: 'ENABLED', clientChecksum: true });
    expect(secret?.versions.get(1)?.data?.toString()).toBe('x');
  });

  it('names differing only in case, `_`, `-` or `.` are different secrets', async () => {
    const a = adapterFor(emu);
    const base = randomPath();
    const twins = [`${base}/Key`, `${base}/key`, `${base}/a_b`, `${base}/a-b`, `${base}/a.b`];
    for (const [i, p] of twins.entries()) await a.write(p, String(i));
    expect(new Set(twins.map(secretId)).size).toBe(twins.length);
    for (const [i, p] of twins.entries())
      expect(secretOf(emu, p)?.versions.get(1)?.data?.toString()).toBe(String(i));
  });

  it('a path whose id would pass 255 characters: hashed id, path in an annotation, sgw-hashed label', async () => {
    const long = `${randomPath()}/${'p'.repeat(300)}`;
    const a = adapterFor(emu);
    await a.write(long, 'y');
    const secret = secretOf(emu, long);
    expect(secret?.id).toMatch(/^_x[a-z2-7]{52}$/);
    expect(secret?.annotations['sgw-path']).toBe(long);
    expect(secret?.labels).toEqual({ 'managed-by': 'secret-gateway', 'sgw-hashed': 'true' });
    expect(pathOfSecret(secret?.id as string, secret?.annotations)).toBe(long);
    expect(await a.read(long, undefined)).toEqual({ value: 'y', version: 1 });
  });

  it('deleting a version destroys it in GCP (payload gone); deleting it again is false', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    for (const v of ['one', 'two']) await a.write(path, v);
    expect(await a.deleteVersion(path, 1)).toBe(true);
    expect(secretOf(emu, path)?.versions.get(1)).toMatchObject({ state: 'DESTROYED', data: undefined });
    expect(secretOf(emu, path)?.versions.get(2)?.state).toBe('ENABLED');
    expect(await a.deleteVersion(path, 1)).toBe(false);
    expect(await a.deleteVersion(path, 9)).toBe(false);
    expect(await a.deleteVersion(randomPath(), 1)).toBe(false);
  });

  it('a version disabled in GCP (by an operator) is not served, by number or as latest', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    for (const v of ['one', 'two']) await a.write(path, v);
    emu.state.setState(versionNameOf(emu, path, 2), 'DISABLED');
    expect(await a.read(path, 2)).toBeNull();
    expect(await a.read(path, undefined)).toEqual({ value: 'one', version: 1 });
    emu.state.setState(versionNameOf(emu, path, 2), 'ENABLED');
    expect(await a.read(path, undefined)).toEqual({ value: 'two', version: 2 });
  });

  it('delete-all deletes the secret; the next write re-creates it, labelled, at version 1', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    await a.write(path, 'old');
    await a.write(path, 'old2');
    expect(await a.deleteSecret(path)).toBe(true);
    expect(secretOf(emu, path)).toBeUndefined();
    expect(await a.deleteSecret(path)).toBe(false);
    expect(await a.write(path, 'new')).toBe(1);
    expect(secretOf(emu, path)?.labels['managed-by']).toBe('secret-gateway');
    expect(await a.read(path, 2)).toBeNull();
  });

  it('a secret without versions (created outside the gateway) reads as absent; the first write is version 1', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    emu.state.create(`projects/${emu.project}`, secretId(path), { replication: { automatic: {} } });
    expect(await a.read(path, undefined)).toBeNull();
    expect(await a.write(path, 'v')).toBe(1);
    expect(secretOf(emu, path)?.labels).toEqual({}); // not re-created: GCP's own labels stay
  });
});

describe('fromEnv', () => {
  const base = () => ({
    GOOGLE_CLOUD_PROJECT: emu.project,
    SGW_GCP_ENDPOINT: emu.url,
    SGW_GCP_INSECURE: 'true',
    SGW_GCP_ACCESS_TOKEN: emu.token,
  });

  it('reads GOOGLE_CLOUD_PROJECT, the endpoint, the token and SGW_GCP_LABELS', async () => {
    const a = fromEnv({ ...base(), SGW_GCP_LABELS: 'team=platform,env=prod' }, { dataDir: '/nonexistent' });
    const path = randomPath();
    await a.write(path, 'z');
    expect(secretOf(emu, path)?.labels).toEqual({
      team: 'platform',
      env: 'prod',
      'managed-by': 'secret-gateway',
    });
    await a.check();
    await a.close();
  });

  it('names the variable that is missing or malformed', () => {
    expect(() => fromEnv({})).toThrow(/GOOGLE_CLOUD_PROJECT/);
    expect(() => fromEnv({ ...base(), SGW_GCP_LABELS: 'Team=x' })).toThrow(/SGW_GCP_LABELS/);
    expect(() => fromEnv({ ...base(), SGW_GCP_ENDPOINT: 'http://x:1/' })).toThrow(/SGW_GCP_ENDPOINT/);
    expect(() => fromEnv({ ...base(), SGW_GCP_INSECURE: 'yes' })).toThrow(/SGW_GCP_INSECURE/);
  });

  it("takes the deadline from the gateway's settings, not from the environment", () => {
    const env = { ...base(), SGW_BACKEND_TIMEOUT_MS: '9999' };
    expect(optionsFromEnv(env, { backendTimeoutMs: 1234 }).timeoutMs).toBe(1234);
    expect(optionsFromEnv(env).timeoutMs).toBe(5000);
  });

  it('a project we may not use is a denial (502), never an absent secret', async () => {
    const a = fromEnv({ ...base(), GOOGLE_CLOUD_PROJECT: 'someone-else' });
    const denied = { code: 'backend_error', reason: 'denied' };
    await expect(a.check()).rejects.toMatchObject(denied);
    await expect(a.read(randomPath(), undefined)).rejects.toMatchObject(denied);
    await expect(a.write(randomPath(), 'v')).rejects.toMatchObject(denied);
    await a.close();
  });
});

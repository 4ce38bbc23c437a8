import { v1 } from '@google-cloud/secret-manager';
import { OAuth2Client } from 'google-auth-library';
import { grpc } from 'google-gax';
import { afterEach, describe, expect, it } from 'vitest';
import { type GcpEmulator, startGcpEmulator } from '../src/gcp/index.ts';

// Issue 14, SDK-direct: the limits real Secret Manager puts on callers, each opt-in.
let emu: GcpEmulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

const NO_RETRY = { retry: { retryCodes: [] as number[] } };
function sdk(e: GcpEmulator, channel = grpc.credentials.createInsecure()) {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: e.token, expiry_date: Date.now() + 3_600_000 });
  const [host, port] = e.url.split(':');
  return new v1.SecretManagerServiceClient({
    apiEndpoint: host,
    port: Number(port),
    sslCreds: channel,
    authClient: auth,
  });
}

describe('organisation location policy (constraints/gcp.resourceLocations)', () => {
  // GoogleCloudPlatform/scion#1531, firebase-tools#6454: FAILED_PRECONDITION naming [global].
  it('refuses automatic replication and regions outside the policy; user-managed inside it is created', async () => {
    emu = await startGcpEmulator({ allowedLocations: ['europe-west1'] });
    const sm = sdk(emu);
    const parent = `projects/${emu.project}`;
    const create = (secretId: string, replication: object) =>
      sm.createSecret({ parent, secretId, secret: { replication } }, NO_RETRY);
    await expect(create('a', { automatic: {} })).rejects.toMatchObject({
      code: 9,
      details: expect.stringMatching(
        /^Constraint constraints\/gcp\.resourceLocations violated for \[orgpolicy:projects\/\d+\] attempting to create a secret in \[global\]\./,
      ),
    });
    await expect(
      create('b', { userManaged: { replicas: [{ location: 'europe-west1' }, { location: 'us-east1' }] } }),
    ).rejects.toMatchObject({ code: 9, details: expect.stringContaining('in [us-east1]') });
    const [made] = await create('c', { userManaged: { replicas: [{ location: 'europe-west1' }] } });
    expect(made.replication?.userManaged?.replicas?.[0]?.location).toBe('europe-west1');
    await expect(create('d', { userManaged: { replicas: [] } })).rejects.toMatchObject({ code: 3 });
    await sm.close();
  });
});

describe('the per-minute read quota', () => {
  // https://cloud.google.com/secret-manager/quotas: reads (Get/List) and accesses are separate buckets.
  it('Get and List share the read bucket; Access has its own; RESOURCE_EXHAUSTED names the quota, no RetryInfo', async () => {
    emu = await startGcpEmulator({ readQuotaPerMinute: 2 });
    const sm = sdk(emu);
    const [secret] = await sm.createSecret({
      parent: `projects/${emu.project}`,
      secretId: 's',
      secret: { replication: { automatic: {} } },
    });
    await sm.addSecretVersion({ parent: secret.name, payload: { data: Buffer.from('v') } });
    await sm.getSecret({ name: secret.name }, NO_RETRY);
    await sm.listSecretVersions({ parent: secret.name }, NO_RETRY);
    const refused = sm.getSecret({ name: secret.name }, NO_RETRY);
    await expect(refused).rejects.toMatchObject({
      code: 8,
      reason: 'RATE_LIMIT_EXCEEDED',
      errorInfoMetadata: { quota_limit: 'ReadRequestsPerMinutePerProject' },
    });
    const error = await refused.catch((e) => e);
    expect(error.statusDetails.some((d: object) => 'retryDelay' in d)).toBe(false);
    // Access is not a "read request": still served.
    const [answer] = await sm.accessSecretVersion({ name: `${secret.name}/versions/1` }, NO_RETRY);
    expect(answer.payload?.data?.toString()).toBe('v');
    await sm.close();
  });
});

describe('TLS, and a credential required', () => {
  it('a call without credentials is UNAUTHENTICATED; the token is accepted', async () => {
    emu = await startGcpEmulator({ tls: true });
    const ca = Buffer.from(emu.certPem as string);
    // sslCreds alone: google-gax then sends no call credentials at all.
    const bare = sdk(emu, grpc.credentials.createSsl(ca));
    await expect(
      bare.getSecret({ name: `projects/${emu.project}/secrets/x` }, NO_RETRY),
    ).rejects.toMatchObject({
      code: 16,
      details: expect.stringContaining('missing required authentication credential'),
    });
    await bare.close();
    const withToken = sdk(
      emu,
      grpc.credentials.combineChannelCredentials(
        grpc.credentials.createSsl(ca),
        grpc.credentials.createFromGoogleCredential({
          getRequestHeaders: async () => ({ authorization: `Bearer ${emu?.token}` }),
        }),
      ),
    );
    await expect(
      withToken.getSecret({ name: `projects/${emu.project}/secrets/x` }, NO_RETRY),
    ).rejects.toMatchObject({ code: 5 });
    await withToken.close();
  });
});

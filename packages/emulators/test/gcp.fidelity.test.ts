import { v1 } from '@google-cloud/secret-manager';
import { OAuth2Client } from 'google-auth-library';
import { grpc } from 'google-gax';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32c, type GcpEmulator, startGcpEmulator } from '../src/gcp/index.ts';

// The emulator driven by the official SDK over gRPC (its production transport), directly.
let emu: GcpEmulator;
let sm: v1.SecretManagerServiceClient;
const noRetry = { retry: { retryCodes: [] } };
beforeAll(async () => {
  emu = await startGcpEmulator({ project: 'fid-project' });
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: emu.token, expiry_date: Date.now() + 3_600_000 });
  const [host, port] = emu.url.split(':');
  sm = new v1.SecretManagerServiceClient({
    apiEndpoint: host,
    port: Number(port),
    sslCreds: grpc.credentials.createInsecure(),
    authClient: auth,
  });
});
afterAll(async () => {
  await sm.close();
  await emu.stop();
});

let n = 0;
const fresh = () => `fid-${++n}-${Date.now()}`;
const parent = 'projects/fid-project';
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 0,
    (e: { code?: number }) => e.code,
  );
async function secretWith(...values: string[]) {
  const id = fresh();
  await sm.createSecret({
    parent,
    secretId: id,
    secret: { replication: { automatic: {} }, labels: { team: 'a' } },
  });
  for (const v of values)
    await sm.addSecretVersion({ parent: `${parent}/secrets/${id}`, payload: { data: Buffer.from(v) } });
  return `${parent}/secrets/${id}`;
}
const access = async (name: string) =>
  Buffer.from((await sm.accessSecretVersion({ name }, noRetry))[0].payload?.data as Uint8Array).toString();

describe('GCP Secret Manager emulator fidelity (official SDK, gRPC)', () => {
  it('creates secrets, adds versions from 1, accesses by number and by latest', async () => {
    const name = await secretWith('one', 'two');
    expect(await access(`${name}/versions/1`)).toBe('one');
    expect(await access(`${name}/versions/latest`)).toBe('two');
    const [secret] = await sm.getSecret({ name });
    expect(secret.labels).toEqual({ team: 'a' });
  });

  it('enforces secret_id rules: [A-Za-z0-9_-], at most 255', async () => {
    expect(
      await codeOf(
        sm.createSecret({ parent, secretId: 'bad/id', secret: { replication: { automatic: {} } } }),
      ),
    ).toBe(3);
    expect(
      await codeOf(
        sm.createSecret({ parent, secretId: 'x'.repeat(256), secret: { replication: { automatic: {} } } }),
      ),
    ).toBe(3);
    expect(
      await codeOf(
        sm.createSecret({
          parent,
          secretId: `A_b-${'x'.repeat(251)}`,
          secret: { replication: { automatic: {} } },
        }),
      ),
    ).toBe(0);
  });

  it('NOT_FOUND, ALREADY_EXISTS, and PERMISSION_DENIED for another project', async () => {
    const name = await secretWith('x');
    expect(await codeOf(sm.getSecret({ name: `${parent}/secrets/${fresh()}` }))).toBe(5);
    expect(await codeOf(sm.accessSecretVersion({ name: `${name}/versions/9` }, noRetry))).toBe(5);
    // Another project is one we may not use: PERMISSION_DENIED "(or it may not exist)", never NOT_FOUND.
    expect(await codeOf(sm.getSecret({ name: name.replace('fid-project', 'other') }))).toBe(7);
    expect(await codeOf(sm.listSecrets({ parent: 'projects/other' }))).toBe(7);
    expect(
      await codeOf(
        sm.createSecret({
          parent,
          secretId: name.split('/').pop(),
          secret: { replication: { automatic: {} } },
        }),
      ),
    ).toBe(6);
  });

  it('FAILED_PRECONDITION accessing a destroyed or disabled version; latest means newest whatever its state', async () => {
    const name = await secretWith('one', 'two', 'three');
    await sm.disableSecretVersion({ name: `${name}/versions/2` });
    expect(await codeOf(sm.accessSecretVersion({ name: `${name}/versions/2` }, noRetry))).toBe(9);
    await sm.enableSecretVersion({ name: `${name}/versions/2` });
    expect(await access(`${name}/versions/2`)).toBe('two');
    await sm.destroySecretVersion({ name: `${name}/versions/3` });
    expect(await codeOf(sm.accessSecretVersion({ name: `${name}/versions/latest` }, noRetry))).toBe(9);
    const [v3] = await sm.getSecretVersion({ name: `${name}/versions/3` });
    expect(v3.state).toBe('DESTROYED');
    expect(await codeOf(sm.enableSecretVersion({ name: `${name}/versions/3` }))).toBe(9);
  });

  it('lists versions newest first with paging and a state filter', async () => {
    const name = await secretWith('1', '2', '3', '4', '5');
    await sm.destroySecretVersion({ name: `${name}/versions/4` });
    const [page, next] = await sm.listSecretVersions({ parent: name, pageSize: 2 }, { autoPaginate: false });
    expect(page.map((v) => v.name?.split('/').pop())).toEqual(['5', '4']);
    expect(next?.pageToken).toBeTruthy();
    const [enabled] = await sm.listSecretVersions({ parent: name, filter: 'state:ENABLED' });
    expect(enabled.map((v) => v.name?.split('/').pop())).toEqual(['5', '3', '2', '1']);
  });

  it('refuses payloads over 64 KiB and a wrong CRC32C, accepts a right one', async () => {
    const name = await secretWith();
    expect(await codeOf(sm.addSecretVersion({ parent: name, payload: { data: Buffer.alloc(65537) } }))).toBe(
      3,
    );
    const data = Buffer.from('checked');
    expect(
      await codeOf(
        sm.addSecretVersion({ parent: name, payload: { data, dataCrc32c: Number(crc32c(data)) + 1 } }),
      ),
    ).toBe(3);
    expect(
      await codeOf(
        sm.addSecretVersion({ parent: name, payload: { data, dataCrc32c: Number(crc32c(data)) } }),
      ),
    ).toBe(0);
    const [checked] = await sm.getSecretVersion({ name: `${name}/versions/1` });
    expect(checked.clientSpecifiedPayloadChecksum).toBe(true);
    await sm.addSecretVersion({ parent: name, payload: { data } });
    const [unchecked] = await sm.getSecretVersion({ name: `${name}/versions/2` });
    expect(unchecked.clientSpecifiedPayloadChecksum).toBe(false);
    const [answer] = await sm.accessSecretVersion({ name: `${name}/versions/1` }, noRetry);
    expect(String(answer.payload?.dataCrc32c)).toBe(crc32c(data).toString());
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283n);
  });

  it('deletes secrets at once; the name can be reused and versions restart at 1', async () => {
    const name = await secretWith('old');
    await sm.deleteSecret({ name });
    expect(await codeOf(sm.getSecret({ name }))).toBe(5);
    await sm.createSecret({
      parent,
      secretId: name.split('/').pop(),
      secret: { replication: { automatic: {} } },
    });
    const [v] = await sm.addSecretVersion({ parent: name, payload: { data: Buffer.from('new') } });
    expect(v.name?.endsWith('/versions/1')).toBe(true);
  });

  it('labels: kept as sent, and refused when not GCP labels', async () => {
    const [made] = await sm.createSecret({
      parent,
      secretId: fresh(),
      secret: { replication: { automatic: {} }, labels: { 'managed-by': 'x', env: 'prod_1' } },
    });
    const [got] = await sm.getSecret({ name: made.name });
    expect(got.labels).toEqual({ 'managed-by': 'x', env: 'prod_1' });
    const bad: Record<string, string>[] = [{ Upper: 'x' }, { ok: 'Upper' }, { ok: 'x'.repeat(64) }];
    for (const labels of bad) {
      expect(
        await codeOf(
          sm.createSecret({ parent, secretId: fresh(), secret: { replication: { automatic: {} }, labels } }),
        ),
        JSON.stringify(labels),
      ).toBe(3);
    }
    expect(await codeOf(sm.createSecret({ parent, secretId: fresh(), secret: {} }))).toBe(3);
  });

  it('lists secrets page by page', async () => {
    for (let i = 0; i < 3; i++) await secretWith();
    const [first, next] = await sm.listSecrets({ parent, pageSize: 2 }, { autoPaginate: false });
    expect(first).toHaveLength(2);
    const [rest] = await sm.listSecrets(
      { parent, pageSize: 1000, pageToken: next?.pageToken },
      { autoPaginate: false },
    );
    const [all] = await sm.listSecrets({ parent });
    expect([...first, ...rest].map((s) => s.name)).toEqual(all.map((s) => s.name));
  });

  it('injects RESOURCE_EXHAUSTED (with ErrorInfo and RetryInfo), UNAVAILABLE, INTERNAL and latency on demand', async () => {
    const name = await secretWith('x');
    emu.faults.set({ throttle: true, retryAfterSeconds: 7, times: 1, match: 'AccessSecretVersion' });
    expect(await codeOf(sm.getSecret({ name }, noRetry))).toBe(0); // match: other methods unaffected
    const throttled = await sm.accessSecretVersion({ name: `${name}/versions/1` }, noRetry).catch((e) => e);
    expect(throttled).toMatchObject({ code: 8, reason: 'RATE_LIMIT_EXCEEDED', domain: 'googleapis.com' });
    const delay = (throttled.statusDetails as Array<{ retryDelay?: { seconds: unknown } }>).find(
      (d) => d.retryDelay,
    );
    expect(Number(delay?.retryDelay?.seconds)).toBe(7);
    emu.faults.set({ status: 503, times: 1 });
    expect(await codeOf(sm.getSecret({ name }, noRetry))).toBe(14);
    emu.faults.set({ status: 500, times: 1 });
    expect(await codeOf(sm.getSecret({ name }, noRetry))).toBe(13);
    emu.faults.set({ latencyMs: 2000, times: 1 });
    expect(await codeOf(sm.getSecret({ name }, { timeout: 200, ...noRetry }))).toBe(4);
    expect(await access(`${name}/versions/1`)).toBe('x');
  });

  it('drops the connection on demand: the call fails UNAVAILABLE and the next one reconnects', async () => {
    const name = await secretWith('x');
    emu.faults.set({ drop: true, times: 1 });
    const dropped = await sm.getSecret({ name }, noRetry).catch((e) => e);
    expect(dropped.code).toBe(14);
    expect(dropped.details).toBe('Connection dropped'); // grpc-js's words: the transport lost it, no status came
    expect(await access(`${name}/versions/1`)).toBe('x');
  });

  it('answers PERMISSION_DENIED for methods the backdoor denies', async () => {
    const name = await secretWith('x');
    emu.denied.add('DestroySecretVersion');
    try {
      expect(await codeOf(sm.destroySecretVersion({ name: `${name}/versions/1` }))).toBe(7);
      expect(await access(`${name}/versions/1`)).toBe('x');
    } finally {
      emu.denied.clear();
    }
  });
});

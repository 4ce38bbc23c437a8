import { setTimeout as sleep } from 'node:timers/promises';
import { v1 } from '@google-cloud/secret-manager';
import { OAuth2Client } from 'google-auth-library';
import { grpc } from 'google-gax';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GcpEmulator, startFromFlags, startGcpEmulator } from '../src/gcp/index.ts';

// Issue 14, SDK-direct. Google: "adding a secret version and then immediately accessing that secret
// version by version number is a strongly consistent operation" (not through `latest` or an alias);
// "Other operations within Secret Manager are eventually consistent"
// (https://cloud.google.com/secret-manager/docs/reference/consistency). With staleReadMs the
// emulator's other reads answer from the state as it was that long ago; writes act on the present.
// Wide enough that the calls between a write and the read it races never take longer on a busy machine.
const LAG = 600;
let emu: GcpEmulator;
let sm: v1.SecretManagerServiceClient;
function sdkFor(e: GcpEmulator): v1.SecretManagerServiceClient {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: e.token, expiry_date: Date.now() + 3_600_000 });
  const [host, port] = e.url.split(':');
  return new v1.SecretManagerServiceClient({
    apiEndpoint: host,
    port: Number(port),
    sslCreds: grpc.credentials.createInsecure(),
    authClient: auth,
  });
}
beforeAll(async () => {
  emu = await startGcpEmulator({ staleReadMs: LAG });
  sm = sdkFor(emu);
});
afterAll(async () => {
  await sm.close();
  await emu.stop();
});

const NO_RETRY = { retry: { retryCodes: [] as number[] } };
let n = 0;
async function secret(): Promise<string> {
  const [s] = await sm.createSecret({
    parent: `projects/${emu.project}`,
    secretId: `stale-${++n}`,
    secret: { replication: { automatic: {} } },
  });
  return s.name as string;
}
const add = async (parent: string, value: string) =>
  (await sm.addSecretVersion({ parent, payload: { data: Buffer.from(value) } }))[0].name as string;
const access = async (name: string) =>
  String((await sm.accessSecretVersion({ name }, NO_RETRY))[0].payload?.data);
// Past the window: every read has converged.
const converge = () => sleep(LAG + 50);

describe('GCP emulator stale reads (staleReadMs)', () => {
  it('a new secret is not yet visible to GetSecret or ListSecrets; writes to it work at once', async () => {
    const name = await secret();
    await expect(sm.getSecret({ name }, NO_RETRY)).rejects.toMatchObject({ code: 5 });
    const [listed] = await sm.listSecrets({ parent: `projects/${emu.project}` }, NO_RETRY);
    expect(listed.map((s) => s.name)).not.toContain(name);
    expect(await add(name, 'v1')).toBe(`${name}/versions/1`); // a write acts on the present
    await converge();
    expect((await sm.getSecret({ name }, NO_RETRY))[0].name).toBe(name);
  });

  it('a version just added is accessible by number at once; latest and the listing lag behind', async () => {
    const name = await secret();
    await add(name, 'one');
    await converge();
    const two = await add(name, 'two');
    expect(await access(two)).toBe('two'); // the one strongly consistent read
    expect(await access(`${name}/versions/latest`)).toBe('one');
    const [versions] = await sm.listSecretVersions({ parent: name }, NO_RETRY);
    expect(versions.map((v) => v.name)).toEqual([`${name}/versions/1`]);
    await expect(sm.getSecretVersion({ name: two }, NO_RETRY)).rejects.toMatchObject({ code: 5 });
    await converge();
    expect(await access(`${name}/versions/latest`)).toBe('two');
  });

  it('a destroyed version is still served for a while, by number and as latest', async () => {
    const name = await secret();
    const one = await add(name, 'one');
    await converge();
    await sm.destroySecretVersion({ name: one });
    expect(await access(one)).toBe('one');
    expect(await access(`${name}/versions/latest`)).toBe('one');
    // The destroy itself acts on the present: a second one is refused.
    await expect(sm.destroySecretVersion({ name: one }, NO_RETRY)).rejects.toMatchObject({ code: 9 });
    await converge();
    await expect(access(one)).rejects.toMatchObject({ code: 9 });
  });

  it('a deleted secret still answers reads for a while; a re-created one is written at once', async () => {
    const name = await secret();
    await add(name, 'old');
    await converge();
    await sm.deleteSecret({ name });
    expect(await access(`${name}/versions/1`)).toBe('old');
    expect(await access(`${name}/versions/latest`)).toBe('old');
    const id = name.slice(name.lastIndexOf('/') + 1);
    await sm.createSecret({
      parent: `projects/${emu.project}`,
      secretId: id,
      secret: { replication: { automatic: {} } },
    });
    expect(await add(name, 'new')).toBe(`${name}/versions/1`);
    expect(await access(`${name}/versions/1`)).toBe('new'); // added just now: strongly consistent
    expect(await access(`${name}/versions/latest`)).toBe('old');
    await converge();
    expect(await access(`${name}/versions/latest`)).toBe('new');
  });

  it('off by default; the bin flag --stale-read-ms switches it on', async () => {
    const strong = await startGcpEmulator();
    const client = sdkFor(strong);
    const [s] = await client.createSecret({
      parent: `projects/${strong.project}`,
      secretId: 's',
      secret: { replication: { automatic: {} } },
    });
    await client.addSecretVersion({ parent: s.name, payload: { data: Buffer.from('v') } });
    const [latest] = await client.accessSecretVersion({ name: `${s.name}/versions/latest` }, NO_RETRY);
    expect(String(latest.payload?.data)).toBe('v');
    await client.close();
    await strong.stop();
    const flagged = await startFromFlags({ port: '0', 'stale-read-ms': '250' });
    expect(flagged.state.staleReadMs).toBe(250);
    await flagged.stop();
  });
});

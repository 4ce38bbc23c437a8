import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVaultEmulator, type VaultEmulator } from '../src/vault/index.ts';

// Behaviours of a real Vault that cost time or expire, driven with node-vault directly. Sources:
// vault-plugin-secrets-kv path_data.go / path_config.go / delete_version_after.go (deletion_time),
// https://developer.hashicorp.com/vault/api-docs/auth/token (lookup-self, renew-self),
// https://developer.hashicorp.com/vault/docs/enterprise/consistency and
// https://openbao.org/docs/concepts/consistency/ (X-Vault-Index, X-Vault-Inconsistent, 412).
let emu: VaultEmulator;
let vault: nodeVault.client;
let n = 0;
const fresh = () => `fid14/${++n}-${Date.now()}`;
const statusOf = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e: { response?: { statusCode: number } }) => e.response?.statusCode ?? -1,
  );
beforeAll(async () => {
  emu = await startVaultEmulator();
  vault = nodeVault({ endpoint: emu.url, token: 'root', noCustomHTTPVerbs: true });
});
afterAll(() => emu.stop());

describe('delete_version_after', () => {
  it('on a secret: new versions get a future deletion_time and still read; soft delete sets now', async () => {
    const p = fresh();
    await vault.write(`secret/metadata/${p}`, { delete_version_after: '1h' });
    const written = (await vault.write(`secret/data/${p}`, { data: { value: 'a' } })).data;
    expect(Date.parse(written.deletion_time)).toBeGreaterThan(Date.now());
    const meta = (await vault.read(`secret/metadata/${p}`)).data;
    expect(meta.delete_version_after).toBe('1h0m0s');
    expect((await vault.read(`secret/data/${p}`)).data.data).toEqual({ value: 'a' });
    await vault.write(`secret/delete/${p}`, { versions: [1] });
    expect(await statusOf(vault.read(`secret/data/${p}?version=1`))).toBe(404);
  });

  it('on the mount config; the shorter of mount and secret wins; -1 disables it', async () => {
    await vault.write('secret/config', { delete_version_after: 7200 });
    try {
      expect((await vault.read('secret/config')).data.delete_version_after).toBe('2h0m0s');
      const p = fresh();
      await vault.write(`secret/metadata/${p}`, { delete_version_after: 60 });
      const dt = (await vault.write(`secret/data/${p}`, { data: { value: 'a' } })).data.deletion_time;
      expect(Date.parse(dt) - Date.now()).toBeLessThanOrEqual(60_000);
      await vault.write('secret/config', { delete_version_after: -1 });
      expect((await vault.write(`secret/data/${p}`, { data: { value: 'b' } })).data.deletion_time).toBe('');
    } finally {
      await vault.write('secret/config', { delete_version_after: 0 });
    }
  });
});

describe('token lifetimes', () => {
  it('lookup-self reports the TTL; renew-self extends a renewable token up to its max TTL', async () => {
    const token = emu.tokens.create({ ttlSeconds: 60, renewable: true, maxTtlSeconds: 90 });
    const client = nodeVault({ endpoint: emu.url, token, noCustomHTTPVerbs: true });
    const looked = (await client.tokenLookupSelf()).data;
    expect(looked).toMatchObject({ renewable: true, creation_ttl: 60 });
    expect(looked.ttl).toBeGreaterThan(0);
    const renewed = (await client.tokenRenewSelf({ increment: 3600 })).auth;
    expect(renewed.lease_duration).toBeLessThanOrEqual(90);
    expect(renewed.lease_duration).toBeGreaterThan(60);
  });

  it('a non-renewable token cannot renew; an expired token is refused with 403', async () => {
    const fixed = nodeVault({
      endpoint: emu.url,
      token: emu.tokens.create({ ttlSeconds: 60, renewable: false }),
      noCustomHTTPVerbs: true,
    });
    expect(await statusOf(fixed.tokenRenewSelf())).toBe(400);
    const token = emu.tokens.create({ ttlSeconds: 1 });
    const client = nodeVault({ endpoint: emu.url, token, noCustomHTTPVerbs: true });
    expect(await statusOf(client.read(`secret/data/${fresh()}`))).toBe(404);
    await expect.poll(() => statusOf(client.read(`secret/data/${fresh()}`)), { timeout: 3000 }).toBe(403);
  });
});

describe('a standby that trails the active node', () => {
  let sb: VaultEmulator;
  beforeAll(async () => {
    sb = await startVaultEmulator({ standby: { staleMs: 60_000, allowForwarding: true } });
  });
  afterAll(() => sb.stop());
  const raw = (path: string, headers: Record<string, string> = {}, init: RequestInit = {}) =>
    fetch(`${sb.url}/v1/${path}`, { ...init, headers: { 'X-Vault-Token': 'root', ...headers } });

  it('writes answer X-Vault-Index; reads without it are stale; with it a standby behind answers 412 or forwards', async () => {
    const p = fresh();
    const write = await raw(
      `secret/data/${p}`,
      {},
      { method: 'POST', body: JSON.stringify({ data: { v: 1 } }) },
    );
    const index = write.headers.get('x-vault-index');
    expect(index).toBeTruthy();
    expect((await raw(`secret/data/${p}`)).status).toBe(404);
    expect((await raw(`secret/metadata/${p}`)).status).toBe(404);
    const behind = await raw(`secret/data/${p}`, { 'X-Vault-Index': index as string });
    expect(behind.status).toBe(412);
    const forwarded = await raw(`secret/data/${p}`, {
      'X-Vault-Index': index as string,
      'X-Vault-Inconsistent': 'forward-active-node',
    });
    expect(forwarded.status).toBe(200);
    expect((await raw(`secret/metadata/${p}`, { 'X-Vault-Forward': 'active-node' })).status).toBe(200);
  });

  it("OpenBao's answer when behind: 429 with Retry-After", async () => {
    const bao = await startVaultEmulator({
      standby: { staleMs: 60_000, allowForwarding: false, behindStatus: 429 },
    });
    try {
      const head = { 'X-Vault-Token': 'root' };
      const w = await fetch(`${bao.url}/v1/secret/data/x`, {
        method: 'POST',
        headers: head,
        body: '{"data":{}}',
      });
      const res = await fetch(`${bao.url}/v1/secret/data/x`, {
        headers: {
          ...head,
          'X-Vault-Index': w.headers.get('x-vault-index') as string,
          'X-Vault-Inconsistent': 'forward-active-node',
        },
      });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1');
    } finally {
      await bao.stop();
    }
  });
});

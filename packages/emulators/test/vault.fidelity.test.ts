import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVaultEmulator, type VaultEmulator } from '../src/vault/index.ts';

// The emulator driven by node-vault directly (not the adapter), one Vault behaviour per test.
let emu: VaultEmulator;
let vault: nodeVault.client;
beforeAll(async () => {
  emu = await startVaultEmulator({ approle: { roleId: 'role-1', secretId: 'secret-1' } });
  vault = nodeVault({ endpoint: emu.url, token: 'root', noCustomHTTPVerbs: true });
});
afterAll(() => emu.stop());

const status = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e: { response?: { statusCode: number } }) => e.response?.statusCode ?? -1,
  );
let n = 0;
const fresh = () => `fid/${++n}-${Date.now()}`;

describe('Vault emulator fidelity (node-vault)', () => {
  it('writes versions and reads latest and a given version', async () => {
    const p = fresh();
    expect((await vault.write(`secret/data/${p}`, { data: { value: 'a' } })).data.version).toBe(1);
    expect((await vault.write(`secret/data/${p}`, { data: { value: 'b' } })).data.version).toBe(2);
    expect((await vault.read(`secret/data/${p}`)).data).toMatchObject({
      data: { value: 'b' },
      metadata: { version: 2 },
    });
    expect((await vault.read(`secret/data/${p}?version=1`)).data.data).toEqual({ value: 'a' });
  });

  it('answers 404 with {"errors":[]} for an absent path', async () => {
    const error = await vault.read(`secret/data/${fresh()}`).catch((e) => e);
    expect(error.response.statusCode).toBe(404);
    expect(error.response.body).toEqual({ errors: [] });
  });

  it('refuses a bad token with 403 permission denied', async () => {
    const bad = nodeVault({ endpoint: emu.url, token: 'nope', noCustomHTTPVerbs: true });
    const error = await bad.read(`secret/data/${fresh()}`).catch((e) => e);
    expect(error.response.statusCode).toBe(403);
    expect(error.message).toBe('permission denied');
  });

  it('check-and-set: cas 0 creates only, a stale cas fails with the real message', async () => {
    const p = fresh();
    await vault.write(`secret/data/${p}`, { data: { value: 'a' }, options: { cas: 0 } });
    const error = await vault
      .write(`secret/data/${p}`, { data: { value: 'b' }, options: { cas: 0 } })
      .catch((e) => e);
    expect(error.response.statusCode).toBe(400);
    expect(error.message).toBe('check-and-set parameter did not match the current version');
    expect(
      (await vault.write(`secret/data/${p}`, { data: { value: 'b' }, options: { cas: 1 } })).data.version,
    ).toBe(2);
  });

  it('cas_required in metadata refuses writes without cas', async () => {
    const p = fresh();
    await vault.write(`secret/metadata/${p}`, { cas_required: true });
    const error = await vault.write(`secret/data/${p}`, { data: { value: 'x' } }).catch((e) => e);
    expect(error.message).toBe('check-and-set parameter required for this call');
  });

  it('max_versions defaults to 10 and silently destroys the oldest versions', async () => {
    const p = fresh();
    for (let i = 1; i <= 12; i++) await vault.write(`secret/data/${p}`, { data: { value: `v${i}` } });
    const meta = (await vault.read(`secret/metadata/${p}`)).data;
    expect(meta.current_version).toBe(12);
    expect(meta.oldest_version).toBe(3);
    expect(Object.keys(meta.versions)).toHaveLength(10);
    expect(await status(vault.read(`secret/data/${p}?version=1`))).toBe(404);
  });

  it('max_versions set on the secret overrides the default', async () => {
    const p = fresh();
    await vault.write(`secret/metadata/${p}`, { max_versions: 100 });
    for (let i = 1; i <= 12; i++) await vault.write(`secret/data/${p}`, { data: { value: `v${i}` } });
    expect((await vault.read(`secret/data/${p}?version=1`)).data.data).toEqual({ value: 'v1' });
    expect((await vault.read(`secret/metadata/${p}`)).data.max_versions).toBe(100);
  });

  it("the larger of the secret's and the engine's max_versions wins; lowering it trims at the next write", async () => {
    const e = await startVaultEmulator({ maxVersions: 4 });
    try {
      const v = nodeVault({ endpoint: e.url, token: 'root', noCustomHTTPVerbs: true });
      await v.write('secret/metadata/small', { max_versions: 2 });
      for (let i = 1; i <= 5; i++) await v.write('secret/data/small', { data: { value: `v${i}` } });
      expect(Object.keys((await v.read('secret/metadata/small')).data.versions)).toEqual([
        '2',
        '3',
        '4',
        '5',
      ]);
      const p = 'big';
      await v.write(`secret/metadata/${p}`, { max_versions: 6 });
      for (let i = 1; i <= 5; i++) await v.write(`secret/data/${p}`, { data: { value: `v${i}` } });
      expect((await v.read(`secret/metadata/${p}`)).data.oldest_version).toBe(0);
      await v.write('secret/config', { max_versions: 1 });
      await v.write(`secret/metadata/${p}`, { max_versions: 2 });
      expect(Object.keys((await v.read(`secret/metadata/${p}`)).data.versions)).toHaveLength(5);
      await v.write(`secret/data/${p}`, { data: { value: 'v6' } });
      const meta = (await v.read(`secret/metadata/${p}`)).data;
      expect(Object.keys(meta.versions)).toEqual(['5', '6']);
      expect(meta.oldest_version).toBe(5);
    } finally {
      await e.stop();
    }
  });

  it('soft delete, undelete and destroy, with 404 bodies carrying deletion_time/destroyed', async () => {
    const p = fresh();
    await vault.write(`secret/data/${p}`, { data: { value: 'a' } });
    await vault.write(`secret/data/${p}`, { data: { value: 'b' } });
    await vault.write(`secret/delete/${p}`, { versions: [2] });
    const deleted = await vault.read(`secret/data/${p}`).catch((e) => e);
    expect(deleted.response.statusCode).toBe(404);
    expect(deleted.response.body.data.metadata.deletion_time).not.toBe('');
    await vault.write(`secret/undelete/${p}`, { versions: [2] });
    expect((await vault.read(`secret/data/${p}`)).data.data).toEqual({ value: 'b' });
    await vault.write(`secret/destroy/${p}`, { versions: [1] });
    const destroyed = await vault.read(`secret/data/${p}?version=1`).catch((e) => e);
    expect(destroyed.response.body.data).toMatchObject({ data: null, metadata: { destroyed: true } });
    await vault.write(`secret/undelete/${p}`, { versions: [1] });
    expect(await status(vault.read(`secret/data/${p}?version=1`))).toBe(404);
    expect((await vault.read(`secret/metadata/${p}`)).data.versions['1'].destroyed).toBe(true);
  });

  it('DELETE on data soft-deletes only the latest version', async () => {
    const p = fresh();
    await vault.write(`secret/data/${p}`, { data: { value: 'a' } });
    await vault.write(`secret/data/${p}`, { data: { value: 'b' } });
    await vault.delete(`secret/data/${p}`);
    const versions = (await vault.read(`secret/metadata/${p}`)).data.versions;
    expect(versions['1'].deletion_time).toBe('');
    expect(versions['2'].deletion_time).not.toBe('');
  });

  it('DELETE on metadata removes every version, is idempotent, and numbering restarts at 1', async () => {
    const p = fresh();
    await vault.write(`secret/data/${p}`, { data: { value: 'a' } });
    await vault.delete(`secret/metadata/${p}`);
    await vault.delete(`secret/metadata/${p}`);
    expect(await status(vault.read(`secret/metadata/${p}`))).toBe(404);
    expect((await vault.write(`secret/data/${p}`, { data: { value: 'c' } })).data.version).toBe(1);
  });

  it('lists keys and folders with ?list=true (node-vault with noCustomHTTPVerbs)', async () => {
    const base = fresh();
    await vault.write(`secret/data/${base}/a`, { data: { value: '1' } });
    await vault.write(`secret/data/${base}/b/c`, { data: { value: '2' } });
    expect((await vault.list(`secret/metadata/${base}`)).data.keys).toEqual(['a', 'b/']);
    expect(await status(vault.list(`secret/metadata/${fresh()}`))).toBe(404);
  });

  it('sys/health answers and AppRole login issues a working token', async () => {
    expect(await vault.health()).toMatchObject({ initialized: true, sealed: false });
    const client = nodeVault({ endpoint: emu.url, noCustomHTTPVerbs: true });
    await client.approleLogin({ role_id: 'role-1', secret_id: 'secret-1' });
    expect(client.token).toMatch(/^hvs\./);
    await client.write(`secret/data/${fresh()}`, { data: { value: 'x' } });
    const bad = nodeVault({ endpoint: emu.url, noCustomHTTPVerbs: true });
    expect(await status(bad.approleLogin({ role_id: 'role-1', secret_id: 'wrong' }))).toBe(400);
  });

  it('namespaces (X-Vault-Namespace) are separate stores', async () => {
    const p = fresh();
    const ns = nodeVault({ endpoint: emu.url, token: 'root', namespace: 'team-a', noCustomHTTPVerbs: true });
    await ns.write(`secret/data/${p}`, { data: { value: 'ns' } });
    expect(await status(vault.read(`secret/data/${p}`))).toBe(404);
    expect(emu.kv('team-a').secrets.has(p)).toBe(true);
    expect(emu.state.secrets.has(p)).toBe(false);
  });

  it('injects faults: 429 with Retry-After, 503, latency, dropped connections', async () => {
    const p = fresh();
    emu.faults.set({ throttle: true, retryAfterSeconds: 4, times: 1 });
    const throttled = await vault.read(`secret/data/${p}`).catch((e) => e);
    expect(throttled.response.statusCode).toBe(429);
    expect(throttled.response.body.errors[0]).toContain('rate limit quota exceeded');
    emu.faults.set({ status: 503, times: 1 });
    expect(await status(vault.read(`secret/data/${p}`))).toBe(503);
    emu.faults.set({ drop: true, times: 1 });
    const dropped = await vault.read(`secret/data/${p}`).catch((e) => e);
    expect(dropped.response).toBeUndefined();
    expect(dropped.code).toBe('ECONNRESET');
    emu.faults.set({ latencyMs: 300, times: 1 });
    const slow = nodeVault({
      endpoint: emu.url,
      token: 'root',
      noCustomHTTPVerbs: true,
      requestOptions: { timeout: 100 },
    });
    const timedOut = await slow.read(`secret/data/${p}`).catch((e) => e);
    expect(timedOut.code).toBe('ECONNABORTED');
    expect(await status(vault.read(`secret/data/${p}`))).toBe(404);
  });
});

describe('Vault emulator: engine config and auth methods (node-vault)', () => {
  it('<mount>/config: the engine-wide max_versions and cas_required apply to every secret', async () => {
    const e = await startVaultEmulator({ mount: 'kv', maxVersions: 3 });
    try {
      const v = nodeVault({ endpoint: e.url, token: 'root', noCustomHTTPVerbs: true });
      expect((await v.read('kv/config')).data).toMatchObject({ max_versions: 3, cas_required: false });
      expect((await vault.read('secret/config')).data).toMatchObject({ max_versions: 0 });
      for (let i = 1; i <= 4; i++) await v.write('kv/data/p', { data: { value: `v${i}` } });
      expect(Object.keys((await v.read('kv/metadata/p')).data.versions)).toEqual(['2', '3', '4']);
      await v.write('kv/config', { cas_required: true, max_versions: 5 });
      const error = await v.write('kv/data/p', { data: { value: 'x' } }).catch((x) => x);
      expect(error.message).toBe('check-and-set parameter required for this call');
      expect((await v.write('kv/data/p', { data: { value: 'x' }, options: { cas: 4 } })).data.version).toBe(
        5,
      );
      expect(await status(v.read('secret/data/p'))).toBe(404);
    } finally {
      await e.stop();
    }
  });

  it('AppRole at a custom mount and Kubernetes login issue tokens; wrong credentials fail as in Vault', async () => {
    const e = await startVaultEmulator({
      approle: { roleId: 'r', secretId: 's', mount: 'approle-gw' },
      kubernetes: { role: 'gw', jwt: 'a.b.c' },
      tokenTtlSeconds: 60,
    });
    try {
      const k8s = nodeVault({ endpoint: e.url, noCustomHTTPVerbs: true });
      // node-vault 0.12.0 renders its default Kubernetes mount as empty (`auth//login`): pass it.
      const login = await k8s.kubernetesLogin({ role: 'gw', jwt: 'a.b.c', mount_point: 'kubernetes' });
      expect(login.auth.lease_duration).toBe(60);
      expect((await k8s.write('secret/data/k8s', { data: { value: '1' } })).data.version).toBe(1);
      const bad = nodeVault({ endpoint: e.url, noCustomHTTPVerbs: true });
      expect(await status(bad.kubernetesLogin({ role: 'gw', jwt: 'x.y.z', mount_point: 'kubernetes' }))).toBe(
        403,
      );
      expect(
        await status(bad.kubernetesLogin({ role: 'other', jwt: 'a.b.c', mount_point: 'kubernetes' })),
      ).toBe(400);
      expect(await status(bad.approleLogin({ role_id: 'r', secret_id: 's' }))).toBe(404);
      const app = nodeVault({ endpoint: e.url, noCustomHTTPVerbs: true });
      await app.approleLogin({ role_id: 'r', secret_id: 's', mount_point: 'approle-gw' });
      expect(await status(app.read('secret/data/k8s'))).toBe(200);
      e.tokens.revokeIssued();
      expect(await status(app.read('secret/data/k8s'))).toBe(403);
      expect(await status(k8s.read('secret/data/k8s'))).toBe(403);
    } finally {
      await e.stop();
    }
  });
});

describe('sgw-emulator vault', () => {
  it('prints one JSON line with url and token when ready, serves, and stops on SIGTERM', async () => {
    const bin = resolve(import.meta.dirname, '../bin/sgw-emulator.mjs');
    const child = spawn(process.execPath, [bin, 'vault', '--port', '0', '--token', 'tok-1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = await new Promise<string>((resolveLine, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolveLine(out.split('\n')[0] as string);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const info = JSON.parse(line) as { url: string; token: string; emulator: string };
    expect(info).toMatchObject({
      emulator: 'vault',
      token: 'tok-1',
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    });
    const client = nodeVault({ endpoint: info.url, token: 'tok-1', noCustomHTTPVerbs: true });
    expect((await client.write('secret/data/bin/x', { data: { value: '1' } })).data.version).toBe(1);
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});

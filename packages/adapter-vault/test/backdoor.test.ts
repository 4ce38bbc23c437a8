import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVaultEmulator, type VaultEmulator } from '@secret-gateway/emulators/vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromEnv, VaultAdapter } from '../src/index.ts';

// Reads the emulator's state directly to prove what the adapter stored.
let emu: VaultEmulator;
beforeAll(async () => {
  emu = await startVaultEmulator({
    approle: { roleId: 'gw-role', secretId: 'gw-secret' },
    kubernetes: { role: 'gw', jwt: 'header.payload.signature' },
  });
});
afterAll(() => emu.stop());

const adapter = () => new VaultAdapter({ endpoint: emu.url, auth: { token: emu.token } });

describe('what the Vault adapter stores', () => {
  it('keeps the path as the KV path under the mount, the value in a "value" field', async () => {
    await adapter().write('tfy-secret/acme/prod/db-password', 'v1');
    const secret = emu.state.secrets.get('tfy-secret/acme/prod/db-password');
    expect(secret?.versions.get(1)?.data).toEqual({ value: 'v1' });
  });

  it('sets max_versions explicitly so Vault does not keep only 10 versions', async () => {
    const a = adapter();
    for (let i = 1; i <= 15; i++) await a.write('tfy-secret/bd/many', `v${i}`);
    const secret = emu.state.secrets.get('tfy-secret/bd/many');
    expect(secret?.maxVersions).toBe(2_147_483_647);
    expect(secret?.versions.size).toBe(15);
    expect(await a.read('tfy-secret/bd/many', 1)).toEqual({ value: 'v1', version: 1 });
  });

  it('keeps every version even on an engine configured to keep 10', async () => {
    const ten = await startVaultEmulator({ maxVersions: 10 });
    try {
      const a = new VaultAdapter({ endpoint: ten.url, auth: { token: ten.token } });
      for (let i = 1; i <= 12; i++) await a.write('tfy-secret/bd/engine10', `v${i}`);
      expect(ten.state.secrets.get('tfy-secret/bd/engine10')?.versions.size).toBe(12);
      expect(await a.read('tfy-secret/bd/engine10', 1)).toEqual({ value: 'v1', version: 1 });
    } finally {
      await ten.stop();
    }
  });

  it('honours a configured retention (SGW_VAULT_MAX_VERSIONS)', async () => {
    const a = fromEnv({ VAULT_ADDR: emu.url, VAULT_TOKEN: emu.token, SGW_VAULT_MAX_VERSIONS: '3' });
    for (let i = 1; i <= 5; i++) await a.write('tfy-secret/bd/kept3', `v${i}`);
    expect(emu.state.secrets.get('tfy-secret/bd/kept3')?.maxVersions).toBe(3);
    expect([...(emu.state.secrets.get('tfy-secret/bd/kept3')?.versions.keys() ?? [])]).toEqual([3, 4, 5]);
    expect(await a.read('tfy-secret/bd/kept3', 1)).toBeNull();
  });

  it('destroys a deleted version (data gone, cannot be undeleted) and deletes metadata on delete-all', async () => {
    const a = adapter();
    await a.write('tfy-secret/bd/del', 'one');
    await a.write('tfy-secret/bd/del', 'two');
    expect(await a.deleteVersion('tfy-secret/bd/del', 2)).toBe(true);
    const v2 = emu.state.secrets.get('tfy-secret/bd/del')?.versions.get(2);
    expect(v2).toMatchObject({ destroyed: true, data: null });
    emu.state.undelete('tfy-secret/bd/del', [2]);
    expect(await a.read('tfy-secret/bd/del', 2)).toBeNull();
    expect(await a.deleteSecret('tfy-secret/bd/del')).toBe(true);
    expect(emu.state.secrets.has('tfy-secret/bd/del')).toBe(false);
  });

  it('treats a version soft-deleted by someone else in Vault as deleted, and skips it for latest', async () => {
    const a = adapter();
    await a.write('tfy-secret/bd/soft', 'one');
    await a.write('tfy-secret/bd/soft', 'two');
    emu.state.softDelete('tfy-secret/bd/soft', [2]);
    expect(await a.read('tfy-secret/bd/soft', undefined)).toEqual({ value: 'one', version: 1 });
    expect(await a.deleteVersion('tfy-secret/bd/soft', 2)).toBe(false);
    expect(await a.write('tfy-secret/bd/soft', 'three')).toBe(3);
  });

  it('a concurrent writer outside the gateway makes the write retry, not overwrite (check-and-set)', async () => {
    const a = adapter();
    await a.write('tfy-secret/bd/cas', 'mine');
    // Someone else writes between our metadata read and our write: simulate by writing through the backdoor
    // with the version the adapter will have read, then check the adapter's CAS write is refused.
    emu.state.write('tfy-secret/bd/cas', { value: 'theirs' }, 1);
    expect(await a.write('tfy-secret/bd/cas', 'mine-2')).toBe(3);
    expect(emu.state.secrets.get('tfy-secret/bd/cas')?.versions.get(2)?.data).toEqual({ value: 'theirs' });
  });

  it('refuses to serve a secret that was not written by the gateway, with a clear error', async () => {
    emu.state.write('tfy-secret/bd/foreign', { username: 'x', password: 'y' }, undefined);
    await expect(adapter().read('tfy-secret/bd/foreign', undefined)).rejects.toMatchObject({
      code: 'backend_error',
      message: expect.stringContaining('has no string "value" field'),
    });
  });

  it('logs in with AppRole and uses a namespace', async () => {
    const a = fromEnv({
      VAULT_ADDR: emu.url,
      VAULT_ROLE_ID: 'gw-role',
      VAULT_SECRET_ID: 'gw-secret',
      VAULT_NAMESPACE: 'team-a',
    });
    expect(await a.write('tfy-secret/bd/approle', 'x')).toBe(1);
    expect(emu.kv('team-a').secrets.has('tfy-secret/bd/approle')).toBe(true);
    expect(emu.state.secrets.has('tfy-secret/bd/approle')).toBe(false);
    const wrong = fromEnv({ VAULT_ADDR: emu.url, VAULT_ROLE_ID: 'gw-role', VAULT_SECRET_ID: 'nope' });
    await expect(wrong.read('tfy-secret/bd/approle', undefined)).rejects.toMatchObject({
      code: 'backend_error',
      reason: 'denied',
      message: expect.stringContaining('AppRole login refused (400)'),
    });
  });

  it('logs in again when Vault stops accepting the login token (expired or revoked)', async () => {
    const a = new VaultAdapter({
      endpoint: emu.url,
      auth: { roleId: 'gw-role', secretId: 'gw-secret' },
      minReloginIntervalMs: 0,
    });
    expect(await a.write('tfy-secret/bd/relogin', 'x')).toBe(1);
    const before = emu.tokens.logins;
    emu.tokens.revokeIssued();
    expect(await a.read('tfy-secret/bd/relogin', undefined)).toEqual({ value: 'x', version: 1 });
    expect(emu.tokens.logins).toBe(before + 1);
    // Many calls refused at once share one new login.
    emu.tokens.revokeIssued();
    const reads = await Promise.all(
      Array.from({ length: 10 }, () => a.read('tfy-secret/bd/relogin', undefined)),
    );
    expect(reads.every((r) => r?.value === 'x')).toBe(true);
    expect(emu.tokens.logins).toBe(before + 2);
  });

  it('does not log in again on a 403 right after a login (a policy denial must not mint a token per request)', async () => {
    const a = fromEnv({ VAULT_ADDR: emu.url, VAULT_ROLE_ID: 'gw-role', VAULT_SECRET_ID: 'gw-secret' });
    expect(await a.write('tfy-secret/bd/no-storm', 'x')).toBe(1);
    const before = emu.tokens.logins;
    emu.tokens.revokeIssued();
    for (let i = 0; i < 3; i++) {
      await expect(a.read('tfy-secret/bd/no-storm', undefined)).rejects.toMatchObject({ reason: 'denied' });
    }
    expect(emu.tokens.logins).toBe(before);
  });

  it('logs in with Kubernetes auth at its default mount, reading the service-account JWT from its file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgw-vault-k8s-'));
    writeFileSync(join(dir, 'token'), 'header.payload.signature\n');
    const env = {
      VAULT_ADDR: emu.url,
      VAULT_K8S_ROLE: 'gw',
      VAULT_K8S_TOKEN_FILE: join(dir, 'token'),
    };
    expect(await fromEnv(env).write('tfy-secret/bd/k8s', 'x')).toBe(1);
    expect(emu.state.secrets.get('tfy-secret/bd/k8s')?.versions.get(1)?.data).toEqual({ value: 'x' });
    writeFileSync(join(dir, 'token'), 'stale.jwt.value');
    await expect(fromEnv(env).read('tfy-secret/bd/k8s', undefined)).rejects.toMatchObject({
      code: 'backend_error',
      reason: 'denied',
    });
  });

  it('writes with check-and-set, so a mount with cas_required works unchanged', async () => {
    const emu2 = await startVaultEmulator({ mount: 'kv/team-a' });
    try {
      emu2.state.mountCasRequired = true;
      const a = fromEnv({ VAULT_ADDR: emu2.url, VAULT_TOKEN: emu2.token, SGW_VAULT_MOUNT: 'kv/team-a' });
      expect(await a.write('tfy-secret/bd/cas-required', 'a')).toBe(1);
      expect(await a.write('tfy-secret/bd/cas-required', 'b')).toBe(2);
      expect(emu2.state.secrets.get('tfy-secret/bd/cas-required')?.currentVersion).toBe(2);
    } finally {
      await emu2.stop();
    }
  });

  it('a first write that failed after setting max_versions leaves no secret behind', async () => {
    emu.state.writeMetadata('tfy-secret/bd/half', { max_versions: 5 });
    const a = adapter();
    expect(await a.read('tfy-secret/bd/half', undefined)).toBeNull();
    expect(await a.deleteSecret('tfy-secret/bd/half')).toBe(false);
    expect(emu.state.secrets.has('tfy-secret/bd/half')).toBe(false);
    expect(await a.write('tfy-secret/bd/half', 'x')).toBe(1);
  });

  it('fromEnv names the missing variables', () => {
    expect(() => fromEnv({})).toThrow(/needs VAULT_ADDR/);
    expect(() => fromEnv({ VAULT_ADDR: emu.url })).toThrow(
      /needs VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID \(AppRole\), or VAULT_K8S_ROLE/,
    );
    expect(() => fromEnv({ VAULT_ADDR: emu.url, VAULT_ROLE_ID: 'r' })).toThrow(/needs VAULT_SECRET_ID/);
    expect(() => fromEnv({ VAULT_ADDR: emu.url, VAULT_TOKEN: 't', SGW_VAULT_MAX_VERSIONS: '-1' })).toThrow(
      /SGW_VAULT_MAX_VERSIONS/,
    );
  });
});

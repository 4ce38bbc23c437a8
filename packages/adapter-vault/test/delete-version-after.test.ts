import { SecretService } from '@secret-gateway/core';
import { startVaultEmulator, type VaultEmulator } from '@secret-gateway/emulators/vault';
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultAdapter } from '../src/index.ts';

// delete_version_after (on the mount's config or on one secret) gives every live version a future
// deletion_time; Vault still serves it until then (vault-plugin-secrets-kv path_data.go).
let emu: VaultEmulator;
let vault: nodeVault.client;
let service: SecretService;
let n = 0;
const fresh = () => `tfy-secret/dva/${++n}-${Date.now()}`;
beforeAll(async () => {
  emu = await startVaultEmulator();
  vault = nodeVault({ endpoint: emu.url, token: emu.token, noCustomHTTPVerbs: true });
  service = new SecretService(new VaultAdapter({ endpoint: emu.url, auth: { token: emu.token } }));
});
afterAll(() => emu.stop());

describe('Vault delete_version_after', () => {
  it('on the mount: live versions with a future deletion_time read, delete and fall back as live', async () => {
    await vault.write('secret/config', { delete_version_after: '1h' });
    try {
      const path = fresh();
      await service.put(path, 'one');
      await service.put(path, 'two');
      expect((await vault.read(`secret/metadata/${path}`)).data.versions['2'].deletion_time).not.toBe('');
      expect(await service.get(path)).toMatchObject({ value: 'two', version: 2 });
      await service.delete(path, 2);
      expect(await service.get(path)).toMatchObject({ value: 'one', version: 1 });
      await expect(service.delete(path, 2)).rejects.toMatchObject({ code: 'not_found' });
    } finally {
      await vault.write('secret/config', { delete_version_after: 0 });
    }
  });

  it('on one secret: the same; a deletion_time already past is deleted', async () => {
    const path = fresh();
    await service.put(path, 'one');
    await vault.write(`secret/metadata/${path}`, { delete_version_after: 3600 });
    await service.put(path, 'two');
    await service.put(path, 'three');
    await service.delete(path, 3);
    expect(await service.get(path)).toMatchObject({ value: 'two', version: 2 });
    // Version 2's time runs out (as if an hour had passed): latest falls back to version 1.
    const entry = emu.state.secrets.get(path)?.versions.get(2);
    if (!entry) throw new Error('version 2 missing');
    entry.deletionTime = new Date(Date.now() - 1000).toISOString();
    expect(await service.get(path)).toMatchObject({ value: 'one', version: 1 });
    await expect(service.delete(path, 2)).rejects.toMatchObject({ code: 'not_found' });
  });
});

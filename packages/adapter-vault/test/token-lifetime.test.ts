import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretService } from '@secret-gateway/core';
import { startVaultEmulator, type VaultEmulator } from '@secret-gateway/emulators/vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultAdapter, type VaultAuth } from '../src/index.ts';

// Tokens that expire, as Vault's do: the emulator issues login tokens with a 1 s TTL and refuses
// a token past its TTL with 403 permission denied.
let emu: VaultEmulator;
const jwtFile = join(tmpdir(), `sgw-vault-jwt-${process.pid}`);
beforeAll(async () => {
  writeFileSync(jwtFile, 'jwt-1');
  emu = await startVaultEmulator({
    tokenTtlSeconds: 1,
    approle: { roleId: 'role', secretId: 'secret' },
    kubernetes: { role: 'gateway', jwt: 'jwt-1' },
  });
});
afterAll(() => emu.stop());

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls through the service every 100 ms until `until()` holds; every call must succeed. */
async function keepCalling(service: SecretService, path: string, until: () => boolean): Promise<number> {
  let calls = 0;
  for (; !until(); calls++) {
    expect((await service.get(path)).value).toBe('v');
    await pause(100);
  }
  return calls;
}

describe('Vault tokens that expire', () => {
  const logins: Array<[string, VaultAuth]> = [
    ['AppRole', { roleId: 'role', secretId: 'secret' }],
    ['Kubernetes', { kubernetesRole: 'gateway', jwtFile }],
  ];
  for (const [name, auth] of logins) {
    it(`${name}: the adapter logs in again before its token expires and keeps working`, async () => {
      const service = new SecretService(new VaultAdapter({ endpoint: emu.url, auth }));
      const path = `tfy-secret/ttl/${name}-${Date.now()}`;
      await service.put(path, 'v');
      const first = emu.tokens.logins;
      // Past the first token's whole TTL: a second login must have happened, and no call failed.
      await keepCalling(service, path, () => emu.tokens.logins >= first + 2);
    });
  }

  it('a renewable static token is renewed (renew-self) and keeps working past its first TTL', async () => {
    const token = emu.tokens.create({ ttlSeconds: 1, renewable: true });
    const warnings: string[] = [];
    const service = new SecretService(
      new VaultAdapter({ endpoint: emu.url, auth: { token }, onWarning: (m) => warnings.push(m) }),
    );
    const path = `tfy-secret/ttl/static-${Date.now()}`;
    await service.put(path, 'v');
    const renewalsBefore = emu.tokens.renewals;
    const created = Date.now();
    // Two seconds on, the token would have expired twice over without renewal.
    await keepCalling(service, path, () => Date.now() - created > 2000);
    expect(emu.tokens.renewals).toBeGreaterThan(renewalsBefore);
    expect(emu.tokens.valid(token)).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('a static token that is not renewable, or whose renewals reach its max TTL, is warned about once', async () => {
    const plain = emu.tokens.create({ ttlSeconds: 3600, renewable: false });
    const warnings: string[] = [];
    const adapter = new VaultAdapter({
      endpoint: emu.url,
      auth: { token: plain },
      onWarning: (m) => warnings.push(m),
    });
    await adapter.read('tfy-secret/ttl/none', undefined);
    await expect.poll(() => warnings).toHaveLength(1);
    await adapter.read('tfy-secret/ttl/none', undefined);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/not renewable/);
    expect(warnings[0]).not.toContain(plain);

    const capped = emu.tokens.create({ ttlSeconds: 2, renewable: true, maxTtlSeconds: 2 });
    const cappedWarnings: string[] = [];
    const cappedAdapter = new VaultAdapter({
      endpoint: emu.url,
      auth: { token: capped },
      onWarning: (m) => cappedWarnings.push(m),
    });
    await expect
      .poll(
        async () => {
          await cappedAdapter.read('tfy-secret/ttl/none', undefined);
          return cappedWarnings;
        },
        { timeout: 4000, interval: 100 },
      )
      .toHaveLength(1);
    expect(cappedWarnings[0]).toMatch(/max TTL/);
    expect(cappedWarnings[0]).not.toContain(capped);
  });
});

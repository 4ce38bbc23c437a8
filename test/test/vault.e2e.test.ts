import { startVaultEmulator, type VaultEmulator } from '@secret-gateway/emulators/vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, runSeedCurlSequence, startGateway } from '../src/index.ts';

// The gateway process with SGW_BACKEND=vault against the Vault emulator, over real HTTP.
let emu: VaultEmulator;
let gw: GatewayProcess;
beforeAll(async () => {
  emu = await startVaultEmulator({ approle: { roleId: 'gw-role', secretId: 'gw-secret' } });
  // Real services are never instant: a small standing latency lets ordering assumptions surface.
  emu.faults.setLatency(2);
  gw = await startGateway({
    env: {
      SGW_BACKEND: 'vault',
      VAULT_ADDR: emu.url,
      VAULT_TOKEN: emu.token,
      SGW_BACKEND_TIMEOUT_MS: '800',
      SGW_CACHE: 'off',
    },
  });
});
afterAll(async () => {
  await gw.stop();
  await emu.stop();
});

const get = (query: string) => fetch(`${gw.url}/secrets?${query}`, { headers: { 'X-API-Key': gw.apiKey } });

describe('gateway on Vault', () => {
  it('serves the seed curl sequence, stored where Vault users expect it', async () => {
    await runSeedCurlSequence(gw);
    expect(emu.kv().secrets.get('tfy-secret/acme/prod/db-password')?.currentVersion).toBe(1);
  });

  // A backend that takes 60 s would outlast the test's timeout: answering at all proves the deadline.
  it('answers 503 with Retry-After while Vault is down, slow or failing, and recovers', async () => {
    for (const fault of [{ status: 503 }, { latencyMs: 60_000 }, { drop: true }, { throttle: true }]) {
      emu.faults.set(fault);
      const res = await get('path=tfy-secret');
      expect(res.status, JSON.stringify(fault)).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await res.json()).toMatchObject({ statusCode: 503, code: 'backend_unavailable' });
      emu.faults.clear();
    }
    expect((await get('path=tfy-secret')).status).toBe(200);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
  });

  it("passes Vault's own Retry-After on throttling through to the client", async () => {
    emu.faults.set({ throttle: true, retryAfterSeconds: 7 });
    const res = await get(`path=tfy-secret/e2e/${Date.now()}`);
    emu.faults.clear();
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
  });

  it('answers 503 while Vault is down entirely, and serves again once it is back', async () => {
    const port = Number(new URL(emu.url).port);
    const path = `tfy-secret/e2e/down-${Date.now()}`;
    const put = await fetch(`${gw.url}/secrets`, {
      method: 'PUT',
      headers: { 'X-API-Key': gw.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ path, value: 'kept' }),
    });
    expect(put.status).toBe(200);
    await emu.stop();
    const res = await get(`path=${path}`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await get('path=tfy-secret')).status).toBe(503);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
    // Vault comes back on the same address (its storage restored through the backdoor).
    emu = await startVaultEmulator({ port, approle: { roleId: 'gw-role', secretId: 'gw-secret' } });
    emu.state.write(path, { value: 'kept' }, undefined);
    const back = await get(`path=${path}`);
    expect(back.status).toBe(200);
    expect(await back.json()).toMatchObject({ path, version: 1, value: 'kept' });
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
  });

  it('logs in with AppRole when configured with VAULT_ROLE_ID and VAULT_SECRET_ID', async () => {
    const approle = await startGateway({
      env: {
        SGW_BACKEND: 'vault',
        VAULT_ADDR: emu.url,
        VAULT_TOKEN: '', // a token in the developer's shell would take precedence
        VAULT_ROLE_ID: 'gw-role',
        VAULT_SECRET_ID: 'gw-secret',
        SGW_BACKEND_TIMEOUT_MS: '800',
      },
    });
    try {
      const path = `tfy-secret/e2e/approle-${Date.now()}`;
      const put = await fetch(`${approle.url}/secrets`, {
        method: 'PUT',
        headers: { 'X-API-Key': approle.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ path, value: 'via-approle' }),
      });
      expect(await put.json()).toEqual({ path, version: 1 });
      expect(emu.state.secrets.get(path)?.versions.get(1)?.data).toEqual({ value: 'via-approle' });
      expect(emu.tokens.logins).toBeGreaterThanOrEqual(1);
    } finally {
      await approle.stop();
    }
  });

  it('answers 503 when Vault was never reachable', async () => {
    const down = await startGateway({
      env: {
        SGW_BACKEND: 'vault',
        VAULT_ADDR: 'http://127.0.0.1:9',
        VAULT_TOKEN: 't',
        SGW_BACKEND_TIMEOUT_MS: '800',
      },
    });
    try {
      const res = await fetch(`${down.url}/secrets?path=tfy-secret`, {
        headers: { 'X-API-Key': down.apiKey },
      });
      expect(res.status).toBe(503);
      expect((await fetch(`${down.url}/readyz`)).status).toBe(503);
    } finally {
      await down.stop();
    }
  });
});

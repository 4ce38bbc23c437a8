import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AzureEmulator, startAzureEmulator } from '@secret-gateway/emulators/azure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, runSeedCurlSequence, startGateway } from '../src/index.ts';

// The gateway process with SGW_BACKEND=azure against the emulator over HTTPS: the emulator's
// certificate reaches the gateway through SGW_AZURE_CA_FILE, the token through SGW_AZURE_ACCESS_TOKEN.
let purgeable: AzureEmulator;
let guarded: AzureEmulator;
const started: GatewayProcess[] = [];
const caFiles = new Map<AzureEmulator, string>();
beforeAll(async () => {
  purgeable = await startAzureEmulator({ purgeBusyMs: 100, recoverBusyMs: 100 });
  guarded = await startAzureEmulator({ purgeProtection: true, recoverBusyMs: 100 });
  // Real services are never instant: a small standing latency lets ordering assumptions surface.
  for (const emu of [purgeable, guarded]) emu.faults.setLatency(2);
  const dir = mkdtempSync(join(tmpdir(), 'sgw-e2e-azure-'));
  for (const [i, emu] of [purgeable, guarded].entries()) {
    const file = join(dir, `ca-${i}.pem`);
    writeFileSync(file, emu.certPem ?? '');
    caFiles.set(emu, file);
  }
});
afterAll(async () => {
  for (const gw of started) await gw.stop();
  await purgeable.stop();
  await guarded.stop();
});

let shared: Promise<GatewayProcess> | undefined;
/** One gateway on the purgeable vault for the tests that need nothing special (start-up costs ~2 s). */
const sharedGateway = () => {
  shared ??= gateway(purgeable);
  return shared;
};

async function gateway(emu: AzureEmulator, extra: Record<string, string> = {}) {
  const gw = await startGateway({
    env: {
      SGW_BACKEND: 'azure',
      AZURE_KEYVAULT_URL: emu.vaultUrl,
      SGW_AZURE_ACCESS_TOKEN: 'e2e-token',
      SGW_AZURE_CA_FILE: caFiles.get(emu) ?? '',
      SGW_AZURE_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: 'true',
      SGW_AZURE_MAX_RETRIES: '0',
      SGW_BACKEND_TIMEOUT_MS: '1500',
      SGW_CACHE: 'off',
      ...extra,
    },
  });
  started.push(gw);
  return gw;
}

describe('gateway on Azure Key Vault', () => {
  it('serves the seed curl sequence, delete-then-recreate included (purge allowed)', async () => {
    const gw = await sharedGateway();
    await runSeedCurlSequence(gw, 'tfy-secret/acme/prod/db-password');
    expect(purgeable.state.deleted.size).toBe(0);
  });

  it('serves the seed curl sequence under purge protection (recover into a new generation)', async () => {
    const gw = await gateway(guarded);
    const path = 'tfy-secret/acme/prod/DB_Password';
    await runSeedCurlSequence(gw, path);
    const auth = { [gw.headerName]: gw.apiKey };
    const latest = await fetch(`${gw.url}/secrets?path=${path}`, { headers: auth });
    expect(await latest.json()).toEqual({ path, version: 1, value: 'fresh' });
    // The recovered secret still holds generation 1 in Azure, hidden behind generation 2.
    const versions = [
      ...(guarded.state.secrets.get('tfy-0secret--acme--prod---d-b-1-password')?.versions.values() ?? []),
    ];
    expect(versions.map((v) => v.tags['sgw-gen']).sort()).toEqual(['1', '1', '2', '2']);
  });

  it('warns at start that a fixed access token is for development only', async () => {
    const gw = await sharedGateway();
    const warned = gw
      .output()
      .split('\n')
      .filter((l) => l.includes('"level":40') && l.includes('SGW_AZURE_ACCESS_TOKEN is a fixed token'));
    expect(warned).toHaveLength(1);
  });

  it('answers 413 for a value over 25,000 bytes without calling Azure', async () => {
    const gw = await sharedGateway();
    const res = await fetch(`${gw.url}/secrets`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', [gw.headerName]: gw.apiKey },
      body: JSON.stringify({ path: 'tfy-secret/acme/big', value: 'x'.repeat(25_001) }),
    });
    expect(res.status).toBe(413);
    expect(purgeable.state.secrets.has('tfy-0secret--acme--big')).toBe(false);
  });

  // A backend that takes 60 s would outlast the test's timeout: answering at all proves the deadline.
  it('answers 503 with Retry-After on throttling, 5xx, dropped connections and slowness, then recovers', async () => {
    const gw = await sharedGateway();
    const get = () => fetch(`${gw.url}/secrets?path=tfy-secret`, { headers: { 'X-API-Key': gw.apiKey } });
    expect((await get()).status).toBe(200);
    for (const fault of [
      { throttle: true, retryAfterSeconds: 3 },
      { status: 500 },
      { drop: true },
      { latencyMs: 60_000 },
    ]) {
      purgeable.faults.set(fault);
      const res = await get();
      expect(res.status, JSON.stringify(fault)).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      if (fault.throttle) expect(res.headers.get('retry-after')).toBe('3');
      purgeable.faults.clear();
    }
    expect((await get()).status).toBe(200);
  });
});

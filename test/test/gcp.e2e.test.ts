import { type GcpEmulator, startGcpEmulator } from '@secret-gateway/emulators/gcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, runSeedCurlSequence, startGateway } from '../src/index.ts';

// The gateway process with SGW_BACKEND=gcp against the gRPC emulator, over real HTTP.
let emu: GcpEmulator;
let gw: GatewayProcess;
beforeAll(async () => {
  emu = await startGcpEmulator({ project: 'e2e-project' });
  gw = await startGateway({
    env: {
      SGW_BACKEND: 'gcp',
      GOOGLE_CLOUD_PROJECT: 'e2e-project',
      SGW_GCP_ENDPOINT: emu.url,
      SGW_GCP_INSECURE: 'true',
      SGW_GCP_ACCESS_TOKEN: emu.token,
      SGW_BACKEND_TIMEOUT_MS: '1000',
      SGW_CACHE: 'off',
    },
  });
});
afterAll(async () => {
  await gw.stop();
  await emu.stop();
});

describe('gateway on GCP Secret Manager', () => {
  it('serves the seed curl sequence', async () => {
    await runSeedCurlSequence(gw);
    expect(emu.state.secrets.get('tfy-secret_2facme_2fprod_2fdb-password')?.versions.size).toBe(1);
  });

  it('serves the version below when the newest is destroyed', async () => {
    const headers = { 'X-API-Key': gw.apiKey, 'Content-Type': 'application/json' };
    const path = 'tfy-secret/acme/prod/rotated';
    for (const value of ['one', 'two']) {
      await fetch(`${gw.url}/secrets`, { method: 'PUT', headers, body: JSON.stringify({ path, value }) });
    }
    await fetch(`${gw.url}/secrets`, {
      method: 'DELETE',
      headers,
      body: JSON.stringify({ path, version: 2 }),
    });
    const res = await fetch(`${gw.url}/secrets?path=${path}`, { headers });
    expect(await res.json()).toEqual({ path, version: 1, value: 'one' });
  });

  // A backend that takes 60 s would outlast the test's timeout: answering at all proves the deadline.
  it('answers 503 with Retry-After on throttling, unavailability and slowness, then recovers', async () => {
    const get = () => fetch(`${gw.url}/secrets?path=tfy-secret`, { headers: { 'X-API-Key': gw.apiKey } });
    for (const fault of [{ throttle: true }, { status: 503 }, { latencyMs: 60_000 }]) {
      emu.faults.set(fault);
      const res = await get();
      expect(res.status, JSON.stringify(fault)).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      emu.faults.clear();
    }
    expect((await get()).status).toBe(200);
  });
});

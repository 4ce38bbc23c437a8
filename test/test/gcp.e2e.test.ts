import { randomUUID } from 'node:crypto';
import { type GcpEmulator, startGcpEmulator } from '@secret-gateway/emulators/gcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, runSeedCurlSequence, startGateway } from '../src/index.ts';

// The gateway process with SGW_BACKEND=gcp against the gRPC emulator, configured only through the
// environment a deployment would use (the emulator endpoint instead of Google's, a fixed token).
let emu: GcpEmulator;
let gw: GatewayProcess;
const TIMEOUT_MS = 1000;
beforeAll(async () => {
  emu = await startGcpEmulator({ project: 'e2e-project' });
  // Real services are never instant: a small standing latency lets ordering assumptions surface.
  emu.faults.setLatency(2);
  gw = await startGateway({
    env: {
      SGW_BACKEND: 'gcp',
      GOOGLE_CLOUD_PROJECT: 'e2e-project',
      SGW_GCP_ENDPOINT: emu.url,
      SGW_GCP_INSECURE: 'true',
      SGW_GCP_ACCESS_TOKEN: emu.token,
      SGW_GCP_LABELS: 'env=e2e',
      SGW_BACKEND_TIMEOUT_MS: String(TIMEOUT_MS),
      SGW_CACHE: 'off',
    },
  });
});
afterAll(async () => {
  await gw?.stop();
  await emu?.stop();
});

const auth = () => ({ [gw.headerName]: gw.apiKey });
const json = () => ({ 'Content-Type': 'application/json', ...auth() });
/** The documented naming scheme (docs/backends/gcp.md): `_` + hex for every byte but [A-Za-z0-9-]. */
const secretId = (path: string) =>
  [...Buffer.from(path)]
    .map((b) => String.fromCharCode(b))
    .map((c) => (/[A-Za-z0-9-]/.test(c) ? c : `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`))
    .join('');
const randomPath = () => `tfy-secret/e2e/${randomUUID().slice(0, 8)}`;
const put = (path: string, value: string) =>
  fetch(`${gw.url}/secrets`, { method: 'PUT', headers: json(), body: JSON.stringify({ path, value }) });
const get = (path: string) =>
  fetch(`${gw.url}/secrets?path=${encodeURIComponent(path)}`, { headers: auth() });

describe('gateway on GCP Secret Manager', () => {
  it('warns at start that a fixed access token is for development only', () => {
    const warned = gw
      .output()
      .split('\n')
      .filter((l) => l.includes('"level":40') && l.includes('SGW_GCP_ACCESS_TOKEN is a fixed token'));
    expect(warned).toHaveLength(1);
  });

  it('serves the seed curl sequence; the secret lives under its escaped id with the configured labels', async () => {
    const path = 'tfy-secret/acme/prod/db-password';
    await runSeedCurlSequence(gw, path);
    const secret = emu.state.secrets.get('tfy-secret_2facme_2fprod_2fdb-password');
    expect(secret?.labels).toEqual({ env: 'e2e', 'managed-by': 'secret-gateway' });
    expect(secret?.versions.size).toBe(1); // re-created after the sequence's delete-all: version 1 again
  });

  it('serves the version below when the newest is destroyed', async () => {
    const path = randomPath();
    for (const value of ['one', 'two']) expect((await put(path, value)).status).toBe(200);
    const del = await fetch(`${gw.url}/secrets`, {
      method: 'DELETE',
      headers: json(),
      body: JSON.stringify({ path, version: 2 }),
    });
    expect(del.status).toBe(200);
    expect(emu.state.secrets.get(secretId(path))?.versions.get(2)?.state).toBe('DESTROYED');
    expect(await (await get(path)).json()).toEqual({ path, version: 1, value: 'one' });
    const three = await put(path, 'three');
    expect(await three.json()).toEqual({ path, version: 3 });
  });

  it('a 1,000-byte path is stored under a hashed id and reads back', async () => {
    const path = `${randomPath()}/${Array.from({ length: 4 }, () => 'p'.repeat(240)).join('/')}`;
    expect(Buffer.byteLength(path)).toBeGreaterThan(980);
    expect((await put(path, 'long')).status).toBe(200);
    expect(await (await get(path)).json()).toEqual({ path, version: 1, value: 'long' });
    const hashed = [...emu.state.secrets.values()].find((s) => s.annotations['sgw-path'] === path);
    expect(hashed?.id).toMatch(/^_x[a-z2-7]{52}$/);
  });

  it('answers 413 for a value over 64 KiB without calling GCP', async () => {
    const path = randomPath();
    const res = await put(path, 'x'.repeat(65_537));
    expect(res.status).toBe(413);
    expect(emu.state.secrets.has(secretId(path))).toBe(false);
  });

  // Answering at all proves the deadline: a 60 s backend would outlast the test's timeout, and the
  // SDK's own retry of AccessSecretVersion would go on for 600 s.
  it('answers 503 with Retry-After on throttling, unavailability, errors, drops and slowness, then recovers', async () => {
    const path = randomPath();
    expect((await put(path, 'v')).status).toBe(200);
    const faults = [
      { throttle: true },
      { status: 503 },
      { status: 500 },
      { drop: true },
      { latencyMs: 60_000 },
    ];
    for (const fault of faults) {
      emu.faults.set(fault);
      for (const res of [await get(path), await put(path, 'w'), await get('tfy-secret')]) {
        expect(res.status, JSON.stringify(fault)).toBe(503);
        expect(res.headers.get('retry-after'), JSON.stringify(fault)).toMatch(/^[1-9]\d*$/);
        expect(await res.json()).toMatchObject({ statusCode: 503, code: 'backend_unavailable' });
      }
      emu.faults.clear();
    }
    expect(await (await get(path)).json()).toMatchObject({ path, value: expect.any(String) });
    expect((await get('tfy-secret')).status).toBe(200);
  }, 30_000);

  it("passes GCP's RetryInfo delay on as Retry-After", async () => {
    const path = randomPath();
    expect((await put(path, 'v')).status).toBe(200);
    emu.faults.set({ throttle: true, retryAfterSeconds: 7 });
    const res = await get(path);
    emu.faults.clear();
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
  });

  it('a denied permission is a 502, not a 503', async () => {
    const path = randomPath();
    expect((await put(path, 'v')).status).toBe(200);
    emu.denied.add('AccessSecretVersion');
    const res = await get(path);
    emu.denied.clear();
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ code: 'backend_error' });
  });

  it('never logs a value', () => {
    expect(gw.output()).not.toContain('my-secret-value');
  });
});

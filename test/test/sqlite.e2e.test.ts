import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, runSeedCurlSequence, startGateway } from '../src/index.ts';

// The gateway as users run it (the bin, default embedded store), over real HTTP.
const started: GatewayProcess[] = [];
afterAll(async () => {
  for (const gw of started) await gw.stop();
});

async function start(env: Record<string, string> = {}, apiKey?: string) {
  const gw = await startGateway({ env, apiKey });
  started.push(gw);
  return gw;
}

describe('embedded store end to end', () => {
  it('serves the seed curl sequence', async () => {
    const gw = await start();
    await runSeedCurlSequence(gw);
  });

  it('generates an API key into <data dir>/api-key (0600) and logs the file path, never the key', async () => {
    const gw = await start({ SGW_API_KEY: '' });
    const file = join(gw.dataDir, 'api-key');
    const key = readFileSync(file, 'utf8').trim();
    expect(key.length).toBeGreaterThanOrEqual(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(gw.output()).toContain(file);
    expect(gw.output()).not.toContain(key);
    const res = await fetch(`${gw.url}/secrets?path=tfy-secret`, { headers: { 'X-API-Key': key } });
    expect(res.status).toBe(200);
  });

  it('keeps acknowledged writes across a restart on the same data directory', async () => {
    const first = await start();
    const headers = { 'X-API-Key': first.apiKey, 'Content-Type': 'application/json' };
    const value = 'restart-canary-4c1f';
    const put = await fetch(`${first.url}/secrets`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ path: 'tfy-secret/restart/x', value }),
    });
    expect(await put.json()).toEqual({ path: 'tfy-secret/restart/x', version: 1 });
    expect(await first.stop()).toBe(0);
    const again = await startGateway({ dataDir: first.dataDir, apiKey: first.apiKey });
    started.push(again);
    const res = await fetch(`${again.url}/secrets?path=tfy-secret/restart/x`, {
      headers: { 'X-API-Key': first.apiKey },
    });
    expect(await res.json()).toEqual({ path: 'tfy-secret/restart/x', version: 1, value });
    for (const gw of [first, again]) expect(gw.output()).not.toContain(value);
  });

  it('stops cleanly on SIGTERM with exit code 0', async () => {
    const gw = await start();
    expect(await gw.stop()).toBe(0);
    expect(gw.output()).toContain('"msg":"stopped"');
  });

  // Three starts of the bin, each compiling the sources: seconds apiece on a busy machine.
  it('refuses to start with a clear message on bad configuration', { timeout: 60_000 }, async () => {
    await expect(start({ PORT: 'eighty' })).rejects.toThrow(/PORT: must be a whole number/);
    await expect(start({ SGW_BACKEND: 'floppy' })).rejects.toThrow(/SGW_BACKEND must be one of/);
    await expect(start({ SGW_MASTER_KEY: 'c2hvcnQ=' })).rejects.toThrow(
      /SGW_MASTER_KEY must be base64 of exactly 32 bytes/,
    );
  });
});

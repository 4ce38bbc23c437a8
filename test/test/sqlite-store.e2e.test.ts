import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyIdOf } from '@secret-gateway/adapter-sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, startGateway } from '../src/index.ts';

// The embedded store as operators run it: restarts with the wrong key, and two gateway processes
// on one data directory (issue 13, items 10 and 12).
const started: GatewayProcess[] = [];
afterAll(async () => {
  for (const gw of started) await gw.stop();
});

async function start(dataDir: string, env: Record<string, string> = {}, apiKey = 'sqlite-store-e2e-key-01') {
  const gw = await startGateway({ dataDir, env, apiKey });
  started.push(gw);
  return gw;
}

function client(gw: GatewayProcess) {
  const headers = { [gw.headerName]: gw.apiKey, 'Content-Type': 'application/json' };
  return {
    put: async (path: string, value: string) =>
      fetch(`${gw.url}/secrets`, { method: 'PUT', headers, body: JSON.stringify({ path, value }) }),
    get: async (path: string, version?: number) =>
      fetch(`${gw.url}/secrets?path=${path}${version === undefined ? '' : `&version=${version}`}`, {
        headers,
      }),
    deleteAll: async (path: string) =>
      fetch(`${gw.url}/secrets`, { method: 'DELETE', headers, body: JSON.stringify({ path }) }),
  };
}

describe('embedded store: keys', () => {
  it('a restart with another SGW_MASTER_KEY exits non-zero with the cause; the right key serves the old secrets', {
    timeout: 60_000,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sgw-keys-'));
    const right = randomBytes(32).toString('base64');
    const first = await start(dataDir, { SGW_MASTER_KEY: right });
    expect((await client(first).put('tfy-secret/keys/db', 'key-canary-91e2')).status).toBe(200);
    expect(await first.stop()).toBe(0);

    const wrong = start(dataDir, { SGW_MASTER_KEY: randomBytes(32).toString('base64') });
    await expect(wrong).rejects.toThrow(/exited with 1 before listening/);
    const output = String(await wrong.catch((e: Error) => e.message));
    expect(output).toContain(keyIdOf(Buffer.from(right, 'base64')));
    expect(output).toMatch(/set SGW_MASTER_KEY to the key they were written with/);
    expect(output).not.toContain('key-canary-91e2');

    const again = await start(dataDir, { SGW_MASTER_KEY: right });
    const res = await client(again).get('tfy-secret/keys/db');
    expect(await res.json()).toEqual({ path: 'tfy-secret/keys/db', version: 1, value: 'key-canary-91e2' });
  });

  it('a data directory that lost master.key is refused, not given a fresh key', {
    timeout: 60_000,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sgw-keys-'));
    const first = await start(dataDir);
    expect((await client(first).put('tfy-secret/keys/lost', 'v')).status).toBe(200);
    expect(await first.stop()).toBe(0);
    rmSync(join(dataDir, 'master.key'));
    await expect(start(dataDir)).rejects.toThrow(
      `${join(dataDir, 'master.key')} is missing but the store ${join(dataDir, 'secrets.db')} holds secrets`,
    );
  });
});

describe('embedded store: two gateway processes on one data directory', () => {
  it("one process never serves what the other deleted, nor the old value after the other's re-create", {
    timeout: 60_000,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sgw-shared-'));
    const env = { SGW_MASTER_KEY: randomBytes(32).toString('base64'), SGW_CACHE_TTL_MS: '60000' };
    const a = client(await start(dataDir, env));
    const b = client(await start(dataDir, env));
    const path = 'tfy-secret/shared/db-password';

    expect((await a.put(path, 'first-value')).status).toBe(200);
    expect((await a.get(path)).headers.get('x-cache')).toBe('miss');
    const cached = await a.get(path);
    expect(cached.headers.get('x-cache')).toBe('hit');
    expect(await cached.json()).toEqual({ path, version: 1, value: 'first-value' });

    expect((await b.deleteAll(path)).status).toBe(200);
    expect((await a.get(path)).status).toBe(404);
    expect((await a.get(path, 1)).status).toBe(404);

    expect(await (await b.put(path, 'second-value')).json()).toEqual({ path, version: 1 });
    expect(await (await a.get(path)).json()).toEqual({ path, version: 1, value: 'second-value' });
    expect(await (await a.get(path, 1)).json()).toEqual({ path, version: 1, value: 'second-value' });
  });
});

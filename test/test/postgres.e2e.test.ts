import { randomBytes } from 'node:crypto';
import { startTestCluster, type TestCluster } from '@secret-gateway/adapter-postgres/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, startGateway } from '../src/index.ts';

// Three real gateway processes on one Postgres database, as three replicas behind a load balancer.
// Caches are on with a 10-minute TTL: only LISTEN/NOTIFY can make a replica drop a value another
// replica replaced. The staleness window (acknowledged PUT on one replica until another serves the
// new value, polled) is printed, never asserted.
const API_KEY = `pg-e2e-${randomBytes(8).toString('hex')}`;
const headers = { 'X-API-Key': API_KEY, 'Content-Type': 'application/json' };

let cluster: TestCluster;
let env: Record<string, string>;
const gateways: GatewayProcess[] = [];

async function replica(): Promise<GatewayProcess> {
  const gw = await startGateway({ apiKey: API_KEY, env });
  gateways.push(gw);
  return gw;
}

async function put(gw: GatewayProcess, path: string, value: string): Promise<Response> {
  return fetch(`${gw.url}/secrets`, { method: 'PUT', headers, body: JSON.stringify({ path, value }) });
}

async function get(gw: GatewayProcess, path: string, version?: number): Promise<Response> {
  return fetch(`${gw.url}/secrets?path=${path}${version === undefined ? '' : `&version=${version}`}`, {
    headers,
  });
}

beforeAll(async () => {
  cluster = await startTestCluster();
  env = {
    SGW_BACKEND: 'postgres',
    SGW_POSTGRES_URL: await cluster.createDatabase('gateway'),
    SGW_MASTER_KEY: randomBytes(32).toString('base64'),
    SGW_CACHE_TTL_MS: '600000',
    SGW_BACKEND_TIMEOUT_MS: '2000',
  };
  // Started together: the migration runs once, under the advisory lock.
  await Promise.all([replica(), replica(), replica()]);
}, 90_000);

const running = () => gateways.filter((gw) => gw.child.exitCode === null && gw.child.signalCode === null);

afterAll(async () => {
  await Promise.all(running().map((gw) => gw.stop()));
  cluster?.destroy();
});

describe('three gateway replicas on one Postgres database', () => {
  it('concurrent writers on the same paths from all three get distinct versions and lose nothing', async () => {
    const [a, b, c] = gateways as [GatewayProcess, GatewayProcess, GatewayProcess];
    const paths = ['tfy-secret/acme/prod/shared-1', 'tfy-secret/acme/prod/shared-2'];
    const writes = paths.flatMap((path) =>
      Array.from({ length: 15 }, (_, i) => ({
        gw: [a, b, c][i % 3] as GatewayProcess,
        path,
        value: `${path}:${i}`,
      })),
    );
    const acks = await Promise.all(
      writes.map(async (w) => {
        const res = await put(w.gw, w.path, w.value);
        expect(res.status).toBe(200);
        return { ...w, version: ((await res.json()) as { version: number }).version };
      }),
    );
    for (const path of paths) {
      const versions = acks.filter((w) => w.path === path).map((w) => w.version);
      expect(versions.sort((x, y) => x - y)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    }
    for (const w of acks) {
      for (const gw of [a, b, c]) {
        expect(await (await get(gw, w.path, w.version)).json()).toEqual({
          path: w.path,
          version: w.version,
          value: w.value,
        });
      }
    }
  });

  it('after a write on one replica every replica reads the latest (window printed)', async () => {
    const path = 'tfy-secret/acme/prod/latest';
    const windows: number[] = [];
    for (let round = 0; round < 15; round++) {
      const writer = gateways[round % 3] as GatewayProcess;
      // Warm every replica's cache with the current value first.
      for (const gw of gateways) await get(gw, path);
      const res = await put(writer, path, `round-${round}`);
      const { version } = (await res.json()) as { version: number };
      const acked = performance.now();
      for (const gw of gateways) {
        if (gw === writer) continue;
        for (;;) {
          const body = (await (await get(gw, path)).json()) as { version?: number };
          if (body.version === version) break;
          // A budget far below the 10-minute cache TTL: only the notification gets us here.
          expect(performance.now() - acked).toBeLessThan(10_000);
        }
        windows.push(performance.now() - acked);
      }
    }
    windows.sort((x, y) => x - y);
    const at = (q: number) =>
      windows[Math.min(windows.length - 1, Math.floor(q * windows.length))]?.toFixed(2);
    console.log(
      `postgres staleness window over HTTP (PUT acknowledged on one replica -> another replica serves it; n=${windows.length}): p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms`,
    );
  });

  it('a replica killed with SIGKILL mid-write loses nothing acknowledged; the others keep writing the same path', async () => {
    const victim = await replica();
    const survivor = gateways[0] as GatewayProcess;
    const path = 'tfy-secret/acme/prod/killed';
    const acks: Array<{ version: number; value: string }> = [];
    let n = 0;
    const writeLoop = async (gw: GatewayProcess, until: () => boolean) => {
      while (!until()) {
        const value = `v${n++}`;
        const res = await put(gw, path, value).catch(() => undefined);
        if (res?.status === 200)
          acks.push({ value, version: ((await res.json()) as { version: number }).version });
      }
    };
    let killed = false;
    const victimLoops = [1, 2, 3].map(() => writeLoop(victim, () => killed));
    const survivorDone = { value: false };
    const survivorLoop = writeLoop(survivor, () => survivorDone.value);
    while (acks.length < 30) await new Promise((resolve) => setTimeout(resolve, 5));
    victim.child.kill('SIGKILL');
    killed = true;
    await Promise.all(victimLoops);
    const atKill = acks.length;
    while (acks.length < atKill + 20) await new Promise((resolve) => setTimeout(resolve, 5));
    survivorDone.value = true;
    await survivorLoop;
    expect(new Set(acks.map((a) => a.version)).size).toBe(acks.length);
    for (const ack of acks) {
      expect(await (await get(survivor, path, ack.version)).json()).toEqual({ path, ...ack });
    }
  });

  it('the database restarted mid-run: 503 with Retry-After while down, then every replica recovers without a restart', async () => {
    const path = 'tfy-secret/acme/prod/restart';
    const live = running();
    expect((await put(live[0] as GatewayProcess, path, 'before')).status).toBe(200);
    await cluster.stop();
    for (const gw of live) {
      const res = await put(gw, path, 'while-down');
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(await res.text()).not.toMatch(/57P01|terminating|ECONNREFUSED/);
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
    }
    await cluster.start();
    for (const gw of live) {
      let res: Response;
      const start = performance.now();
      do {
        res = await put(gw, path, 'after');
        expect(performance.now() - start).toBeLessThan(20_000);
      } while (res.status !== 200);
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    }
    const latest = (await (await get(live[1] as GatewayProcess, path)).json()) as {
      version: number;
      value: string;
    };
    expect(latest.value).toBe('after');
    expect(await (await get(live[2] as GatewayProcess, path, 1)).json()).toEqual({
      path,
      version: 1,
      value: 'before',
    });
  });
});

// Issue 18: the staleness window of the read cache across replicas on Postgres. Two replicas (two
// adapters, two pools, two LISTEN connections, each behind a SecretService with a 10-minute cache)
// on a test-owned cluster; A writes, and we time from A's acknowledgement until B no longer serves
// the old value (B polled on every turn of the event loop). Numbers, not a test.
// Usage: tsx bench/postgres-staleness.ts [--rounds 200]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { PostgresAdapter } from '@secret-gateway/adapter-postgres';
import { startTestCluster } from '@secret-gateway/adapter-postgres/testing';
import { Keyring, SecretService } from '@secret-gateway/core';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '200' } } });
const rounds = Number(values.rounds);
const cluster = await startTestCluster();
try {
  const url = await cluster.createDatabase('staleness');
  const keyring = new Keyring(randomBytes(32));
  const replica = () => {
    const adapter = new PostgresAdapter({ url, keyring });
    return { adapter, service: new SecretService(adapter, { cache: { ttlMs: 600_000 } }) };
  };
  const a = replica();
  const b = replica();
  await Promise.all([a.adapter.listening(), b.adapter.listening()]);
  const path = 'tfy-secret/bench/stale';
  await a.service.put(path, 'v0');
  const windows: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    await b.service.get(path); // B caches the current value
    const { version } = await a.service.put(path, `v${round}`);
    const acked = performance.now();
    while ((await b.service.get(path)).version !== version) await new Promise((r) => setImmediate(r));
    windows.push(performance.now() - acked);
  }
  windows.sort((x, y) => x - y);
  const at = (q: number) =>
    (windows[Math.min(windows.length - 1, Math.floor(q * windows.length))] ?? 0).toFixed(3);
  console.log(
    `postgres cache staleness across replicas (acknowledged write on A -> B serves it), n=${rounds}: ` +
      `p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`,
  );
  await Promise.all([a.service.close(), b.service.close()]);
} finally {
  cluster.destroy();
}

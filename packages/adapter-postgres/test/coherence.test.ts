import { SecretService } from '@secret-gateway/core';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PostgresAdapter } from '../src/index.ts';
import { freshDatabase, newAdapter, sql, until, useCluster } from './helpers.ts';

const cluster = useCluster();
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
});

/** A replica: its own adapter (pool + LISTEN connection) behind its own SecretService with a long-lived cache. */
async function replica(url: string): Promise<{ adapter: PostgresAdapter; service: SecretService }> {
  const adapter = newAdapter(url, { listenStaleMs: 60_000 });
  const service = new SecretService(adapter, { cache: { ttlMs: 600_000 } });
  open.push(service);
  expect(await adapter.listening()).toBe(true);
  return { adapter, service };
}

/**
 * An adapter whose listener's server process is frozen (SIGSTOP: no answer, no error, as a half-open
 * connection) until the adapter stops trusting it; then thawed, and back to listening.
 */
async function freezeListener(url: string, listenStaleMs: number): Promise<void> {
  const adapter = newAdapter(url, { listenStaleMs });
  open.push(adapter);
  expect(await adapter.listening()).toBe(true);
  adapter.externalChanges();
  const [row] = await sql<{ pid: number }>(
    url,
    "SELECT pid FROM pg_stat_activity WHERE application_name = 'secret-gateway-listen' AND datname = current_database()",
  );
  process.kill(row?.pid as number, 'SIGSTOP');
  try {
    await until(() => adapter.externalChanges(), 10_000, 'the stale listener distrusted');
  } finally {
    process.kill(row?.pid as number, 'SIGCONT');
  }
  await until(() => adapter.listenerUp, 10_000, 'the listener back');
}

describe('read caches across replicas (LISTEN/NOTIFY)', () => {
  it('a write or delete on one replica stops the other serving the old value long before its cache TTL', async () => {
    const url = await freshDatabase(cluster());
    const a = await replica(url);
    const b = await replica(url);
    const path = 'tfy-secret/acme/prod/coherent';
    b.adapter.externalChanges();
    await a.service.put(path, 'v1');
    // Let B hear this first write, so the hit below is not undone by its late notification.
    await until(() => b.adapter.externalChanges(), 10_000, 'B hearing v1');
    expect((await b.service.get(path)).value).toBe('v1');
    expect((await b.service.get(path)).cache).toBe('hit');

    await a.service.put(path, 'v2');
    // The TTL is 10 minutes: only the notification can make B read again within the budget.
    await until(async () => (await b.service.get(path)).value === 'v2', 10_000, 'B serving v2');

    await a.service.delete(path);
    await until(
      () =>
        b.service.get(path).then(
          () => false,
          (e: { code?: string }) => e.code === 'not_found',
        ),
      10_000,
      'B answering not found',
    );
  });

  it("a replica's own writes do not drop its cache (it evicted the path itself)", async () => {
    const url = await freshDatabase(cluster());
    const a = await replica(url);
    const b = await replica(url);
    // Drain the "changed" each listener reports once it starts listening.
    a.adapter.externalChanges();
    await b.adapter.write('tfy-secret/acme/prod/other', 'x');
    await until(() => a.adapter.externalChanges(), 10_000, 'A hearing B');
    await a.adapter.write('tfy-secret/acme/prod/own', 'x');
    // A marker committed after A's own write: once A hears it, A's own NOTIFY was delivered before.
    await sql(url, "SELECT pg_notify('sgw_changes', 'marker')");
    await until(() => a.adapter.externalChanges(), 10_000, 'A hearing the marker');
    await a.adapter.write('tfy-secret/acme/prod/own', 'y');
    await sql(url, "SELECT pg_notify('sgw_changes', 'marker')");
    let heard = 0;
    await until(() => {
      heard += a.adapter.externalChanges() ? 1 : 0;
      return heard > 0;
    });
    // One "changed" for the marker; A's own write added none.
    expect(a.adapter.externalChanges()).toBe(false);
  });

  it('while the listening connection is down every check says "changed", and once back it reports one change', async () => {
    const url = await freshDatabase(cluster());
    const a = await replica(url);
    a.adapter.externalChanges();
    expect(a.adapter.externalChanges()).toBe(false);
    await sql(
      url,
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'secret-gateway-listen' AND datname = current_database()",
    );
    await until(() => !a.adapter.listenerUp, 10_000, 'the listener noticing');
    for (let i = 0; i < 3; i++) expect(a.adapter.externalChanges()).toBe(true);
    await until(() => a.adapter.listenerUp, 10_000, 'the listener reconnecting');
    expect(a.adapter.externalChanges()).toBe(true);
    expect(a.adapter.externalChanges()).toBe(false);
  });

  it('a listener that shows no sign of life for listenStaleMs is not trusted (bounded staleness)', async () => {
    const url = await freshDatabase(cluster());
    // The heartbeat runs every listenStaleMs / 3 and gives the connection up after listenStaleMs unanswered.
    await freezeListener(url, 300);
  });

  it('sends one heartbeat at a time: an unanswered one is not joined by the next (pg 9 refuses that)', async () => {
    const url = await freshDatabase(cluster());
    let overlaps = 0;
    let heartbeats = 0;
    const inFlight = new WeakMap<object, number>();
    const query = pg.Client.prototype.query as (...args: unknown[]) => Promise<unknown>;
    /** Counts heartbeats, and those sent while the same client's previous one was unanswered. */
    function counting(this: pg.Client, ...args: unknown[]) {
      const result = query.apply(this, args);
      if (args[0] !== 'SELECT 1') return result;
      heartbeats++;
      const n = inFlight.get(this) ?? 0;
      if (n > 0) overlaps++;
      inFlight.set(this, n + 1);
      result.then(
        () => inFlight.set(this, (inFlight.get(this) ?? 1) - 1),
        () => inFlight.set(this, (inFlight.get(this) ?? 1) - 1),
      );
      return result;
    }
    const spy = vi
      .spyOn(pg.Client.prototype, 'query')
      .mockImplementation(counting as unknown as typeof pg.Client.prototype.query);
    try {
      // Heartbeats every 300 ms, given up after 900 ms unanswered: two more beats fall in that time.
      await freezeListener(url, 900);
    } finally {
      spy.mockRestore();
    }
    expect(heartbeats).toBeGreaterThan(0);
    expect(overlaps).toBe(0);
  });
});

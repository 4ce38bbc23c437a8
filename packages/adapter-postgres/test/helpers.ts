import { randomBytes } from 'node:crypto';
import { Keyring } from '@secret-gateway/core';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { PostgresAdapter, type PostgresAdapterOptions } from '../src/index.ts';
import { startTestCluster, type TestCluster } from '../src/testing/cluster.ts';

/** One key for every adapter of a test run: they share the database, as replicas share SGW_MASTER_KEY. */
export const KEY = randomBytes(32);

export function newAdapter(url: string, options: Partial<PostgresAdapterOptions> = {}): PostgresAdapter {
  return new PostgresAdapter({ url, keyring: new Keyring(KEY), ...options });
}

/** A cluster for this test file: started in beforeAll, removed in afterAll. */
export function useCluster(): () => TestCluster {
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    cluster = await startTestCluster();
  }, 60_000);
  afterAll(() => cluster?.destroy());
  return () => {
    if (!cluster) throw new Error('the test cluster did not start');
    return cluster;
  };
}

/** A new, empty database on the cluster; returns its URL. */
export async function freshDatabase(cluster: TestCluster): Promise<string> {
  return cluster.createDatabase(`t_${randomBytes(6).toString('hex')}`);
}

/** Runs statements on a connection of its own, then closes it. */
export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Polls `fn` every 5 ms until it returns true; fails after `limitMs` (a budget, not a claim). */
export async function until(
  fn: () => boolean | Promise<boolean>,
  limitMs = 10_000,
  what = 'condition',
): Promise<void> {
  const start = performance.now();
  while (!(await fn())) {
    if (performance.now() - start > limitMs) throw new Error(`${what} not reached within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Holds the row lock of `path` in a session of its own (as a writer on another replica would) until
 * `release()`. The client goes into `open`, for the test's afterEach to close.
 */
export async function lockRow(
  url: string,
  path: string,
  open: Array<{ end?: () => Promise<void> }>,
): Promise<{ release: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  open.push(client);
  await client.connect();
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM sgw_secrets WHERE path = $1 FOR UPDATE', [path]);
  return { release: () => client.query('COMMIT').then(() => undefined) };
}

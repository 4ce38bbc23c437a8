import { BackendUnavailableError } from '@secret-gateway/core';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { mapPgError } from '../src/index.ts';
import { freePort } from '../src/testing/cluster.ts';
import { freshDatabase, newAdapter, sql, useCluster } from './helpers.ts';

const cluster = useCluster();

describe('pg errors become typed errors without pg text', () => {
  it('connection refused: unavailable with a Retry-After', async () => {
    const adapter = newAdapter(`postgres://postgres@127.0.0.1:${await freePort()}/postgres`, {
      listen: false,
    });
    const error = await adapter.ready.catch((e: unknown) => e);
    await adapter.close();
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error).toMatchObject({
      reason: 'unreachable',
      retryAfterSeconds: 2,
      detail: { backendCode: 'ECONNREFUSED' },
    });
  });

  it('too many connections: throttled; the message does not quote the server', async () => {
    const url = await freshDatabase(cluster());
    await newAdapter(url, { listen: false }).close();
    await sql(url, 'CREATE ROLE limited_role LOGIN CONNECTION LIMIT 1');
    await sql(url, 'GRANT ALL ON ALL TABLES IN SCHEMA public TO limited_role');
    const limitedUrl = url.replace('postgres@', 'limited_role@');
    const hog = new pg.Client({ connectionString: limitedUrl });
    await hog.connect();
    try {
      const adapter = newAdapter(limitedUrl, { listen: false });
      const error = await adapter.ready.catch((e: unknown) => e);
      await adapter.close();
      expect(error).toMatchObject({
        code: 'backend_unavailable',
        reason: 'throttled',
        detail: { backendCode: '53300' },
      });
      expect((error as Error).message).not.toContain('limited_role');
    } finally {
      await hog.end();
    }
  });

  it('an error whose server text quotes data maps to a message without it', async () => {
    const client = new pg.Client({ connectionString: cluster().url });
    await client.connect();
    const raw = await client.query('SELECT $1::int', ['s3cret-value-quoted']).catch((e: unknown) => e);
    await client.end();
    expect((raw as Error).message).toContain('s3cret-value-quoted');
    const mapped = mapPgError(raw, 'read');
    expect(mapped.message).not.toContain('s3cret-value-quoted');
    expect(mapped).toMatchObject({
      code: 'backend_error',
      detail: { backend: 'postgres', backendCode: '22P02' },
    });
  });

  it('a connection ended by the administrator mid-session: unavailable, and the next call works', async () => {
    const url = await freshDatabase(cluster());
    const adapter = newAdapter(url, { listen: false, poolMax: 1 });
    try {
      await adapter.write('tfy-secret/acme/prod/x', 'one');
      await sql(
        url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'secret-gateway'",
      );
      // The pool drops the dead idle connection (or the call fails as unavailable); either way no crash.
      const outcome = await adapter.read('tfy-secret/acme/prod/x', 1).catch((e: unknown) => e);
      if (outcome instanceof Error) expect(outcome).toMatchObject({ code: 'backend_unavailable' });
      expect(await adapter.read('tfy-secret/acme/prod/x', 1)).toEqual({ value: 'one', version: 1 });
    } finally {
      await adapter.close();
    }
  });
});

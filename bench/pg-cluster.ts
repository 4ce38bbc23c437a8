// Issue 18's benchmark database: a test-owned PostgreSQL cluster with fsync on (durable commits, as
// in production), a database migrated by the adapter and seeded with N secrets
// (tfy-secret/bench/k0 .. k{N-1}) encrypted as PostgresAdapter writes them. Prints one JSON line
// ({ url, port, bin, seedSeconds }) once ready; removes the cluster when stdin closes or on SIGTERM.
// Usage: tsx bench/pg-cluster.ts <count> <base64 master key>
import { randomBytes } from 'node:crypto';
import { PostgresAdapter } from '@secret-gateway/adapter-postgres';
import { postgresBinDir, startTestCluster } from '@secret-gateway/adapter-postgres/testing';
import { associatedData, Keyring } from '@secret-gateway/core';
import pg from 'pg';

const [countText, keyBase64] = process.argv.slice(2);
if (!countText || !keyBase64) throw new Error('usage: pg-cluster.ts <count> <base64 master key>');
const count = Number(countText);
const keyring = new Keyring(Buffer.from(keyBase64, 'base64'));
const cluster = await startTestCluster({ durable: true });
let done = false;
const stop = () => {
  if (done) return;
  done = true;
  cluster.destroy();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.stdin.on('close', stop);
process.stdin.resume();

const url = await cluster.createDatabase('bench');
const adapter = new PostgresAdapter({ url, keyring, listen: false });
await adapter.ready;
await adapter.close();
const started = performance.now();
const client = new pg.Client({ connectionString: url });
await client.connect();
// Seeding only: the measured writes run with the server's defaults (synchronous_commit on).
await client.query('SET synchronous_commit = off');
const BATCH = 20_000;
for (let start = 0; start < count; start += BATCH) {
  const paths: string[] = [];
  const generations: Buffer[] = [];
  const ivs: Buffer[] = [];
  const tags: Buffer[] = [];
  const ciphertexts: Buffer[] = [];
  for (let i = start; i < Math.min(count, start + BATCH); i++) {
    const path = `tfy-secret/bench/k${i}`;
    const generation = randomBytes(16);
    const sealed = keyring.seal(`value-${i}-${'x'.repeat(24)}`, associatedData(path, 1, generation));
    paths.push(path);
    generations.push(generation);
    ivs.push(sealed.iv);
    tags.push(sealed.tag);
    ciphertexts.push(sealed.ciphertext);
  }
  await client.query('BEGIN');
  await client.query(
    'INSERT INTO sgw_secrets (path, generation, max_version) SELECT p, g, 1 FROM unnest($1::text[], $2::bytea[]) AS t (p, g)',
    [paths, generations],
  );
  await client.query(
    `INSERT INTO sgw_versions (path, version, key_id, iv, tag, ciphertext)
     SELECT p, 1, $1, i, t, c FROM unnest($2::text[], $3::bytea[], $4::bytea[], $5::bytea[]) AS r (p, i, t, c)`,
    [keyring.current.id, paths, ivs, tags, ciphertexts],
  );
  await client.query('COMMIT');
}
await client.query('VACUUM ANALYZE');
await client.query('CHECKPOINT');
await client.end();
console.log(
  JSON.stringify({
    url,
    port: cluster.port,
    bin: postgresBinDir(),
    seedSeconds: (performance.now() - started) / 1000,
  }),
);

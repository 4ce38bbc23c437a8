// Seeds an embedded-store database with N secrets (tfy-secret/bench/k0 .. k{N-1}) for scenario (c).
// Writes rows the way SqliteAdapter does (same encryption and associated data), in big transactions.
import { randomBytes } from 'node:crypto';
import { associatedData, Keyring, SqliteAdapter } from '@secret-gateway/adapter-sqlite';

const [file, countText, keyBase64] = process.argv.slice(2);
if (!file || !countText || !keyBase64) throw new Error('usage: seed.ts <file> <count> <base64 master key>');
const count = Number(countText);
const keyring = new Keyring(Buffer.from(keyBase64, 'base64'));
const adapter = new SqliteAdapter({ file, keyring, prefetch: false });
const db = adapter.db;
db.pragma('synchronous = OFF');
const insertSecret = db.prepare('INSERT INTO secrets (path, generation, max_version) VALUES (?, ?, 1)');
const insertVersion = db.prepare(
  'INSERT INTO versions (path, version, key_id, iv, tag, ciphertext, created_at) VALUES (?, 1, ?, ?, ?, ?, ?)',
);
const now = Date.now();
for (let start = 0; start < count; start += 50_000) {
  db.transaction(() => {
    for (let i = start; i < Math.min(count, start + 50_000); i++) {
      const path = `tfy-secret/bench/k${i}`;
      const generation = randomBytes(16);
      const sealed = keyring.seal(`value-${i}-${'x'.repeat(24)}`, associatedData(path, 1, generation));
      insertSecret.run(path, generation);
      insertVersion.run(path, sealed.keyId, sealed.iv, sealed.tag, sealed.ciphertext, now);
    }
  })();
}
db.pragma('wal_checkpoint(TRUNCATE)');
await adapter.close();

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syncError, WalSync } from '../src/wal-sync.ts';
import { tempDir } from './helpers.ts';

const CHILD = join(import.meta.dirname, 'fixtures', 'fsync-child.ts');

/** Runs the child under strace; the fsync and fdatasync calls it made, by the file they named. */
function syncsOf(mode: 'on' | 'off', rounds: number) {
  const dir = tempDir();
  const file = join(dir, 'secrets.db');
  const trace = join(dir, 'strace.txt');
  const out = execFileSync(
    'strace',
    [
      '-f',
      '-qq',
      '-y',
      '-e',
      'trace=fsync,fdatasync',
      '-o',
      trace,
      'node',
      '--import',
      'tsx',
      CHILD,
      file,
      String(rounds),
      mode,
    ],
    { encoding: 'utf8', cwd: import.meta.dirname },
  );
  const calls = readFileSync(trace, 'utf8')
    .split('\n')
    .map((line) => /(fsync|fdatasync)\(\d+<([^>]+)>\) = 0/.exec(line))
    .filter((match) => match !== null);
  const on = (suffix: string) => calls.filter((match) => match[2]?.endsWith(suffix)).length;
  return {
    ...(JSON.parse(out) as { commits: number; changes: number; writes: number; checkpoints: number }),
    wal: on('secrets.db-wal'),
    db: on('secrets.db'),
  };
}

// The fsyncs themselves, counted by strace on a real process: the group commit's durability rests on
// its own fdatasync of the write-ahead log, since SQLite runs with synchronous = NORMAL under it.
describe('fsyncs of the write-ahead log (strace)', () => {
  it('group commit: one fdatasync of the WAL per commit, several writes per commit', () => {
    const run = syncsOf('on', 12);
    expect(run.changes).toBe(run.writes);
    expect(run.commits).toBeLessThan(run.writes / 4);
    // Each commit's own sync, plus SQLite's: a new WAL's header, the one of each checkpoint (in the
    // checkpointer's thread) and the one at close.
    expect(run.wal).toBeGreaterThanOrEqual(run.commits);
    expect(run.wal).toBeLessThanOrEqual(run.commits + run.checkpoints + 2);
  });

  it('group commit off: SQLite syncs the WAL in every COMMIT (synchronous = FULL)', () => {
    const run = syncsOf('off', 3);
    expect(run.commits).toBe(0);
    expect(run.wal).toBeGreaterThanOrEqual(run.writes);
  });

  it('a WAL that cannot be synced fails as the store being unavailable, naming only the errno code', async () => {
    const wal = new WalSync(join(tempDir(), 'missing', 'secrets.db'));
    const failure = await wal.sync().then(
      () => undefined,
      (error: unknown) => syncError(error),
    );
    expect(failure).toMatchObject({ code: 'backend_unavailable' });
    expect(failure?.message).toBe('SQLite store failed: fsync of the write-ahead log ENOENT');
    expect(() => wal.syncNow()).toThrow(/ENOENT/);
    wal.close();
  });
});

import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../src/audit.ts';
import { RefusalTally } from '../src/audit-refusals.ts';
import { auditLines, newKey, tempDir, verifyFile } from './audit-helpers.ts';

function trail() {
  const file = join(tempDir(), 'audit.log');
  const key = newKey();
  return { file, key, audit: new AuditLog(file, { key }) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('RefusalTally', () => {
  it('writes one line per client address per interval, with counts per status', async () => {
    const { file, key, audit } = trail();
    const tally = new RefusalTally(audit);
    for (let i = 0; i < 5000; i++) tally.note('10.0.0.1', i < 10 ? 401 : 429);
    tally.note('10.0.0.2', 401);
    await tally.flush();
    await tally.flush(); // nothing new: no lines
    tally.note('10.0.0.2', 401);
    await tally.close();
    await audit.close();
    const lines = auditLines(file);
    expect(lines.map((l) => [l.op, l.client, l.count, l.outcomes, l.key, l.path])).toEqual([
      ['refused', '10.0.0.1', 5000, { 401: 10, 429: 4990 }, null, undefined],
      ['refused', '10.0.0.2', 1, { 401: 1 }, null, undefined],
      ['refused', '10.0.0.2', 1, { 401: 1 }, null, undefined],
    ]);
    expect(lines[0]?.since).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(verifyFile(file, key).ok).toBe(true);
  });

  it('tracks at most maxClients addresses; the rest share one line', async () => {
    const { file, audit } = trail();
    const tally = new RefusalTally(audit, { maxClients: 2 });
    for (const client of ['a', 'b', 'c', 'd', 'e', 'c']) tally.note(client, 401);
    await tally.close();
    await audit.close();
    expect(auditLines(file).map((l) => [l.client, l.count])).toEqual([
      ['a', 1],
      ['b', 1],
      [null, 4],
    ]);
  });

  it('writes on its timer, every interval', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { file, audit } = trail();
    const tally = new RefusalTally(audit, { intervalMs: 10_000 });
    tally.note('10.0.0.9', 429);
    vi.advanceTimersByTime(9_999);
    await audit.flushed();
    expect(auditLines(file)).toEqual([]);
    vi.advanceTimersByTime(1);
    await audit.flushed();
    expect(auditLines(file).map((l) => l.client)).toEqual(['10.0.0.9']);
    await tally.close();
    await audit.close();
  });

  it('a trail that cannot be written does not make flush throw', async () => {
    const audit = new AuditLog('/dev/full', { key: newKey() });
    const tally = new RefusalTally(audit);
    tally.note('10.0.0.1', 401);
    await expect(tally.close()).resolves.toBeUndefined();
    expect(audit.writable).toBe(false);
    await audit.close();
  });
});

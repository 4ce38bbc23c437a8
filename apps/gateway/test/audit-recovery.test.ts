import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../src/audit.ts';
import { startGateway } from '../src/server.ts';
import {
  auditLines,
  endOnPage,
  entry,
  fill,
  free,
  memoryLogger,
  mountSmallFs,
  newKey,
  tempDir,
  verifyFile,
} from './audit-helpers.ts';

const fs = mountSmallFs();
afterAll(() => fs?.unmount());
const onFullDisk = fs ? it : it.skip;
if (!fs)
  console.warn('audit-recovery: cannot mount a tmpfs here (needs root): the disk-full tests are skipped');

describe('a failing trail (/dev/full: every write fails with ENOSPC)', () => {
  it('fail-closed: each record rejects, the trail says it is not writable and why', async () => {
    const audit = new AuditLog('/dev/full', { key: newKey(), failClosed: true });
    await expect(audit.record(entry())).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(audit.writable).toBe(false);
    expect(audit.lastError).toMatchObject({ code: 'ENOSPC' });
    // Tried again, not refused from memory: still failing, still rejecting.
    await expect(audit.record(entry())).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(await audit.retry()).toBe(false);
    await audit.close();
  });

  it('logs failures at most once per 10 s, with the count since the last line', async () => {
    let now = 0;
    const { logger, lines } = memoryLogger();
    const audit = new AuditLog('/dev/full', { key: newKey(), failClosed: true, logger, now: () => now });
    const failures = () => lines.filter((l) => l.msg === 'audit trail cannot be written');
    for (let i = 0; i < 5; i++) {
      now = i * 1000;
      await audit.record(entry()).catch(() => undefined);
    }
    expect(failures().map((l) => l.failures)).toEqual([1]);
    expect(failures()[0]).toMatchObject({ level: 50, err: { code: 'ENOSPC', syscall: 'write' } });
    now = 10_000;
    await audit.record(entry()).catch(() => undefined);
    expect(failures().map((l) => l.failures)).toEqual([1, 5]);
    await audit.close();
  });
});

/** A trail on the small filesystem that ends on a page boundary, for a gateway to continue. */
async function prepared(file: string, key: Buffer): Promise<void> {
  const audit = new AuditLog(file, { key });
  await endOnPage(audit, file);
  await audit.close();
}

describe('a full disk that frees up again (tmpfs)', () => {
  onFullDisk('fail-closed: refuses while full, accepts again after, and the file verifies', async () => {
    const file = join(fs?.dir as string, 'closed.log');
    const key = newKey();
    const { logger, lines } = memoryLogger();
    const audit = new AuditLog(file, { key, failClosed: true, logger });
    await audit.record(entry({ path: 'tfy-secret/before' }));
    await endOnPage(audit, file);
    fill(fs?.dir as string);
    try {
      await expect(audit.record(entry({ path: 'tfy-secret/while-full' }))).rejects.toMatchObject({
        code: 'ENOSPC',
      });
      expect(audit.writable).toBe(false);
    } finally {
      free(fs?.dir as string);
    }
    await audit.record(entry({ path: 'tfy-secret/after' }));
    expect(audit.writable).toBe(true);
    await audit.close();

    const written = auditLines(file);
    // The refused line never reached the file, and the next line does not link to it.
    expect(
      written.map((l) => l.event ?? l.path).filter((p) => p !== undefined && !/^p+$/.test(String(p))),
    ).toEqual(['tfy-secret/before', 'outage', 'tfy-secret/after']);
    expect(written[3]).toMatchObject({ event: 'outage', failedWrites: 1, dropped: 1 });
    expect(verifyFile(file, key)).toMatchObject({ ok: true, lines: 5, verified: 5 });
    expect(lines.find((l) => l.msg === 'audit trail writable again')).toMatchObject({ failedWrites: 1 });
  });

  onFullDisk('a batch cut short by a full disk leaves no partial line behind', async () => {
    const file = join(fs?.dir as string, 'partial.log');
    const key = newKey();
    const audit = new AuditLog(file, { key, failClosed: true });
    await audit.record(entry());
    const before = statSync(file).size;
    // One page free, a batch of about 40 KB: the kernel writes what fits, then ENOSPC.
    fill(fs?.dir as string, 4096);
    try {
      const long = 'x'.repeat(900);
      const batch = Array.from({ length: 40 }, (_, i) =>
        audit.record(entry({ path: `tfy-secret/${long}/${i}` })).then(
          () => 'written',
          () => 'refused',
        ),
      );
      expect(new Set(await Promise.all(batch)).has('refused')).toBe(true);
      // Only whole lines on disk (a partial one would not parse), and none of the refused batch.
      expect(auditLines(file).every((l) => typeof l.mac === 'string')).toBe(true);
    } finally {
      free(fs?.dir as string);
    }
    expect(statSync(file).size).toBeGreaterThanOrEqual(before);
    await audit.record(entry({ path: 'tfy-secret/after' }));
    await audit.close();
    expect(verifyFile(file, key)).toMatchObject({ ok: true, problems: [] });
  });

  onFullDisk('fail-closed without traffic: retry() notices that space came back', async () => {
    const file = join(fs?.dir as string, 'retry.log');
    const key = newKey();
    const audit = new AuditLog(file, { key, failClosed: true });
    await endOnPage(audit, file);
    fill(fs?.dir as string);
    try {
      await audit.record(entry()).catch(() => undefined);
      expect(await audit.retry()).toBe(false);
    } finally {
      free(fs?.dir as string);
    }
    expect(await audit.retry()).toBe(true);
    expect(audit.writable).toBe(true);
    await audit.close();
    expect(auditLines(file).map((l) => l.event)).toEqual([undefined, undefined, 'outage']);
    expect(verifyFile(file, key).ok).toBe(true);
  });

  onFullDisk(
    'over HTTP, fail-open: keeps serving, logs the failure, and writes the held lines once space returns',
    async () => {
      const file = join(fs?.dir as string, 'open.log');
      const { logger, lines } = memoryLogger();
      const apiKey = 'audit-recovery-key-0123456789';
      const key = newKey();
      await prepared(file, key);
      const gw = await startGateway(
        {
          PORT: '0',
          HOST: '127.0.0.1',
          SGW_DATA_DIR: tempDir(),
          SGW_API_KEY: apiKey,
          SGW_AUDIT_FILE: file,
          SGW_AUDIT_KEY: key.toString('base64'),
        },
        { logger },
      );
      const put = (path: string) =>
        fetch(`${gw.url}/secrets`, {
          method: 'PUT',
          headers: { 'X-API-Key': apiKey, 'Content-Type': 'application/json' },
          body: JSON.stringify({ path, value: 'not-a-real-value' }),
        });
      try {
        fill(fs?.dir as string);
        try {
          expect((await put('tfy-secret/audit/two')).status).toBe(200);
          // Fail-open answers before the line is written: wait until its write has failed.
          await vi.waitFor(() =>
            expect(lines.some((l) => l.msg === 'audit trail cannot be written')).toBe(true),
          );
          expect((await put('tfy-secret/audit/three')).status).toBe(200);
        } finally {
          free(fs?.dir as string);
        }
        expect((await put('tfy-secret/audit/four')).status).toBe(200);
      } finally {
        await gw.shutdown();
      }
      const failure = lines.find((l) => l.msg === 'audit trail cannot be written');
      expect(failure).toMatchObject({ level: 50, err: { code: 'ENOSPC' } });
      expect(lines.find((l) => l.msg === 'audit trail writable again')).toBeDefined();
      const written = auditLines(file).map((l) => l.event ?? l.path);
      expect(written.slice(2)).toEqual([
        'outage',
        'tfy-secret/audit/two',
        'tfy-secret/audit/three',
        'tfy-secret/audit/four',
      ]);
      expect(verifyFile(file, key)).toMatchObject({ ok: true, lines: 6 });
    },
  );

  onFullDisk(
    'over HTTP, fail-closed: 503 while full, served again after, nothing changed while refused',
    async () => {
      const file = join(fs?.dir as string, 'closed-http.log');
      const apiKey = 'audit-recovery-key-0123456789';
      const auditKey = newKey();
      await prepared(file, auditKey);
      const gw = await startGateway(
        {
          PORT: '0',
          HOST: '127.0.0.1',
          SGW_DATA_DIR: tempDir(),
          SGW_API_KEY: apiKey,
          SGW_AUDIT_FILE: file,
          SGW_AUDIT_FAIL_CLOSED: 'true',
          SGW_AUDIT_KEY: auditKey.toString('base64'),
        },
        { logger: memoryLogger().logger },
      );
      const put = (path: string) =>
        fetch(`${gw.url}/secrets`, {
          method: 'PUT',
          headers: { 'X-API-Key': apiKey, 'Content-Type': 'application/json' },
          body: JSON.stringify({ path, value: 'not-a-real-value' }),
        });
      try {
        fill(fs?.dir as string);
        try {
          expect((await put('tfy-secret/audit/refused')).status).toBe(503);
          expect(await gw.service.adapter.read('tfy-secret/audit/refused', undefined)).toBeNull();
        } finally {
          free(fs?.dir as string);
        }
        expect((await put('tfy-secret/audit/served')).status).toBe(200);
      } finally {
        await gw.shutdown();
      }
      expect(verifyFile(file, auditKey)).toMatchObject({ ok: true });
      expect(
        auditLines(file)
          .slice(2)
          .map((l) => [l.path ?? l.event, l.outcome]),
      ).toEqual([
        ['outage', undefined],
        ['tfy-secret/audit/served', 'attempt'],
        ['tfy-secret/audit/served', 200],
      ]);
    },
  );
});

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AuditEntry, AuditLog } from '../src/audit.ts';
import { readCheckpoint } from '../src/audit-chain.ts';
import { verifyAuditText } from '../src/audit-verify.ts';
import { createLogger } from '../src/logger.ts';

export const tempDir = (label = 'sgw-audit-') => mkdtempSync(join(tmpdir(), label));

/** A pino logger whose lines land in `lines`, parsed. */
export function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: createLogger('trace', sink), lines };
}

export const newKey = () => randomBytes(32);

/** Verifies a file with its default checkpoint `<file>.head`. */
export function verifyFile(file: string, key: Buffer, checkpoint = `${file}.head`) {
  return verifyAuditText(readFileSync(file, 'utf8'), key, readCheckpoint(checkpoint, key));
}

export const auditLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

let n = 0;
export function entry(over: Partial<AuditEntry> = {}): AuditEntry {
  n++;
  return {
    key: 'k',
    client: '127.0.0.1',
    op: 'write',
    path: `tfy-secret/audit/${n}`,
    version: 1,
    outcome: 200,
    requestId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    ...over,
  };
}

/**
 * A small tmpfs to fill, so "disk full" is the kernel's ENOSPC rather than a mock. Needs root and
 * mount (CI runs as root); undefined where mounting is not permitted, and the tests say so.
 */
export function mountSmallFs(sizeKb = 64): { dir: string; unmount: () => void } | undefined {
  const dir = tempDir('sgw-audit-fs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0700`, 'tmpfs', dir], {
      stdio: 'pipe',
    });
  } catch {
    return undefined;
  }
  return { dir, unmount: () => execFileSync('umount', [dir]) };
}

/** Fills the filesystem holding `dir` with a filler file, leaving `leave` bytes (page-rounded) free. */
export function fill(dir: string, leave = 0): void {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'a');
  const chunk = Buffer.alloc(4096, 120);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
  if (leave > 0) ftruncateSync(fd, Math.max(0, fstatSync(fd).size - leave));
  closeSync(fd);
}

/**
 * tmpfs allocates whole pages, so a "full" disk still takes a line into the file's last page.
 * Pads the file with one line so it ends on a page boundary: then the next write needs a page.
 */
export async function endOnPage(audit: AuditLog, file: string): Promise<void> {
  await audit.record(entry({ path: 'p' }));
  const size = statSync(file).size;
  const text = readFileSync(file, 'utf8').trimEnd();
  const lineSize = text.length - text.lastIndexOf('\n');
  let need = PAGE - (size % PAGE);
  if (need < lineSize) need += PAGE;
  await audit.record(entry({ path: 'p'.repeat(1 + need - lineSize) }));
  await audit.flushed();
  if (statSync(file).size % PAGE !== 0) throw new Error('endOnPage: the file does not end on a page');
}
const PAGE = 4096;

export function free(dir: string): void {
  const file = join(dir, 'filler');
  if (existsSync(file)) unlinkSync(file);
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, fstatSync, readFileSync, readSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { ensureKeyFile } from './key-file.ts';

/**
 * The keyed chain shared by the writer (audit.ts) and `audit verify` (audit-verify.ts). Each line
 * carries `prev`, the MAC of the line before, and `mac`, HMAC-SHA-256 under the audit key of the
 * line without `mac`. Lines from before the key existed carry a plain SHA-256 `hash` instead.
 */
export const GENESIS = '0'.repeat(64);

export const macOf = (key: Buffer, text: string): string =>
  createHmac('sha256', key).update(text, 'utf8').digest('hex');

/** Names a key without revealing it, so a checkpoint can say which key wrote it. */
export const keyIdOf = (key: Buffer): string => macOf(key, 'secret-gateway audit key id').slice(0, 16);

export const sameHex = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** Adds `prev` and `mac` to a line body; returns the line (with its newline) and its MAC. */
export function sealLine(
  key: Buffer,
  body: Record<string, unknown>,
  prev: string,
): { text: string; mac: string } {
  const linked = { ...body, prev };
  const mac = macOf(key, JSON.stringify(linked));
  return { text: `${JSON.stringify({ ...linked, mac })}\n`, mac };
}

/** The value the next line's `prev` must hold: `mac` for keyed lines, `hash` for older ones. */
export function linkOf(line: string): { link: string; keyed: boolean } | undefined {
  try {
    const parsed = JSON.parse(line) as { mac?: unknown; hash?: unknown };
    if (typeof parsed.mac === 'string') return { link: parsed.mac, keyed: true };
    if (typeof parsed.hash === 'string') return { link: parsed.hash, keyed: false };
  } catch {
    // not a JSON line
  }
  return undefined;
}

/** Whether a keyed line's MAC is right under this key. */
export function lineVerifies(key: Buffer, line: string): boolean {
  try {
    const { mac, ...body } = JSON.parse(line) as Record<string, unknown>;
    return typeof mac === 'string' && sameHex(mac, macOf(key, JSON.stringify(body)));
  } catch {
    return false;
  }
}

// ---- the audit key ----

export function decodeAuditKey(text: string, source: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) {
    throw new Error(
      `${source} must be base64 of exactly 32 bytes (got ${key.length} bytes); make one with: openssl rand -base64 32`,
    );
  }
  return key;
}

/**
 * The audit key from SGW_AUDIT_KEY (base64) or a key file, generated (0600) when `create` and the
 * file is absent. Kept apart from the audit file: whoever can rewrite the log without it cannot
 * make the chain verify.
 */
export function loadAuditKey(options: { base64?: string; file: string; create: boolean }): {
  key: Buffer;
  source: string;
  generated: boolean;
} {
  if (options.base64)
    return {
      key: decodeAuditKey(options.base64, 'SGW_AUDIT_KEY'),
      source: 'SGW_AUDIT_KEY',
      generated: false,
    };
  const { file } = options;
  if (!options.create && !existsSync(file)) throw new Error(`no audit key: ${file} does not exist`);
  const { text, generated } = ensureKeyFile(file, 'base64');
  return { key: decodeAuditKey(text, file), source: file, generated };
}

// ---- the checkpoint of the head, kept in its own file ----

export interface Checkpoint {
  v: 1;
  keyId: string;
  /** Lines and bytes of the audit file up to and including the head line. */
  lines: number;
  bytes: number;
  /** The head line's MAC. */
  mac: string;
  time: string;
  /** HMAC of the fields above, so the checkpoint cannot be forged or moved back without the key. */
  sig: string;
}

export function sealCheckpoint(
  key: Buffer,
  head: { lines: number; bytes: number; mac: string; time: string },
): Checkpoint {
  const body = { v: 1 as const, keyId: keyIdOf(key), ...head };
  return { ...body, sig: macOf(key, JSON.stringify(body)) };
}

/** Written to a temporary file and renamed over the old one, so a reader sees the old or the new. */
export async function writeCheckpoint(file: string, checkpoint: Checkpoint): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

export type CheckpointRead =
  | { state: 'valid'; checkpoint: Checkpoint }
  | { state: 'missing' }
  | { state: 'other-key'; keyId: string }
  | { state: 'invalid'; reason: string };

/** Reads and checks a checkpoint file's signature under the key. */
export function readCheckpoint(file: string, key: Buffer): CheckpointRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    return { state: 'invalid', reason: `cannot be read (${(error as NodeJS.ErrnoException).code})` };
  }
  return checkCheckpoint(text, key);
}

export function checkCheckpoint(text: string, key: Buffer): CheckpointRead {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { state: 'invalid', reason: 'is not JSON' };
  }
  const { sig, ...body } = parsed;
  if (body.v !== 1 || typeof sig !== 'string' || typeof body.keyId !== 'string')
    return { state: 'invalid', reason: 'is not an audit checkpoint' };
  if (body.keyId !== keyIdOf(key)) return { state: 'other-key', keyId: body.keyId };
  if (!sameHex(sig, macOf(key, JSON.stringify(body))))
    return { state: 'invalid', reason: 'does not match its signature (edited)' };
  const c = body as Omit<Checkpoint, 'sig'>;
  if (!Number.isSafeInteger(c.lines) || !Number.isSafeInteger(c.bytes) || typeof c.mac !== 'string')
    return { state: 'invalid', reason: 'is not an audit checkpoint' };
  return { state: 'valid', checkpoint: parsed as unknown as Checkpoint };
}

// ---- reading an audit file at start-up without loading it whole ----

export interface FileScan {
  bytes: number;
  /** Complete lines (newlines). */
  lines: number;
  /** The last complete line, if any. */
  last: string | undefined;
  /** Bytes after the last newline: a line cut short by a crash mid-write. */
  partial: number;
}

const CHUNK = 1 << 20;

export function scanFile(fd: number): FileScan {
  const bytes = fstatSync(fd).size;
  const buffer = Buffer.alloc(CHUNK);
  let lines = 0;
  let lastNewline = -1;
  for (let pos = 0; pos < bytes; ) {
    const n = readSync(fd, buffer, 0, Math.min(CHUNK, bytes - pos), pos);
    if (n === 0) break;
    for (let i = buffer.indexOf(10); i !== -1 && i < n; i = buffer.indexOf(10, i + 1)) {
      lines++;
      lastNewline = pos + i;
    }
    pos += n;
  }
  const partial = bytes - (lastNewline + 1);
  return { bytes, lines, last: lastNewline < 0 ? undefined : lineEndingAt(fd, lastNewline + 1), partial };
}

/** The line whose newline is the byte before `end`, or undefined if there is none. */
export function lineEndingAt(fd: number, end: number): string | undefined {
  if (end <= 0) return undefined;
  const start = Math.max(0, end - CHUNK);
  const buffer = Buffer.alloc(end - start);
  readSync(fd, buffer, 0, buffer.length, start);
  if (buffer[buffer.length - 1] !== 10) return undefined;
  const from = buffer.lastIndexOf(10, buffer.length - 2);
  if (from < 0 && start > 0) return undefined;
  return buffer.subarray(from + 1, buffer.length - 1).toString('utf8');
}

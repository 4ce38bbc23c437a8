import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, statSync, write } from 'node:fs';

/**
 * The audit trail: one JSON line per operation, never a value. Each line carries the hash of the
 * line before it (`prev`) and its own (`hash`), so a removed, inserted or edited line breaks the
 * chain and `verify` finds it. (Someone who can rewrite the whole file can rebuild the chain, and a
 * cut-off tail leaves no trace: ship the file off the host if that matters.)
 */
export interface AuditEntry {
  key: string | null;
  client: string | undefined;
  op: 'read' | 'write' | 'delete' | 'other';
  path: string | null;
  version?: number | null;
  /** HTTP status of the answer, or `attempt` for the line written before a change in fail-closed mode. */
  outcome: number | 'attempt';
  code?: string;
  requestId: string;
}

export const GENESIS = '0'.repeat(64);

const hashLine = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export class AuditLog {
  readonly failClosed: boolean;
  readonly #fd: number;
  readonly #ownsFd: boolean;
  #prev: string;
  #pending: Array<{ line: string; resolve: () => void; reject: (e: Error) => void }> = [];
  #flushing = false;
  #broken: Error | undefined;

  /** `target`: a file path (appended to, mode 0600) or `-` for stdout. */
  constructor(target: string, options: { failClosed?: boolean } = {}) {
    this.failClosed = options.failClosed ?? false;
    if (target === '-') {
      this.#fd = 1;
      this.#ownsFd = false;
      this.#prev = GENESIS;
    } else {
      // Continue the chain of an existing file (only a regular file: not /dev/stdout and the like).
      this.#prev =
        existsSync(target) && statSync(target).isFile() ? lastHash(readFileSync(target, 'utf8')) : GENESIS;
      this.#fd = openSync(target, 'a', 0o600);
      this.#ownsFd = true;
    }
  }

  /**
   * Appends one line. Lines are chained in call order; writes are grouped so a burst of requests
   * costs one write. Resolves once the line is written (or rejects when it could not be).
   */
  record(entry: AuditEntry): Promise<void> {
    const body = { time: new Date().toISOString(), ...entry, prev: this.#prev };
    const hash = hashLine(JSON.stringify(body));
    this.#prev = hash;
    const line = `${JSON.stringify({ ...body, hash })}\n`;
    return new Promise((resolve, reject) => {
      if (this.#broken) return reject(this.#broken);
      this.#pending.push({ line, resolve, reject });
      if (!this.#flushing) this.#flush();
    });
  }

  #flush(): void {
    const batch = this.#pending;
    if (batch.length === 0) {
      this.#flushing = false;
      return;
    }
    this.#flushing = true;
    this.#pending = [];
    const data = Buffer.from(batch.map((b) => b.line).join(''), 'utf8');
    const writeAll = (offset: number) => {
      write(this.#fd, data, offset, data.length - offset, null, (error, written) => {
        if (error) {
          // The chain cannot go on past a lost line: every later record fails too.
          this.#broken = error;
          for (const b of [...batch, ...this.#pending]) b.reject(error);
          this.#pending = [];
          this.#flushing = false;
          return;
        }
        if (offset + written < data.length) return writeAll(offset + written);
        for (const b of batch) b.resolve();
        this.#flush();
      });
    };
    writeAll(0);
  }

  /** False while the trail cannot be written (fail-closed mode makes /readyz answer 503 then). */
  get writable(): boolean {
    return this.#broken === undefined;
  }

  close(): void {
    if (this.#ownsFd) closeSync(this.#fd);
  }
}

function lastHash(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const last = lines[lines.length - 1];
  if (!last) return GENESIS;
  try {
    const hash = (JSON.parse(last) as { hash?: unknown }).hash;
    return typeof hash === 'string' ? hash : GENESIS;
  } catch {
    return GENESIS;
  }
}

export interface VerifyResult {
  ok: boolean;
  lines: number;
  /** 1-based line number of the first broken link, and why. */
  error?: { line: number; reason: string };
}

/** Checks every line's own hash and its link to the line before. */
export function verifyAuditText(text: string): VerifyResult {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let prev = GENESIS;
  for (const [i, line] of lines.entries()) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return { ok: false, lines: lines.length, error: { line: i + 1, reason: 'not a JSON line' } };
    }
    const { hash, ...body } = parsed;
    if (body.prev !== prev) {
      return {
        ok: false,
        lines: lines.length,
        error: {
          line: i + 1,
          reason: 'does not follow the line before (removed, inserted or reordered lines)',
        },
      };
    }
    if (hash !== hashLine(JSON.stringify(body))) {
      return {
        ok: false,
        lines: lines.length,
        error: { line: i + 1, reason: 'content does not match its hash (edited)' },
      };
    }
    prev = hash as string;
  }
  return { ok: true, lines: lines.length };
}

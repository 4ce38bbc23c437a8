import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, write } from 'node:fs';
import type { Logger } from 'pino';
import {
  GENESIS,
  keyIdOf,
  lineEndingAt,
  lineVerifies,
  linkOf,
  loadAuditKey,
  readCheckpoint,
  scanFile,
  sealCheckpoint,
  sealLine,
  writeCheckpoint,
} from './audit-chain.ts';
import { ConfigError } from './config.ts';

export { GENESIS } from './audit-chain.ts';
export { verifyAuditText } from './audit-verify.ts';

/**
 * The audit trail: one JSON line per operation, never a value, chained with HMAC-SHA-256 under an
 * audit key kept apart from the file (audit-chain.ts), with a signed checkpoint of the head in a
 * second file so a cut tail shows. A trail that cannot be written (disk full) is retried on the
 * next record and recovers by itself; a batch that failed is cut back off the file, so the file
 * only ever holds whole lines and the chain only links lines that reached it.
 */
/** Operations of the secret-groups API; `key` is then the subject (`user:<email>`). */
export type GroupAuditOp =
  | 'group_list'
  | 'group_create'
  | 'group_apply'
  | 'group_read'
  | 'group_update'
  | 'group_delete'
  | 'secret_list'
  | 'secret_read'
  | 'secret_delete';

export interface AuditEntry {
  key: string | null;
  client: string | undefined;
  op: 'read' | 'write' | 'delete' | 'other' | GroupAuditOp;
  path: string | null;
  version?: number | null;
  /** HTTP status of the answer, or `attempt` for the line written before a change in fail-closed mode. */
  outcome: number | 'attempt';
  code?: string;
  requestId: string;
}

/** Refused unauthenticated requests from one address over an interval, in one line (audit-refusals.ts). */
export interface RefusalEntry {
  op: 'refused';
  key: null;
  /** The client address, or null for the line counting addresses over the tracking cap. */
  client: string | null;
  count: number;
  /** Count per HTTP status, e.g. { "401": 3, "429": 63707 }. */
  outcomes: Record<string, number>;
  since: string;
}

export interface AuditOptions {
  failClosed?: boolean;
  key: Buffer;
  /** Where the signed head goes; default `<file>.head`. Only regular files get one. */
  checkpointFile?: string;
  logger?: Logger;
  /** Fail-open: lines held in memory for the next attempt while the trail cannot be written. */
  maxRetained?: number;
  now?: () => number;
}

interface Item {
  body: Record<string, unknown>;
  resolve?: () => void;
  reject?: (error: Error) => void;
  /** The trail's own lines (gap, outage): kept until written in either mode. */
  event?: boolean;
}

interface Outage {
  since: number;
  failedWrites: number;
  /** Lines never written: refused requests in fail-closed mode, overflow in fail-open mode. */
  dropped: number;
  error: Error;
}

/** Only the error's code and call: enough for an operator, nothing a request could have put there. */
const errorFields = (error: Error) => {
  const e = error as NodeJS.ErrnoException;
  return { code: e.code ?? e.name, syscall: e.syscall };
};

/** Logs a repeating failure at most once per interval, with the count since the last line. */
class FailureReport {
  #loggedAt = Number.NEGATIVE_INFINITY;
  #unlogged = 0;
  #failing = false;

  constructor(
    private readonly log: Logger | undefined,
    private readonly message: string,
    private readonly now: () => number,
    private readonly intervalMs = 10_000,
  ) {}

  failed(error: Error, fields: Record<string, unknown> = {}): void {
    this.#failing = true;
    this.#unlogged++;
    const now = this.now();
    if (now - this.#loggedAt < this.intervalMs) return;
    this.log?.error({ err: errorFields(error), failures: this.#unlogged, ...fields }, this.message);
    this.#loggedAt = now;
    this.#unlogged = 0;
  }

  recovered(message: string, fields: Record<string, unknown>): void {
    if (!this.#failing) return;
    this.log?.warn(fields, message);
    this.#failing = false;
    this.#unlogged = 0;
    this.#loggedAt = Number.NEGATIVE_INFINITY;
  }
}

export class AuditLog {
  readonly failClosed: boolean;
  readonly #fd: number;
  readonly #ownsFd: boolean;
  readonly #regular: boolean;
  readonly #key: Buffer;
  readonly #checkpointFile: string | undefined;
  readonly #log: Logger | undefined;
  readonly #now: () => number;
  readonly #maxRetained: number;
  readonly #trailReport: FailureReport;
  readonly #checkpointReport: FailureReport;
  /** MAC of the last line on disk, and the file's size in lines and bytes up to it. */
  #prev = GENESIS;
  #lines = 0;
  #bytes = 0;
  #queue: Item[] = [];
  #retained: Item[] = [];
  #draining: Promise<void> | undefined;
  #force = false;
  #closed = false;
  /** A partial line could not be cut back: the next write starts on a new line. */
  #torn = false;
  #outage: Outage | undefined;

  /** `target`: a file path (appended to, mode 0600) or `-` for stdout. */
  constructor(target: string, options: AuditOptions) {
    this.failClosed = options.failClosed ?? false;
    this.#key = options.key;
    this.#log = options.logger;
    this.#now = options.now ?? Date.now;
    this.#maxRetained = options.maxRetained ?? 1000;
    this.#trailReport = new FailureReport(this.#log, 'audit trail cannot be written', this.#now);
    this.#checkpointReport = new FailureReport(this.#log, 'audit checkpoint cannot be written', this.#now);
    if (target === '-') {
      this.#fd = 1;
      this.#ownsFd = false;
      this.#regular = false;
      return;
    }
    // Read and append: the start-up checks read the tail.
    this.#fd = openSync(target, 'a+', 0o600);
    this.#ownsFd = true;
    // Only a regular file has a chain to continue and a checkpoint (not /dev/stdout and the like).
    this.#regular = fstatSync(this.#fd).isFile();
    if (!this.#regular) return;
    this.#checkpointFile = options.checkpointFile ?? `${target}.head`;
    this.#resume(target);
    this.#kick();
  }

  /** False while the last write failed; fail-closed gateways are not ready then. */
  get writable(): boolean {
    return this.#outage === undefined;
  }

  /** The error that keeps the trail unwritable, while it does. */
  get lastError(): Error | undefined {
    return this.#outage?.error;
  }

  /**
   * Appends one line. Lines are chained in the order they reach the file; writes are grouped so a
   * burst of requests costs one write. Resolves once the line is written; rejects when this attempt
   * failed (fail-open keeps the line, bounded, for the next attempt).
   */
  record(entry: AuditEntry | RefusalEntry): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new Error('the audit trail is closed'));
      this.#queue.push({ body: { time: this.#time(), ...entry }, resolve, reject });
      this.#kick();
    });
  }

  /**
   * Tries to write again now (the held lines, or a line recording the outage); for a readiness
   * check, so a fail-closed gateway without traffic still notices that space came back.
   */
  async retry(): Promise<boolean> {
    if (this.writable) return true;
    this.#force = true;
    this.#kick();
    await this.#draining;
    return this.writable;
  }

  /** Resolves once everything queued so far has been tried (and the checkpoint written). */
  async flushed(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** Writes what is queued, then closes the file (after an fsync, so the pair on disk agrees). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flushed();
    if (!this.#ownsFd) return;
    try {
      fsyncSync(this.#fd);
    } catch {
      // Nothing more to do at shutdown; the failure was logged when the write failed.
    }
    closeSync(this.#fd);
  }

  #time(): string {
    return new Date(this.#now()).toISOString();
  }

  #kick(): void {
    if (this.#draining || (this.#queue.length === 0 && !this.#force)) return;
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
      // A record that came in after the loop's last look.
      this.#kick();
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 || this.#force) {
      this.#force = false;
      const items = [...this.#retained, ...this.#queue];
      this.#queue = [];
      this.#retained = [];
      const outage = this.#outage;
      if (outage) {
        items.unshift({
          body: {
            time: this.#time(),
            event: 'outage',
            since: new Date(outage.since).toISOString(),
            failedWrites: outage.failedWrites,
            dropped: outage.dropped,
          },
          event: true,
        });
      }
      const error = await this.#append(items);
      if (error) {
        this.#failed(error, outage ? items.slice(1) : items);
        continue;
      }
      for (const item of items) item.resolve?.();
      if (outage) {
        this.#outage = undefined;
        this.#trailReport.recovered('audit trail writable again', {
          since: new Date(outage.since).toISOString(),
          failedWrites: outage.failedWrites,
          dropped: outage.dropped,
        });
      }
      await this.#saveCheckpoint();
    }
  }

  /** Seals and appends the lines; on failure cuts the file back to where it was and keeps the chain. */
  async #append(items: Item[]): Promise<Error | undefined> {
    let prev = this.#prev;
    let text = this.#torn ? '\n' : '';
    for (const item of items) {
      const sealed = sealLine(this.#key, item.body, prev);
      text += sealed.text;
      prev = sealed.mac;
    }
    const data = Buffer.from(text, 'utf8');
    const error = await new Promise<Error | undefined>((done) => {
      const step = (offset: number) =>
        write(this.#fd, data, offset, data.length - offset, null, (err, written) => {
          if (err) {
            this.#cutBack(offset);
            return done(err);
          }
          if (offset + written < data.length) return step(offset + written);
          done(undefined);
        });
      step(0);
    });
    if (error) return error;
    this.#lines += items.length + (this.#torn ? 1 : 0);
    this.#bytes = this.#regular ? fstatSync(this.#fd).size : this.#bytes + data.length;
    this.#torn = false;
    this.#prev = prev;
    return undefined;
  }

  /** Removes the `written` bytes of a failed batch, so no partial line stays behind. */
  #cutBack(written: number): void {
    if (written === 0) return;
    if (this.#regular) {
      try {
        ftruncateSync(this.#fd, fstatSync(this.#fd).size - written);
        return;
      } catch {
        // Fall through: the partial line stays and the next write starts a new line.
      }
    }
    this.#torn = true;
  }

  #failed(error: Error, items: Item[]): void {
    const outage = this.#outage ?? { since: this.#now(), failedWrites: 0, dropped: 0, error };
    this.#outage = outage;
    outage.error = error;
    outage.failedWrites++;
    for (const item of items) {
      item.reject?.(error);
      const keep = item.event || (!this.failClosed && this.#retained.length < this.#maxRetained);
      if (keep) this.#retained.push({ body: item.body, event: item.event });
      else outage.dropped++;
    }
    this.#trailReport.failed(error, { failClosed: this.failClosed, held: this.#retained.length });
  }

  /**
   * Written after each batch, renamed into place, not fsync'd: on a journaling filesystem the
   * rename does not reach the disk before the appended lines it points to, and an fsync per
   * batch would cost a disk flush per request. `close()` syncs the file.
   */
  async #saveCheckpoint(): Promise<void> {
    if (!this.#checkpointFile) return;
    const checkpoint = sealCheckpoint(this.#key, {
      lines: this.#lines,
      bytes: this.#bytes,
      mac: this.#prev,
      time: this.#time(),
    });
    try {
      await writeCheckpoint(this.#checkpointFile, checkpoint);
      this.#checkpointReport.recovered('audit checkpoint writable again', {});
    } catch (error) {
      this.#checkpointReport.failed(error as Error, { file: this.#checkpointFile });
    }
  }

  /** Continues the chain of an existing file and checks it against its checkpoint. */
  #resume(target: string): void {
    let scan = scanFile(this.#fd);
    if (scan.partial > 0) {
      // A line cut short by a crash mid-write was never acknowledged: remove it.
      ftruncateSync(this.#fd, scan.bytes - scan.partial);
      this.#log?.warn(
        { file: target, bytes: scan.partial },
        'audit file ended in a partial line: removed it',
      );
      scan = { ...scan, bytes: scan.bytes - scan.partial, partial: 0 };
    }
    this.#lines = scan.lines;
    this.#bytes = scan.bytes;
    const last = scan.last === undefined ? undefined : linkOf(scan.last);
    if (scan.last !== undefined && !last) {
      this.#log?.error({ file: target, line: scan.lines }, 'audit file: the last line is not an audit line');
    }
    this.#prev = last?.link ?? GENESIS;
    if (last && !last.keyed) {
      this.#log?.warn(
        { file: target, lines: scan.lines },
        'audit file holds lines from before the audit key: they cannot be verified as keyed; new lines are keyed',
      );
    }
    if (last?.keyed && !lineVerifies(this.#key, scan.last as string)) {
      this.#log?.error(
        { file: target, line: scan.lines },
        'audit file: the last line does not verify under the audit key (edited, or written under another key)',
      );
    }

    const file = this.#checkpointFile as string;
    const found = { lines: scan.lines, bytes: scan.bytes };
    const read = readCheckpoint(file, this.#key);
    if (read.state === 'other-key') {
      throw new ConfigError(
        `the audit checkpoint ${file} was written under another audit key (key id ${read.keyId}, this gateway's is ${keyIdOf(this.#key)}): configure the key that wrote ${target}`,
      );
    }
    if (read.state === 'missing') {
      if (last?.keyed) this.#gap(target, 'its checkpoint is missing', found);
      return;
    }
    if (read.state === 'invalid') {
      this.#gap(target, `its checkpoint ${read.reason}`, found);
      return;
    }
    const c = read.checkpoint;
    const problem =
      scan.bytes < c.bytes
        ? `its tail was cut: the checkpoint records ${c.lines} lines, the file has ${scan.lines}`
        : linkOf(lineEndingAt(this.#fd, c.bytes) ?? '')?.link !== c.mac
          ? `it does not hold the checkpointed line ${c.lines}: rewritten or replaced`
          : undefined;
    if (!problem) return;
    // Link the next line to the lost head, so verify shows the break where it happened.
    this.#prev = c.mac;
    this.#gap(target, problem, found, { lines: c.lines, bytes: c.bytes, time: c.time });
  }

  /** Says loudly that lines are missing and writes a line that verify reports. */
  #gap(
    target: string,
    reason: string,
    found: { lines: number; bytes: number },
    expected?: { lines: number; bytes: number; time: string },
  ): void {
    this.#log?.error(
      { file: target, found, expected },
      `audit trail: ${reason}; lines may have been removed`,
    );
    this.#queue.push({ body: { time: this.#time(), event: 'gap', reason, found, expected }, event: true });
  }
}

export interface AuditSettings {
  /** File path or `-`. */
  target: string;
  failClosed: boolean;
  /** SGW_AUDIT_KEY: base64 of 32 bytes. */
  keyBase64?: string;
  /** Used (and generated on first start) when no SGW_AUDIT_KEY is set. */
  keyFile: string;
  checkpointFile?: string;
  logger?: Logger;
}

/**
 * Loads (or generates) the audit key and opens the trail. Never generates a key beside a file that
 * already holds keyed lines: the old lines could not be verified any more.
 */
export function openAuditLog(settings: AuditSettings): AuditLog {
  const { target, keyFile } = settings;
  if (!settings.keyBase64 && !existsSync(keyFile) && target !== '-' && hasKeyedLines(target)) {
    throw new ConfigError(
      `the audit file ${target} holds keyed lines but its key ${keyFile} is missing: restore it or set SGW_AUDIT_KEY`,
    );
  }
  let loaded: ReturnType<typeof loadAuditKey>;
  try {
    loaded = loadAuditKey({ base64: settings.keyBase64, file: keyFile, create: true });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (loaded.generated)
    settings.logger?.warn({ file: keyFile }, 'audit key generated: keep it apart from the audit file');
  return new AuditLog(target, {
    failClosed: settings.failClosed,
    key: loaded.key,
    checkpointFile: settings.checkpointFile,
    logger: settings.logger,
  });
}

function hasKeyedLines(target: string): boolean {
  let fd: number;
  try {
    fd = openSync(target, 'r');
  } catch {
    return false;
  }
  try {
    if (!fstatSync(fd).isFile()) return false;
    const last = scanFile(fd).last;
    return last !== undefined && linkOf(last)?.keyed === true;
  } finally {
    closeSync(fd);
  }
}

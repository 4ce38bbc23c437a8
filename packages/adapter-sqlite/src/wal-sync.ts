import { closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';
import { BackendUnavailableError } from '@secret-gateway/core';

/**
 * fdatasync of a database's write-ahead log, for group commit: with `synchronous = NORMAL` SQLite
 * writes a commit to the WAL without syncing it, and this makes it durable from the libuv thread
 * pool instead of the event loop. SQLite keeps the WAL file (same inode) while any connection is
 * open, and the adapter's is open whenever this runs, so one descriptor, opened at the first sync
 * (after the first commit made the file), serves.
 */
export class WalSync {
  readonly #path: string;
  #fd: number | undefined;

  constructor(databaseFile: string) {
    this.#path = `${databaseFile}-wal`;
  }

  /** Rejects with the errno error; `syncError` makes it the store's. */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      fdatasync(this.#descriptor(), (error) => (error ? reject(error) : resolve()));
    });
  }

  syncNow(): void {
    fdatasyncSync(this.#descriptor());
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #descriptor(): number {
    this.#fd ??= openSync(this.#path, 'r');
    return this.#fd;
  }
}

/** A failed fsync is the store being unavailable: the cause keeps the errno, the message its code. */
export function syncError(error: unknown): BackendUnavailableError {
  const code = (error as { code?: unknown }).code;
  return new BackendUnavailableError(
    'server_error',
    `SQLite store failed: fsync of the write-ahead log ${typeof code === 'string' ? code : 'failed'}`,
    { cause: error },
  );
}

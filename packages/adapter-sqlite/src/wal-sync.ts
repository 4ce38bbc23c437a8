import { closeSync, fdatasync, fdatasyncSync, fstatSync, openSync, statSync } from 'node:fs';
import { BackendUnavailableError } from '@secret-gateway/core';

/**
 * fdatasync of a database's write-ahead log, for group commit: with `synchronous = NORMAL` SQLite
 * writes a commit to the WAL without syncing it, and this makes it durable from the libuv thread
 * pool instead of the event loop. SQLite keeps the WAL file (same inode) while any connection is
 * open, so one descriptor serves; it is reopened if the file was ever replaced.
 */
export class WalSync {
  readonly #path: string;
  #fd: number | undefined;
  #inode = -1;

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
    const inode = statSync(this.#path).ino;
    if (this.#fd === undefined || inode !== this.#inode) {
      this.close();
      this.#fd = openSync(this.#path, 'r');
      this.#inode = fstatSync(this.#fd).ino;
    }
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

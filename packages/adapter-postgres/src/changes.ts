import pg from 'pg';
import { CHANGES_CHANNEL } from './schema.ts';

export interface ListenerOptions {
  /** Connection settings of the pool (one more connection, outside it). */
  config: pg.ClientConfig;
  /** This adapter's id: NOTIFYs it sent itself are ignored (SecretService already evicted the path). */
  selfId: string;
  /** The listener proves its connection alive this often (a `SELECT 1`), in ms. */
  heartbeatMs: number;
  /**
   * Bounded staleness when notifications may be lost: a heartbeat unanswered this long (a half-open
   * TCP connection delivers nothing and reports nothing) counts as a lost connection, so checks
   * answer "changed" at most heartbeatMs + staleAfterMs after the listener went silent.
   */
  staleAfterMs: number;
}

/**
 * Other replicas' commits, through LISTEN/NOTIFY on one dedicated connection: every write and delete
 * sends a NOTIFY in its transaction, delivered when it commits. While the connection is down (the
 * database restarting, a network cut) `changed()` answers true, so every cached read goes to the
 * database; once it is back and listening, it answers true once more, for commits made while down.
 */
export class ChangeListener {
  readonly #options: ListenerOptions;
  #client: pg.Client | undefined;
  #listening = false;
  #changed = false;
  #closed = false;
  #retryMs = 50;
  #timer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #beating = false;
  /** Resolves once the first LISTEN is in place (or failed). */
  readonly ready: Promise<void>;

  constructor(options: ListenerOptions) {
    this.#options = options;
    this.ready = this.#connect();
  }

  /** True when another replica committed since the last call, or when that cannot be known. Never throws. */
  changed(): boolean {
    if (!this.#listening) return true;
    if (!this.#changed) return false;
    this.#changed = false;
    return true;
  }

  get listening(): boolean {
    return this.#listening;
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client(this.#options.config);
    this.#client = client;
    const lost = () => this.#lost(client);
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => {
      if (message.channel !== CHANGES_CHANNEL || message.payload === this.#options.selfId) return;
      this.#changed = true;
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      if (this.#closed || this.#client !== client) return;
      // Commits made while nobody listened were not heard: report one change for them.
      this.#changed = true;
      this.#listening = true;
      this.#retryMs = 50;
      this.#heartbeat = setInterval(() => this.#beat(client), this.#options.heartbeatMs);
      this.#heartbeat.unref();
    } catch {
      this.#lost(client);
    }
  }

  #beat(client: pg.Client): void {
    // One heartbeat at a time: a second query on a busy client would queue behind the first (pg
    // warns that this is deprecated) and prove nothing more.
    if (this.#beating) return;
    this.#beating = true;
    // The client's query_timeout (staleAfterMs) ends a heartbeat that gets no answer.
    client
      .query('SELECT 1')
      .catch(() => this.#lost(client))
      .finally(() => {
        this.#beating = false;
      });
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#listening = false;
    clearInterval(this.#heartbeat);
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    if (this.#closed) return;
    // Back off up to 2 s while the database is away; a reconnect is one connection attempt.
    this.#timer = setTimeout(() => void this.#connect(), this.#retryMs);
    this.#timer.unref();
    this.#retryMs = Math.min(2000, this.#retryMs * 2);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#heartbeat);
    const client = this.#client;
    this.#client = undefined;
    this.#listening = false;
    await client?.end().catch(() => undefined);
  }
}

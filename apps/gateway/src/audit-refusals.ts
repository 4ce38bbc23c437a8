import type { AuditLog, RefusalEntry } from './audit.ts';

interface Tally {
  count: number;
  outcomes: Record<string, number>;
}

/**
 * Refused unauthenticated requests (401, 429) become one audit line per client address per
 * interval, with counts, instead of one line each: a locked-out client once wrote 63,710 lines in
 * 5 s. At most `maxClients` addresses are tracked per interval; the rest share one line.
 */
export class RefusalTally {
  readonly #audit: AuditLog;
  readonly #maxClients: number;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout;
  #clients = new Map<string, Tally>();
  /** Requests from addresses over the cap, in one line with `client: null`. */
  #overflow: Tally = { count: 0, outcomes: {} };
  #since: number;

  constructor(
    audit: AuditLog,
    options: { intervalMs?: number; maxClients?: number; now?: () => number } = {},
  ) {
    this.#audit = audit;
    this.#maxClients = options.maxClients ?? 1000;
    this.#now = options.now ?? Date.now;
    this.#since = this.#now();
    this.#timer = setInterval(() => void this.flush(), options.intervalMs ?? 10_000);
    this.#timer.unref();
  }

  /** Counts one refused request from a client that did not authenticate. */
  note(client: string, status: number): void {
    let tally = this.#clients.get(client);
    if (!tally) {
      if (this.#clients.size >= this.#maxClients) {
        // Counting distinct addresses here would need the memory the cap saves: count requests.
        add(this.#overflow, status);
        return;
      }
      tally = { count: 0, outcomes: {} };
      this.#clients.set(client, tally);
    }
    add(tally, status);
  }

  /** Writes the lines for the interval so far and starts a new one. */
  flush(): Promise<void> {
    const since = new Date(this.#since).toISOString();
    const entries: RefusalEntry[] = [];
    for (const [client, tally] of this.#clients)
      entries.push({ op: 'refused', key: null, client, ...tally, since });
    if (this.#overflow.count > 0) {
      const { count, outcomes } = this.#overflow;
      entries.push({ op: 'refused', key: null, client: null, count, outcomes, since });
    }
    this.#clients = new Map();
    this.#overflow = { count: 0, outcomes: {} };
    this.#since = this.#now();
    // A failing trail logs and counts its own failures; nothing to add here.
    return Promise.all(entries.map((e) => this.#audit.record(e).catch(() => undefined))).then(
      () => undefined,
    );
  }

  /** Stops the timer and writes what was counted; call before closing the audit log. */
  close(): Promise<void> {
    clearInterval(this.#timer);
    return this.flush();
  }
}

function add(tally: Tally, status: number): void {
  tally.count++;
  tally.outcomes[status] = (tally.outcomes[status] ?? 0) + 1;
}

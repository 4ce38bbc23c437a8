import type { AwsSecret } from './state.ts';

/**
 * Eventual consistency ("All Secrets Manager operations are eventually consistent": the SDK's
 * ListSecretsCommand.d.ts): past states of each secret, so a read can be answered from the secret
 * as it was some milliseconds ago. Kept only as far back as a stale read can look.
 */
export class StaleHistory {
  readonly #entries = new Map<string, Array<{ at: number; secret: AwsSecret | undefined }>>();

  /** The secret's state after a change at `at` (undefined: gone). */
  record(name: string, secret: AwsSecret | undefined, at: number, keepMs: number): void {
    const list = this.#entries.get(name) ?? [];
    list.push({ at, secret: secret && structuredClone(secret) });
    // Drop all but the newest entry older than a stale read can look.
    while (list.length > 1 && (list[1] as { at: number }).at <= at - keepMs) list.shift();
    this.#entries.set(name, list);
  }

  /**
   * The secret as it was at `at`: undefined if it did not exist yet (or was gone), 'unknown' when
   * nothing about it was recorded (it has not changed since staleness was switched on).
   */
  at(name: string, at: number): AwsSecret | undefined | 'unknown' {
    const list = this.#entries.get(name);
    if (!list) return 'unknown';
    let found: AwsSecret | undefined;
    for (const entry of list) {
      if (entry.at > at) break;
      found = entry.secret;
    }
    return found;
  }
}

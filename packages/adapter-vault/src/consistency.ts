/**
 * Read-your-writes against Vault/OpenBao standbys, which serve reads from storage that trails the
 * active node (OpenBao by default; Vault Enterprise performance standbys). Requests that modify
 * storage answer with `X-Vault-Index`; sending the newest one back with
 * `X-Vault-Inconsistent: forward-active-node` makes a standby that has not applied it yet forward
 * the request to the active node, or (where forwarding is not allowed) refuse it with 412 for us to
 * retry. https://developer.hashicorp.com/vault/docs/enterprise/consistency,
 * https://openbao.org/docs/concepts/consistency/
 */
export class ConsistencyState {
  #index: string | undefined;

  /** Keeps the index of a response that modified storage (the newest answer wins). */
  record(header: string | string[] | undefined): void {
    // The value is opaque and passed back as is; a long one is not Vault's.
    if (typeof header === 'string' && header !== '' && header.length <= 4096) this.#index = header;
  }

  /** Headers for every request. Standbys that do not track indexes ignore them. */
  headers(): Record<string, string> {
    return this.#index === undefined
      ? { 'X-Vault-Inconsistent': 'forward-active-node' }
      : { 'X-Vault-Index': this.#index, 'X-Vault-Inconsistent': 'forward-active-node' };
  }
}

/**
 * For a read that decides a write (the metadata before a check-and-set): always the active node's
 * answer, whoever wrote last. Performance standbys honour it; other nodes ignore the header, and
 * the check-and-set still refuses a stale version.
 */
export const FROM_ACTIVE_NODE = { 'X-Vault-Forward': 'active-node' } as const;

/** Waits before retrying a read a standby refused as behind (412): short, growing, jittered. */
export function standbyBackoffMs(attempt: number): number {
  return Math.min(400, 20 * 2 ** attempt) * (0.5 + Math.random() / 2);
}

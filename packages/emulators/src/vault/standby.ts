import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http.ts';

/**
 * A standby node that serves reads from its own storage, which trails the active node's
 * (https://openbao.org/docs/concepts/consistency/ : on by default in OpenBao with integrated
 * storage; https://developer.hashicorp.com/vault/docs/enterprise/consistency : Vault Enterprise
 * performance standbys). Requests that modify storage go to the active node and answer with
 * `X-Vault-Index`; a request carrying an index the standby has not applied yet is forwarded to the
 * active node when it says `X-Vault-Inconsistent: forward-active-node`, else refused (Vault: 412,
 * OpenBao: 429 with Retry-After) for the client to retry. `X-Vault-Forward: active-node` always
 * forwards (Vault's blind forwarding).
 */
export interface StandbyOptions {
  /** How far the standby's storage trails the active node's, in ms. */
  staleMs: number;
  /**
   * Whether `X-Vault-Inconsistent: forward-active-node` is honoured (Vault Enterprise needs
   * `allow_forwarding_via_header` in its replication stanza; OpenBao honours it). Default true.
   */
  allowForwarding?: boolean;
  /** The answer of a standby behind a required index: 412 (Vault, default) or 429 (OpenBao). */
  behindStatus?: 412 | 429;
}

export type StandbyView =
  | { fresh: true }
  | { fresh: false; at: number; behind?: (res: ServerResponse) => void };

const CLUSTER = 'sgw-emulator';

/** The index is opaque to clients: base64 of a small JSON object, as OpenBao's index headers RFC. */
const encode = (index: number) =>
  Buffer.from(JSON.stringify({ cluster: CLUSTER, value: String(index) })).toString('base64');

function decode(header: string | string[] | undefined): number | undefined {
  if (typeof header !== 'string' || header === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as {
      cluster?: unknown;
      value?: unknown;
    };
    // Another cluster's index is ignored, not refused.
    if (parsed.cluster !== CLUSTER) return undefined;
    const value = Number(parsed.value);
    return Number.isSafeInteger(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function createStandby(options: StandbyOptions) {
  let index = 0;
  const log: Array<{ at: number; index: number }> = [];
  /** Requests the standby forwarded to the active node or refused as behind (for tests). */
  const counts = { forwarded: 0, behind: 0 };

  /** The newest index the standby has applied at `cutoff`. */
  const applied = (cutoff: number) => {
    while (log.length > 1 && (log[1] as { at: number }).at <= cutoff) log.shift();
    const first = log[0];
    return first && first.at <= cutoff ? first.index : first ? first.index - 1 : index;
  };

  return {
    options,
    counts,
    get staleMs() {
      return options.staleMs;
    },
    set staleMs(ms: number) {
      options.staleMs = ms;
    },
    /** A storage write happened on the active node: the headers its answer carries. */
    wrote(): Record<string, string> {
      index++;
      log.push({ at: Date.now(), index });
      return { 'X-Vault-Index': encode(index) };
    },
    /** Where a read is served from. */
    view(req: IncomingMessage): StandbyView {
      if (req.headers['x-vault-forward'] === 'active-node') {
        counts.forwarded++;
        return { fresh: true };
      }
      const cutoff = Date.now() - options.staleMs;
      const required = decode(req.headers['x-vault-index']);
      if (required === undefined || required <= applied(cutoff)) return { fresh: false, at: cutoff };
      const inconsistent = String(req.headers['x-vault-inconsistent'] ?? '');
      if (inconsistent.includes('forward-active-node') && options.allowForwarding !== false) {
        counts.forwarded++;
        return { fresh: true };
      }
      counts.behind++;
      return {
        fresh: false,
        at: cutoff,
        behind: (res) =>
          options.behindStatus === 429
            ? sendJson(res, 429, { errors: ['required index state not present'] }, { 'Retry-After': '1' })
            : sendJson(res, 412, { errors: ['required index state not present'] }),
      };
    },
  };
}

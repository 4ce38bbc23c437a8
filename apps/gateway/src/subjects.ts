import type { IncomingHttpHeaders } from 'node:http';
import type { Caller } from '@secret-gateway/groups';
import { BEARER, type Principal, sameText, sha256Hex } from './auth.ts';
import type { GatewayConfig } from './config.ts';

/** A principal of the secret-groups API: a subject, never allowed anything on `/secrets`. */
export interface SubjectPrincipal extends Principal {
  caller: Caller;
}

const NOTHING: ReadonlySet<never> = new Set();

/**
 * The subjects of the secret-groups API (seed 001): each presents `Authorization: Bearer <token>`,
 * kept here only as the token's SHA-256, compared with every subject's digest in constant time.
 * Team memberships are resolved once, at start.
 */
export class SubjectStore {
  readonly #subjects: Array<{ digest: string; principal: SubjectPrincipal }>;

  constructor(config: Pick<GatewayConfig, 'subjects' | 'teams'>) {
    this.#subjects = config.subjects.map((s) => {
      const memberships = new Set([s.subject]);
      for (const team of config.teams)
        if (team.members.includes(s.subject)) memberships.add(`team:${team.name}`);
      const caller: Caller = { subject: s.subject, tenantAdmin: s.tenantAdmin, memberships };
      return {
        digest: s.tokenSha256,
        principal: { name: s.subject, operations: NOTHING, prefixes: [], caller },
      };
    });
  }

  get size(): number {
    return this.#subjects.length;
  }

  authenticate(headers: IncomingHttpHeaders): SubjectPrincipal | undefined {
    const header = headers.authorization;
    if (this.#subjects.length === 0 || typeof header !== 'string' || !BEARER.test(header)) return undefined;
    const digest = sha256Hex(header.replace(BEARER, ''));
    let found: SubjectPrincipal | undefined;
    for (const s of this.#subjects) if (sameText(digest, s.digest) && !found) found = s.principal;
    return found;
  }
}

export function callerOf(principal: Principal | undefined): Caller | undefined {
  return (principal as SubjectPrincipal | undefined)?.caller;
}

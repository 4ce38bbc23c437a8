import { randomBytes } from 'node:crypto';
import type { PolicyRule } from './policy.ts';

/** Credentials the emulator's AppRole login accepts (`auth/<mount>/login`, mount default `approle`). */
export interface AppRoleCredentials {
  roleId: string;
  secretId: string;
  mount?: string;
}

/** A Kubernetes auth role and the service-account JWT it accepts (mount default `kubernetes`). */
export interface KubernetesCredentials {
  role: string;
  jwt: string;
  mount?: string;
}

export interface LoginResult {
  status: number;
  body: unknown;
}

/**
 * Tokens as Vault sees them: the root token, plus tokens issued by AppRole and Kubernetes logins.
 * Login failures answer as Vault does (400 for AppRole, 403 for Kubernetes).
 */
export class TokenStore {
  readonly #root: string;
  readonly #issued = new Set<string>();
  /** Tokens limited by a policy (backdoor `grant`); any other valid token is a root token. */
  readonly #policies = new Map<string, PolicyRule[]>();
  /** Logins served since start (for tests). */
  logins = 0;

  constructor(
    root: string,
    readonly approle: AppRoleCredentials | undefined,
    readonly kubernetes: KubernetesCredentials | undefined,
    readonly ttlSeconds: number,
  ) {
    this.#root = root;
  }

  valid(token: unknown): boolean {
    return (
      typeof token === 'string' &&
      (token === this.#root || this.#issued.has(token) || this.#policies.has(token))
    );
  }

  /** Backdoor: a token that Vault accepts, limited to a policy's rules. */
  grant(token: string, rules: PolicyRule[]): void {
    this.#policies.set(token, rules);
  }

  /** Backdoor: a granted token stops working, as after `vault token revoke`. */
  revoke(token: string): void {
    this.#policies.delete(token);
    this.#issued.delete(token);
  }

  /** The rules a token is limited to; undefined for a root token. */
  policyOf(token: string): PolicyRule[] | undefined {
    return this.#policies.get(token);
  }

  /** Backdoor: every issued (non-root) token stops working, as after expiry or revocation. */
  revokeIssued(): void {
    this.#issued.clear();
  }

  /** Answers `POST /v1/auth/<mount>/login`, or undefined when no auth method is mounted there. */
  login(mount: string, body: Record<string, unknown>): LoginResult | undefined {
    if (this.approle && mount === (this.approle.mount ?? 'approle')) {
      if (body.role_id !== this.approle.roleId || body.secret_id !== this.approle.secretId) {
        return { status: 400, body: { errors: ['invalid role or secret ID'] } };
      }
      return this.#issue();
    }
    if (this.kubernetes && mount === (this.kubernetes.mount ?? 'kubernetes')) {
      if (body.role !== this.kubernetes.role) {
        return { status: 400, body: { errors: [`invalid role name "${String(body.role)}"`] } };
      }
      if (body.jwt !== this.kubernetes.jwt) return { status: 403, body: { errors: ['permission denied'] } };
      return this.#issue();
    }
    return undefined;
  }

  #issue(): LoginResult {
    const token = `hvs.${randomBytes(12).toString('hex')}`;
    this.#issued.add(token);
    this.logins++;
    return {
      status: 200,
      body: {
        auth: {
          client_token: token,
          lease_duration: this.ttlSeconds,
          renewable: true,
          policies: ['default'],
        },
      },
    };
  }
}

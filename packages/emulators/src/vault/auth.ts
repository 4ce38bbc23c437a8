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

/** An issued token's lifetime: expiresAt 0 never expires; maxExpiresAt caps renewals. */
interface IssuedToken {
  ttlMs: number;
  expiresAt: number;
  maxExpiresAt: number;
  renewable: boolean;
}

/**
 * Tokens as Vault sees them: the root token, plus tokens issued by AppRole and Kubernetes logins
 * (and the `create` backdoor). A token past its TTL is refused with 403 permission denied, as
 * Vault refuses an expired token; renew-self extends a renewable one up to its max TTL
 * (https://developer.hashicorp.com/vault/api-docs/auth/token#renew-a-token-self).
 * Login failures answer as Vault does (400 for AppRole, 403 for Kubernetes).
 */
export class TokenStore {
  readonly #root: string;
  readonly #issued = new Map<string, IssuedToken>();
  /** Tokens limited by a policy (backdoor `grant`); any other valid token is a root token. */
  readonly #policies = new Map<string, PolicyRule[]>();
  /** Logins and renewals served since start (for tests). */
  logins = 0;
  renewals = 0;

  constructor(
    root: string,
    readonly approle: AppRoleCredentials | undefined,
    readonly kubernetes: KubernetesCredentials | undefined,
    readonly ttlSeconds: number,
  ) {
    this.#root = root;
  }

  valid(token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const issued = this.#issued.get(token);
    if (issued) return issued.expiresAt === 0 || issued.expiresAt > Date.now();
    return token === this.#root || this.#policies.has(token);
  }

  /**
   * Backdoor: a token as `vault token create -ttl=… -renewable=… -explicit-max-ttl=…` makes one
   * (ttlSeconds 0 = never expires).
   */
  create(options: { ttlSeconds: number; renewable?: boolean; maxTtlSeconds?: number }): string {
    const token = `hvs.${randomBytes(12).toString('hex')}`;
    const t = Date.now();
    const ttlMs = options.ttlSeconds * 1000;
    this.#issued.set(token, {
      ttlMs,
      expiresAt: ttlMs > 0 ? t + ttlMs : 0,
      maxExpiresAt: options.maxTtlSeconds ? t + options.maxTtlSeconds * 1000 : Number.POSITIVE_INFINITY,
      renewable: options.renewable ?? true,
    });
    return token;
  }

  /** `GET auth/token/lookup-self` (allowed by Vault's default policy): the token's remaining TTL. */
  lookupSelf(token: string): LoginResult {
    const issued = this.#issued.get(token);
    const ttl =
      issued && issued.expiresAt > 0 ? Math.max(0, Math.floor((issued.expiresAt - Date.now()) / 1000)) : 0;
    return {
      status: 200,
      body: {
        data: {
          creation_ttl: issued ? Math.floor(issued.ttlMs / 1000) : 0,
          expire_time: issued && issued.expiresAt > 0 ? new Date(issued.expiresAt).toISOString() : null,
          policies: issued ? ['default'] : ['root'],
          renewable: issued?.renewable ?? false,
          ttl,
        },
      },
    };
  }

  /**
   * `POST auth/token/renew-self`: a renewable token gets `increment` seconds (default its creation
   * TTL) from now, capped by its max TTL; other tokens are refused.
   */
  renewSelf(token: string, increment: unknown): LoginResult {
    const issued = this.#issued.get(token);
    if (!issued?.renewable || issued.expiresAt === 0) {
      return { status: 400, body: { errors: ['lease is not renewable'] } };
    }
    const t = Date.now();
    const wanted = typeof increment === 'number' && increment > 0 ? increment * 1000 : issued.ttlMs;
    issued.expiresAt = Math.min(t + wanted, issued.maxExpiresAt);
    this.renewals++;
    return {
      status: 200,
      body: {
        auth: {
          client_token: token,
          lease_duration: Math.floor((issued.expiresAt - t) / 1000),
          renewable: true,
          policies: ['default'],
        },
      },
    };
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
    const token = this.create({ ttlSeconds: this.ttlSeconds, renewable: true });
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

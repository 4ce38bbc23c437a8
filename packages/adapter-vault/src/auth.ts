import { readFileSync } from 'node:fs';
import type { VaultClient, VaultRequestOptions } from './client.ts';
import type { VaultAuth } from './config.ts';
import { mapLoginError, mapVaultError } from './errors.ts';

/**
 * Keeps the client logged in. With AppRole or Kubernetes auth it logs in on first use, again
 * before the token's lease runs out, and again when Vault refuses a token (expired or revoked).
 * With a static token it looks the token up on first use (auth/token/lookup-self) and, when the
 * token has a TTL and is renewable, renews it (auth/token/renew-self) at half of what is left;
 * a token that cannot be renewed, or whose renewals hit its max TTL, is reported through
 * `onWarning`. Both endpoints are allowed by Vault's default policy. Concurrent callers share one
 * login or renewal. A static token is renewed beside a call (it still works), triggered by calls:
 * readiness probes keep an idle gateway calling well inside any TTL.
 */
export class VaultLogin {
  readonly #client: VaultClient;
  readonly #auth: VaultAuth;
  readonly #timeoutMs: number;
  readonly #minReloginIntervalMs: number;
  #pending: Promise<void> | undefined;
  #renewAt = 0;
  #loggedInAt = Number.NEGATIVE_INFINITY;
  readonly #onWarning: (message: string) => void;
  /** A static token's TTL at creation (lookup-self), to see renewals being capped by its max TTL. */
  #creationTtl = 0;
  #looked = false;
  readonly #warned = new Set<string>();

  constructor(
    client: VaultClient,
    auth: VaultAuth,
    options: { timeoutMs: number; minReloginIntervalMs: number; onWarning?: (message: string) => void },
  ) {
    this.#client = client;
    this.#auth = auth;
    this.#timeoutMs = options.timeoutMs;
    this.#minReloginIntervalMs = options.minReloginIntervalMs;
    this.#onWarning = options.onWarning ?? (() => {});
  }

  /** True with AppRole or Kubernetes auth: the token is ours to renew. */
  get renewable(): boolean {
    return !('token' in this.#auth);
  }

  /** Resolves once the client holds a usable token (a static token's renewal never fails a call). */
  ensure(): Promise<void> {
    if (this.#renewAt > Date.now() && !this.#pending) return Promise.resolve();
    if ('token' in this.#auth) {
      // The static token works now: look it up or renew it beside the call, never in its way.
      this.#login();
      return Promise.resolve();
    }
    return this.#login();
  }

  /**
   * Logs in again after Vault refused the current token; false when that cannot help (a static
   * token, or a login so recent that the 403 must be the policy, not an expired token).
   */
  async refresh(): Promise<boolean> {
    if (!this.renewable) return false;
    if (!this.#pending && Date.now() - this.#loggedInAt < this.#minReloginIntervalMs) return false;
    this.#renewAt = 0;
    await this.#login();
    return true;
  }

  #login(): Promise<void> {
    // The shared login has no caller's signal: one caller's deadline must not fail the others.
    // A static token's renewal never rejects (#keepStaticToken catches), so it is safe unawaited.
    this.#pending ??= this.#run().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #run(): Promise<void> {
    if ('token' in this.#auth) return this.#keepStaticToken();
    try {
      await this.#loginOnce();
    } catch (error) {
      throw mapLoginError(error, 'roleId' in this.#auth ? 'AppRole' : 'Kubernetes');
    }
  }

  /** Looks a static token up once, then renews it while it is renewable. */
  async #keepStaticToken(): Promise<void> {
    const requestOptions: VaultRequestOptions = { timeout: this.#timeoutMs };
    try {
      if (!this.#looked) {
        const answer = (await this.#client.tokenLookupSelf({ requestOptions })) as {
          data?: { ttl?: unknown; renewable?: unknown; creation_ttl?: unknown; expire_time?: unknown };
        };
        this.#looked = true;
        // `ttl` is whole seconds (0 for a token about to expire, too); expire_time is exact.
        const expires =
          typeof answer.data?.expire_time === 'string' ? Date.parse(answer.data.expire_time) : Number.NaN;
        const ttl = Number.isNaN(expires)
          ? numberOr0(answer.data?.ttl)
          : Math.max(0.001, (expires - Date.now()) / 1000);
        this.#creationTtl = numberOr0(answer.data?.creation_ttl);
        if (ttl === 0) {
          this.#renewAt = Number.POSITIVE_INFINITY; // root or periodic-free token without expiry
        } else if (answer.data?.renewable !== true) {
          this.#warn(
            'static',
            `VAULT_TOKEN expires in ${duration(ttl)} and is not renewable: the gateway loses access then; use a renewable or periodic token, AppRole or Kubernetes auth`,
          );
          this.#renewAt = Number.POSITIVE_INFINITY;
        } else {
          this.#renewAt = Date.now() + ttl * 500;
        }
        return;
      }
      const answer = (await this.#client.tokenRenewSelf({ requestOptions })) as {
        auth?: { lease_duration?: unknown };
      };
      const lease = numberOr0(answer.auth?.lease_duration);
      this.#renewAt = lease > 0 ? Date.now() + lease * 500 : Number.POSITIVE_INFINITY;
      if (lease < this.#creationTtl) {
        this.#warn(
          'max-ttl',
          `VAULT_TOKEN reached its max TTL: Vault renewed it for ${duration(lease)} only, after which the gateway loses access; replace the token or use AppRole or Kubernetes auth`,
        );
      }
    } catch (error) {
      // The call itself will show whether the token still works; try again in a minute.
      this.#renewAt = Date.now() + 60_000;
      this.#warn(
        'renew-failed',
        `VAULT_TOKEN could not be ${this.#looked ? 'renewed' : 'looked up'} (${mapVaultError(error, 'token renewal').message}); retrying in a minute`,
      );
    }
  }

  /** Each kind of warning once: a caller logs it, it must not flood the log. */
  #warn(kind: string, message: string): void {
    if (this.#warned.has(kind)) return;
    this.#warned.add(kind);
    this.#onWarning(message);
  }

  async #loginOnce(): Promise<void> {
    const requestOptions: VaultRequestOptions = { timeout: this.#timeoutMs };
    const auth = this.#auth;
    let answer: { auth?: { lease_duration?: number } };
    if ('roleId' in auth) {
      answer = await this.#client.approleLogin({
        role_id: auth.roleId,
        secret_id: auth.secretId,
        ...(auth.mount ? { mount_point: auth.mount } : {}),
        requestOptions,
      });
    } else if ('kubernetesRole' in auth) {
      answer = await this.#client.kubernetesLogin({
        role: auth.kubernetesRole,
        jwt: readFileSync(auth.jwtFile, 'utf8').trim(),
        // Always explicit: node-vault 0.12.0 renders its default mount as empty (`auth//login`).
        mount_point: auth.mount ?? 'kubernetes',
        requestOptions,
      });
    } else {
      return;
    }
    // Log in again at 80% of the lease; a lease of 0 means the token does not expire.
    const lease = answer.auth?.lease_duration ?? 0;
    this.#loggedInAt = Date.now();
    this.#renewAt = lease > 0 ? Date.now() + lease * 800 : Number.POSITIVE_INFINITY;
  }
}

const numberOr0 = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);

/** Seconds as `3h5m`, `42s`: for an operator's log line. */
function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

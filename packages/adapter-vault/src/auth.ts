import { readFileSync } from 'node:fs';
import type { VaultClient, VaultRequestOptions } from './client.ts';
import type { VaultAuth } from './config.ts';
import { mapLoginError } from './errors.ts';

/**
 * Keeps the client logged in. With a static token there is nothing to do. With AppRole or
 * Kubernetes auth it logs in on first use, again before the token's lease runs out, and again when
 * Vault refuses a token (expired or revoked). Concurrent callers share one login.
 */
export class VaultLogin {
  readonly #client: VaultClient;
  readonly #auth: VaultAuth;
  readonly #timeoutMs: number;
  readonly #minReloginIntervalMs: number;
  #pending: Promise<void> | undefined;
  #renewAt = 0;
  #loggedInAt = Number.NEGATIVE_INFINITY;

  constructor(
    client: VaultClient,
    auth: VaultAuth,
    options: { timeoutMs: number; minReloginIntervalMs: number },
  ) {
    this.#client = client;
    this.#auth = auth;
    this.#timeoutMs = options.timeoutMs;
    this.#minReloginIntervalMs = options.minReloginIntervalMs;
  }

  /** True with AppRole or Kubernetes auth: the token is ours to renew. */
  get renewable(): boolean {
    return !('token' in this.#auth);
  }

  /** Resolves once the client holds a usable token. */
  ensure(): Promise<void> {
    if (!this.renewable || (this.#renewAt > Date.now() && !this.#pending)) return Promise.resolve();
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
    this.#pending ??= this.#run().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #run(): Promise<void> {
    try {
      await this.#loginOnce();
    } catch (error) {
      throw mapLoginError(error, 'roleId' in this.#auth ? 'AppRole' : 'Kubernetes');
    }
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

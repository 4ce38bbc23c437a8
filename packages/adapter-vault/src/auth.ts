import { readFileSync } from 'node:fs';
import type { VaultClient, VaultRequestOptions } from './client.ts';
import type { VaultAuth } from './config.ts';

/**
 * Keeps the client logged in. With a static token there is nothing to do. With AppRole or
 * Kubernetes auth it logs in on first use, again before the token's lease runs out, and again when
 * Vault refuses a token (expired or revoked). Concurrent callers share one login.
 */
export class VaultLogin {
  readonly #client: VaultClient;
  readonly #auth: VaultAuth;
  readonly #timeoutMs: number;
  #pending: Promise<void> | undefined;
  #renewAt = 0;

  constructor(client: VaultClient, auth: VaultAuth, timeoutMs: number) {
    this.#client = client;
    this.#auth = auth;
    this.#timeoutMs = timeoutMs;
  }

  /** True when a 403 may only mean the login token expired, so one fresh login is worth trying. */
  get renewable(): boolean {
    return !('token' in this.#auth);
  }

  /** Resolves once the client holds a usable token. */
  ensure(): Promise<void> {
    if (!this.renewable || (this.#renewAt > Date.now() && !this.#pending)) return Promise.resolve();
    return this.#login();
  }

  /** Logs in again (after Vault refused the current token). */
  refresh(): Promise<void> {
    this.#renewAt = 0;
    return this.#login();
  }

  #login(): Promise<void> {
    // The shared login has no caller's signal: one caller's deadline must not fail the others.
    this.#pending ??= this.#run().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #run(): Promise<void> {
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
    this.#renewAt = lease > 0 ? Date.now() + lease * 800 : Number.POSITIVE_INFINITY;
  }
}

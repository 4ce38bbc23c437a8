import { readFileSync } from 'node:fs';
import nodeVault from 'node-vault';
import type { VaultAdapterOptions } from './config.ts';

export type VaultClient = nodeVault.client;

/**
 * A node-vault client as production uses it. `noCustomHTTPVerbs`: LIST goes out as `GET ?list=true`
 * (works against every Vault and through proxies that drop unknown verbs). node-vault has no default
 * timeout, so every request gets one.
 */
export function createVaultClient(options: VaultAdapterOptions): VaultClient {
  return nodeVault({
    endpoint: options.endpoint,
    token: 'token' in options.auth ? options.auth.token : undefined,
    namespace: options.namespace,
    noCustomHTTPVerbs: true,
    requestOptions: {
      timeout: options.requestTimeoutMs ?? 5000,
      ...(options.ca ? { ca: readFileSync(options.ca) } : {}),
    },
  });
}

/** Logs in with AppRole when configured; node-vault keeps the token it gets. */
export async function authenticate(client: VaultClient, options: VaultAdapterOptions): Promise<void> {
  if ('token' in options.auth) return;
  await client.approleLogin({
    role_id: options.auth.roleId,
    secret_id: options.auth.secretId,
    ...(options.auth.mount ? { mount_point: options.auth.mount } : {}),
  });
}

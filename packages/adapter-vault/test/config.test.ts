import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { optionsFromEnv, VAULT_ENV } from '../src/config.ts';

describe('Vault adapter settings', () => {
  it('documents every variable it reads in docs/backends/vault.md', () => {
    const docs = readFileSync(resolve(import.meta.dirname, '../../../docs/backends/vault.md'), 'utf8');
    for (const { name } of VAULT_ENV) expect(docs, name).toContain(`\`${name}\``);
  });

  it('picks token, then AppRole, then Kubernetes auth, with the documented defaults', () => {
    const base = { VAULT_ADDR: 'https://vault:8200' };
    expect(
      optionsFromEnv({ ...base, VAULT_TOKEN: 't', VAULT_ROLE_ID: 'r', VAULT_SECRET_ID: 's' }),
    ).toMatchObject({
      auth: { token: 't' },
      maxVersions: 0,
    });
    expect(optionsFromEnv({ ...base, VAULT_ROLE_ID: 'r', VAULT_SECRET_ID: 's' }).auth).toEqual({
      roleId: 'r',
      secretId: 's',
      mount: undefined,
    });
    expect(optionsFromEnv({ ...base, VAULT_K8S_ROLE: 'gw' }).auth).toEqual({
      kubernetesRole: 'gw',
      jwtFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      mount: undefined,
    });
  });

  it("takes the request timeout from the gateway's settings, not from the environment", () => {
    const env = { VAULT_ADDR: 'https://vault:8200', VAULT_TOKEN: 't', SGW_BACKEND_TIMEOUT_MS: '9999' };
    expect(optionsFromEnv(env, { backendTimeoutMs: 1234 }).requestTimeoutMs).toBe(1234);
    expect(optionsFromEnv(env).requestTimeoutMs).toBe(5000);
  });

  it.each([['vault.internal:8200'], ['vault.internal'], ['ftp://vault.internal'], ['https://']])(
    'refuses VAULT_ADDR %s: not an http(s) URL',
    (address) => {
      expect(() => optionsFromEnv({ VAULT_ADDR: address, VAULT_TOKEN: 't' })).toThrow(
        /VAULT_ADDR must be an http:\/\/ or https:\/\/ URL/,
      );
    },
  );
});

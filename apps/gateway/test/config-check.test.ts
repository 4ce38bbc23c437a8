import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// `sgw-gateway config check` as an operator runs it: the real bin, a clean environment, no network.
const BIN = resolve(import.meta.dirname, '../bin/sgw-gateway.mjs');
const dir = mkdtempSync(join(tmpdir(), 'sgw-config-check-'));
// Credentials that must never be printed, in a good or a bad configuration.
const CANARY = 'canary-credential-5f1c9e';

function configCheck(env: Record<string, string>, args: string[] = []) {
  const res = spawnSync(process.execPath, [BIN, 'config', 'check', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', SGW_DATA_DIR: join(dir, 'data'), ...env },
  });
  expect(res.stdout + res.stderr).not.toContain(CANARY);
  return res;
}

// Each case starts a process that loads one adapter's SDK (Azure's alone takes seconds on a busy machine).
describe('sgw-gateway config check: backend settings, without connecting', { timeout: 60_000 }, () => {
  it.each([
    [
      'an unknown backend, with the valid names',
      { SGW_BACKEND: 'vaul' },
      /SGW_BACKEND must be one of sqlite, memory, vault, aws, gcp, azure, postgres \(got "vaul"\)/,
    ],
    ['AWS without a region', { SGW_BACKEND: 'aws', AWS_SECRET_ACCESS_KEY: CANARY }, /needs AWS_REGION/],
    [
      'AWS with a bad number',
      { SGW_BACKEND: 'aws', AWS_REGION: 'eu-west-1', SGW_AWS_MAX_ATTEMPTS: 'lots' },
      /SGW_AWS_MAX_ATTEMPTS must be a whole number/,
    ],
    ['Vault without an address', { SGW_BACKEND: 'vault', VAULT_TOKEN: CANARY }, /needs VAULT_ADDR/],
    [
      'a Vault address without a scheme',
      { SGW_BACKEND: 'vault', VAULT_ADDR: 'vault.internal:8200', VAULT_TOKEN: CANARY },
      /VAULT_ADDR must be an http:\/\/ or https:\/\/ URL/,
    ],
    [
      'a Vault address that is not a URL',
      { SGW_BACKEND: 'vault', VAULT_ADDR: 'https://', VAULT_TOKEN: CANARY },
      /VAULT_ADDR must be an http:\/\/ or https:\/\/ URL/,
    ],
    ['GCP without a project', { SGW_BACKEND: 'gcp' }, /needs GOOGLE_CLOUD_PROJECT/],
    [
      'GCP with a bad boolean',
      { SGW_BACKEND: 'gcp', GOOGLE_CLOUD_PROJECT: 'acme', SGW_GCP_INSECURE: 'yes' },
      /SGW_GCP_INSECURE must be true, false, 1 or 0/,
    ],
    ['Azure without a URL', { SGW_BACKEND: 'azure' }, /needs AZURE_KEYVAULT_URL/],
    [
      'Azure over http://',
      {
        SGW_BACKEND: 'azure',
        AZURE_KEYVAULT_URL: 'http://acme.vault.azure.net',
        SGW_AZURE_ACCESS_TOKEN: CANARY,
      },
      /AZURE_KEYVAULT_URL must be an https:\/\/ URL/,
    ],
    [
      'the embedded store with a bad boolean',
      { SGW_BACKEND: 'sqlite', SGW_SQLITE_PREFETCH: 'nope' },
      /SGW_SQLITE_PREFETCH must be true, false, 1 or 0/,
    ],
  ])('refuses %s, naming the variable', (_what, env, message) => {
    const res = configCheck(env);
    expect(res.stderr).toMatch(message);
    expect(res.stdout).toBe('');
    expect(res.status).toBe(1);
  });

  it('refuses an unknown backend named in the file', () => {
    const file = join(dir, 'vaul.yaml');
    writeFileSync(file, 'backend: vaul\n');
    const res = configCheck({}, ['--config', file]);
    expect(res.stderr).toMatch(/SGW_BACKEND must be one of .* \(got "vaul"\)/);
    expect(res.status).toBe(1);
  });

  it.each([
    [
      {
        SGW_BACKEND: 'aws',
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
        AWS_SECRET_ACCESS_KEY: CANARY,
      },
      'aws: region eu-west-1, the AWS endpoint, static credentials (AWS_ACCESS_KEY_ID), delete policy recovery-window',
    ],
    [
      // Nothing listens on port 1: the check passes because it does not connect.
      { SGW_BACKEND: 'vault', VAULT_ADDR: 'http://127.0.0.1:1', VAULT_TOKEN: CANARY, SGW_VAULT_MOUNT: 'kv' },
      'vault: http://127.0.0.1:1, KV v2 mount kv, a token (VAULT_TOKEN)',
    ],
    [
      {
        SGW_BACKEND: 'gcp',
        GOOGLE_CLOUD_PROJECT: 'acme',
        SGW_GCP_ENDPOINT: '127.0.0.1:1',
        SGW_GCP_INSECURE: 'TRUE',
        SGW_GCP_ACCESS_TOKEN: CANARY,
      },
      'gcp: project acme, endpoint 127.0.0.1:1 (plain text), a fixed access token (SGW_GCP_ACCESS_TOKEN, development only: never refreshed), automatic (global) replication',
    ],
    [
      {
        SGW_BACKEND: 'azure',
        AZURE_KEYVAULT_URL: 'https://acme.vault.azure.net',
        AZURE_TENANT_ID: 't',
        AZURE_CLIENT_ID: 'c',
        AZURE_CLIENT_SECRET: CANARY,
        SGW_AZURE_PURGE: '0',
      },
      'azure: https://acme.vault.azure.net, service principal c in tenant t, no purge after delete-all',
    ],
    [{ SGW_BACKEND: 'memory' }, 'memory: in this process only, nothing is kept across restarts'],
  ])('accepts good settings and describes them without credentials: %j', (env, description) => {
    const res = configCheck(env);
    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(/^configuration is valid: backend \w+, a generated key\(s\)/);
    expect(res.stdout.split('\n')[1]).toBe(description);
    expect(res.status).toBe(0);
  });

  it('checks the embedded store without making its data directory, key or database', () => {
    const dataDir = join(dir, 'never-made');
    const res = configCheck({ SGW_BACKEND: 'sqlite', SGW_DATA_DIR: dataDir });
    expect(res.stdout.split('\n')[1]).toBe(
      `sqlite: ${join(dataDir, 'secrets.db')}, master key from ${join(dataDir, 'master.key')}`,
    );
    expect(res.status).toBe(0);
    expect(existsSync(dataDir)).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { describeSettings, settingsFromEnv } from '../src/config.ts';

// The pure step `config check` runs: no credential is built, no file read, nothing contacted.
describe('Azure settings from the environment', () => {
  const url = 'https://acme.vault.azure.net';

  it('reads the URL, the identity and SGW_AZURE_*, with the documented defaults', () => {
    expect(settingsFromEnv({ AZURE_KEYVAULT_URL: url })).toEqual({
      vaultUrl: url,
      identity: { kind: 'default' },
      purge: true,
      caFile: undefined,
      disableChallengeResourceVerification: false,
      maxRetries: 2,
    });
    const full = settingsFromEnv({
      AZURE_KEYVAULT_URL: url,
      AZURE_TENANT_ID: 'tenant',
      AZURE_CLIENT_ID: 'client',
      AZURE_CLIENT_SECRET: 'client-secret-value',
      SGW_AZURE_PURGE: 'FALSE',
      SGW_AZURE_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: '1',
      SGW_AZURE_MAX_RETRIES: '0',
      SGW_AZURE_CA_FILE: '/etc/ca.pem',
    });
    expect(full).toMatchObject({
      identity: { kind: 'client-secret', tenantId: 'tenant', clientId: 'client' },
      purge: false,
      disableChallengeResourceVerification: true,
      maxRetries: 0,
      caFile: '/etc/ca.pem',
    });
    // The description names the identity, never its secret.
    expect(describeSettings(full)).toContain('service principal client in tenant tenant');
    expect(describeSettings(full)).not.toContain('client-secret-value');
    const token = settingsFromEnv({ AZURE_KEYVAULT_URL: url, SGW_AZURE_ACCESS_TOKEN: 'tok-value-123' });
    expect(describeSettings(token)).not.toContain('tok-value-123');
  });

  it.each([
    [{}, /needs AZURE_KEYVAULT_URL/],
    [{ AZURE_KEYVAULT_URL: 'http://acme.vault.azure.net' }, /AZURE_KEYVAULT_URL must be an https:\/\/ URL/],
    [{ AZURE_KEYVAULT_URL: 'acme.vault.azure.net' }, /AZURE_KEYVAULT_URL must be an https:\/\/ URL/],
    [{ AZURE_KEYVAULT_URL: url, AZURE_CLIENT_SECRET: 's' }, /needs AZURE_TENANT_ID and AZURE_CLIENT_ID/],
    [{ AZURE_KEYVAULT_URL: url, SGW_AZURE_PURGE: 'yes' }, /SGW_AZURE_PURGE must be true, false, 1 or 0/],
    [
      {
        AZURE_KEYVAULT_URL: url,
        AZURE_TENANT_ID: 't',
        AZURE_CLIENT_ID: 'c',
        AZURE_CLIENT_SECRET: 's',
        SGW_AZURE_DISABLE_INSTANCE_DISCOVERY: 'yes',
      },
      /SGW_AZURE_DISABLE_INSTANCE_DISCOVERY must be true, false, 1 or 0/,
    ],
    [
      { AZURE_KEYVAULT_URL: url, SGW_AZURE_MAX_RETRIES: '11' },
      /SGW_AZURE_MAX_RETRIES must be a whole number/,
    ],
  ])('%j is refused, naming the variable', (env, message) => {
    expect(() => settingsFromEnv(env as Record<string, string>)).toThrow(message);
  });
});

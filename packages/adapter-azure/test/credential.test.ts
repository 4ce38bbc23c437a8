import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AzureEmulator, startAzureEmulator } from '@secret-gateway/emulators/azure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AzureAdapter, fromEnv, staticTokenCredential } from '../src/index.ts';
import { adapterFor } from './helpers.ts';

// The real credential path: fromEnv builds @azure/identity's ClientSecretCredential, which gets
// tokens from the emulator's Entra ID endpoint over HTTPS; the vault accepts only unexpired ones.
const TENANT = '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';
const CLIENT = 'c0ffee00-1111-2222-3333-444455556666';
const SECRET = 'client-secret-Zq8~value';
const LIFETIME_S = 2;

let emu: AzureEmulator;
let caFile: string;
beforeAll(async () => {
  emu = await startAzureEmulator({
    tenantId: TENANT,
    entra: { clientId: CLIENT, clientSecret: SECRET, tokenLifetimeSeconds: LIFETIME_S },
  });
  caFile = join(mkdtempSync(join(tmpdir(), 'sgw-azure-')), 'ca.pem');
  writeFileSync(caFile, emu.certPem ?? '');
});
afterAll(() => emu.stop());

const envFor = (secret: string) => ({
  AZURE_KEYVAULT_URL: emu.vaultUrl,
  AZURE_TENANT_ID: TENANT,
  AZURE_CLIENT_ID: CLIENT,
  AZURE_CLIENT_SECRET: secret,
  AZURE_AUTHORITY_HOST: emu.url,
  SGW_AZURE_DISABLE_INSTANCE_DISCOVERY: 'true',
  SGW_AZURE_CA_FILE: caFile,
  SGW_AZURE_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: 'true',
  SGW_AZURE_MAX_RETRIES: '0',
});
const tokenRequests = () => emu.faults.count('/oauth2/v2.0/token');

/** Waits until every token issued so far has expired at the emulator. */
async function untilAllExpired(): Promise<void> {
  const last = Math.max(...emu.entra!.issued.values());
  await new Promise((r) => setTimeout(r, Math.max(0, last - Date.now()) + 50));
}

describe('Azure with a service principal (ClientSecretCredential) against the emulated Entra ID', () => {
  it('keeps working across token expiry: the credential fetched a new token', async () => {
    const adapter: AzureAdapter = fromEnv(envFor(SECRET));
    emu.faults.resetCounts();
    await adapter.check();
    const first = await adapter.write('tfy-secret/acme/prod/db', 'one');
    expect(tokenRequests()).toBeGreaterThanOrEqual(1);
    const issuedBefore = new Set(emu.entra!.issued.keys());

    await untilAllExpired();
    // Every token issued so far is now refused by the vault.
    for (const token of issuedBefore) expect(emu.entra!.valid(token)).toBe(false);
    const second = await adapter.write('tfy-secret/acme/prod/db', 'two');
    expect(second).toBe(first + 1);
    await expect(adapter.read('tfy-secret/acme/prod/db', undefined)).resolves.toEqual({
      value: 'two',
      version: second,
    });
    // A token issued after the expiry served those calls.
    expect([...emu.entra!.issued.keys()].some((t) => !issuedBefore.has(t))).toBe(true);
    expect(tokenRequests()).toBeGreaterThanOrEqual(2);
  });

  it('a fixed token (SGW_AZURE_ACCESS_TOKEN) is never refreshed: denied once it expires', async () => {
    // A token minted by the tenant, as one would be outside the gateway.
    const token = 'minted-for-test';
    emu.entra!.issued.set(token, Date.now() + LIFETIME_S * 1000);
    const adapter = adapterFor(emu, { credential: staticTokenCredential(token) });
    await expect(adapter.check()).resolves.toBeUndefined();
    await untilAllExpired();
    await expect(adapter.check()).rejects.toMatchObject({
      reason: 'denied',
      message: expect.stringContaining('401'),
    });
  });

  it('a wrong client secret: check() is denied, naming the secret as the problem, never its value', async () => {
    const wrong = 'wrong-secret-Xy7~value';
    const adapter = fromEnv(envFor(wrong));
    const error = (await adapter.check().catch((e: unknown) => e)) as Error & { detail?: unknown };
    expect(error).toMatchObject({
      reason: 'denied',
      message:
        'Azure Key Vault check get: Entra ID refused the service principal (invalid_client AADSTS7000215): AZURE_CLIENT_SECRET is wrong or expired (use the secret value, not its id)',
      detail: { backend: 'azure', operation: 'check get', backendCode: 'AADSTS7000215' },
    });
    expect(error.message).not.toContain(wrong);
    expect(error.message).not.toContain(SECRET);
    expect(emu.state.secrets.has('sgwc-9-health')).toBe(false);
  });
});

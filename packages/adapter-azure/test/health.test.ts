import { ClientSecretCredential } from '@azure/identity';
import { type AzureEmulator, startAzureEmulator } from '@secret-gateway/emulators/azure';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mapAzureError } from '../src/errors.ts';
import { fromEnv, staticTokenCredential } from '../src/index.ts';
import { adapterFor } from './helpers.ts';

// check() against the HTTPS emulator, which can accept only some tokens and deny an identity.
let emu: AzureEmulator;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(async () => {
  emu = await startAzureEmulator();
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  emu.tokens.accepted.clear();
  emu.tokens.denied.clear();
  await new Promise((r) => setTimeout(r, 20));
  expect(unhandled).toEqual([]);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await emu.stop();
});

describe('Azure check() proves reachable, authenticated and permitted', () => {
  it('passes on the emulator, and stores or deletes nothing', async () => {
    await expect(adapterFor(emu).check()).resolves.toBeUndefined();
    expect(emu.state.secrets.size).toBe(0);
    expect(emu.state.deleted.size).toBe(0);
  });

  it('a token the vault does not accept: denied (401)', async () => {
    emu.tokens.accepted.add('good-token');
    await expect(adapterFor(emu).check()).rejects.toMatchObject({
      reason: 'denied',
      message: "Azure Key Vault check get: 401 Unauthorized: Key Vault refused the identity's token",
      detail: { backend: 'azure', operation: 'check get', backendCode: 'Unauthorized' },
    });
    const good = adapterFor(emu, { credential: staticTokenCredential('good-token') });
    await expect(good.check()).resolves.toBeUndefined();
  });

  it('an identity without a role (403 ForbiddenByRbac): denied, naming the role, never the caller', async () => {
    emu.tokens.denied.add('test-token');
    const error = (await adapterFor(emu)
      .check()
      .catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({
      reason: 'denied',
      message:
        "Azure Key Vault check get: 403 Forbidden: check the identity's role (Key Vault Secrets Officer)",
    });
    expect(error.message).not.toMatch(/appid|Caller/);
  });

  it('a credential that cannot get a token: a typed denial, no unhandled rejection', async () => {
    // An authority that refuses connections: Entra ID unreachable, as with a wrong AZURE_AUTHORITY_HOST.
    const credential = new ClientSecretCredential('tenant', 'client', 'secret', {
      authorityHost: 'https://127.0.0.1:1',
      retryOptions: { maxRetries: 0 },
    });
    await expect(adapterFor(emu, { credential }).check()).rejects.toMatchObject({
      code: 'backend_error',
      reason: 'denied',
      message: expect.stringContaining('no Azure credential could get a token'),
      detail: { backend: 'azure', backendCode: expect.stringMatching(/Authentication|Credential/) },
    });
  });

  it('an http:// vault URL is refused at configuration time', () => {
    expect(() =>
      fromEnv({ AZURE_KEYVAULT_URL: 'http://my-vault.vault.azure.net', SGW_AZURE_ACCESS_TOKEN: 't' }),
    ).toThrow('AZURE_KEYVAULT_URL must be an https:// URL');
  });
});

describe('mapAzureError keeps Key Vault text out of messages', () => {
  it('403 whose message names the caller object id and tenant: message without them', () => {
    const raw =
      'Caller is not authorized. Caller: appid=1111;oid=2222-3333;iss=https://sts.windows.net/tenant-4444/ Vault: v;location=x';
    const mapped = mapAzureError(
      Object.assign(new Error(raw), { name: 'RestError', statusCode: 403, code: 'Forbidden' }),
      'get',
    );
    expect(mapped.message).not.toMatch(/appid|2222|4444/);
    expect(mapped.detail).toEqual({ backend: 'azure', operation: 'get', backendCode: 'Forbidden' });
  });

  it('a code that is not an identifier is dropped, the status kept', () => {
    const mapped = mapAzureError(
      Object.assign(new Error('x'), { name: 'RestError', statusCode: 400, code: 'value hunter2 is bad' }),
      'set',
    );
    expect(mapped.message).toBe('Azure Key Vault set: 400');
    expect(mapped.detail).toEqual({ backend: 'azure', operation: 'set', backendCode: '400' });
  });
});

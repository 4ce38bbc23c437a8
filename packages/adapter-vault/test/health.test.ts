import { BackendError } from '@secret-gateway/core';
import { startVaultEmulator, type VaultEmulator } from '@secret-gateway/emulators/vault';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mapVaultError } from '../src/errors.ts';
import { VaultAdapter } from '../src/index.ts';

// check() against the emulator, which enforces token policies and answers sys/capabilities-self.
let emu: VaultEmulator;
const adapters: VaultAdapter[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(async () => {
  emu = await startVaultEmulator();
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  // Let any stray rejection surface before judging.
  await new Promise((r) => setTimeout(r, 20));
  expect(unhandled).toEqual([]);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await Promise.all(adapters.map((a) => a.close()));
  await emu.stop();
});

const adapter = (token: string, mount?: string) => {
  const a = new VaultAdapter({ endpoint: emu.url, auth: { token }, requestTimeoutMs: 2000, mount });
  adapters.push(a);
  return a;
};

/** What the gateway needs under tfy-secret, as an operator would grant it. */
const FULL = [
  { path: 'secret/data/tfy-secret/*', capabilities: ['create', 'read', 'update'] },
  { path: 'secret/metadata/tfy-secret/*', capabilities: ['create', 'read', 'update', 'delete'] },
  { path: 'secret/destroy/tfy-secret/*', capabilities: ['update'] },
];

describe('Vault check() proves reachable, authenticated, permitted and mounted', () => {
  it('passes with the root token and with a policy granting exactly what the adapter uses', async () => {
    await expect(adapter(emu.token).check()).resolves.toBeUndefined();
    emu.tokens.grant('exact', FULL);
    await expect(adapter('exact').check()).resolves.toBeUndefined();
  });

  it('a token Vault does not know: denied, naming the token', async () => {
    await expect(adapter('not-a-token').check()).rejects.toMatchObject({
      code: 'backend_error',
      reason: 'denied',
      message: expect.stringMatching(/Vault denied check capabilities \(403\): check the token/),
      detail: { backend: 'vault', operation: 'check capabilities', backendCode: '403' },
    });
  });

  it('a policy that cannot read: denied, naming the capability and the path glob', async () => {
    emu.tokens.grant('no-read', [
      { path: 'secret/data/tfy-secret/*', capabilities: ['create', 'update'] },
      ...FULL.slice(1),
    ]);
    await expect(adapter('no-read').check()).rejects.toMatchObject({
      reason: 'denied',
      message: "Vault denies read on secret/data/tfy-secret/*: check the token's policy",
    });
  });

  it('a policy for another root, or one with deny: every missing capability is listed', async () => {
    emu.tokens.grant('elsewhere', [
      { path: 'secret/data/other/*', capabilities: ['create', 'read', 'update'] },
      { path: 'secret/metadata/tfy-secret/*', capabilities: ['deny'] },
      FULL[2] as (typeof FULL)[number],
    ]);
    const error = await adapter('elsewhere')
      .check()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toBe(
      "Vault denies create, read, update on secret/data/tfy-secret/*; create, read, update, delete on secret/metadata/tfy-secret/*: check the token's policy",
    );
  });

  it('a mount with no KV v2 engine: invalid, naming the mount', async () => {
    await expect(adapter(emu.token, 'kv-missing').check()).rejects.toMatchObject({
      code: 'backend_error',
      reason: 'invalid',
      message: 'Vault has no KV v2 engine mounted at kv-missing/: check SGW_VAULT_MOUNT',
    });
  });

  it('Vault unreachable: backend_unavailable, no unhandled rejection', async () => {
    const closed = new VaultAdapter({ endpoint: 'http://127.0.0.1:1', auth: { token: 't' } });
    adapters.push(closed);
    await expect(closed.check()).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'unreachable',
      detail: { backend: 'vault', backendCode: 'ECONNREFUSED' },
    });
  });

  it('the policy is enforced on real calls too: a read-only token cannot write', async () => {
    emu.tokens.grant('read-only', [
      { path: 'secret/data/tfy-secret/*', capabilities: ['read'] },
      { path: 'secret/metadata/tfy-secret/*', capabilities: ['read'] },
    ]);
    await expect(adapter('read-only').write('tfy-secret/ro/x', 'v')).rejects.toMatchObject({
      reason: 'denied',
    });
    expect(await adapter('read-only').read('tfy-secret/ro/x', undefined)).toBeNull();
  });
});

describe('mapVaultError keeps Vault text out of messages', () => {
  it('a 403 whose errors quote an ARN and account id: message without them, detail with the status', () => {
    const raw = 'permission denied for arn:aws:iam::123456789012:role/vault-auth on secret/data/x';
    const sdkError = Object.assign(new Error(raw), {
      response: { statusCode: 403, body: { errors: [raw] } },
    });
    const mapped = mapVaultError(sdkError, 'read');
    expect(mapped).toMatchObject({
      reason: 'denied',
      detail: { backend: 'vault', operation: 'read', backendCode: '403' },
    });
    expect(mapped.message).not.toMatch(/arn:|123456789012|permission denied for/);
  });

  it.each([400, 404, 412, 500, 418])('status %i: no Vault text in the message', (status) => {
    const raw = 'secret value hunter2 quoted by arn:aws:iam::123456789012:user/x';
    const mapped = mapVaultError(
      Object.assign(new Error(raw), { response: { statusCode: status, body: { errors: [raw] } } }),
      'write',
    );
    expect(mapped.message).not.toMatch(/hunter2|123456789012/);
    expect(mapped.detail).toEqual({ backend: 'vault', operation: 'write', backendCode: String(status) });
  });
});

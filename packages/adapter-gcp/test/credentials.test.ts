import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GcpEmulator, startGcpEmulator } from '@secret-gateway/emulators/gcp';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { GcpAdapter } from '../src/index.ts';
import { randomPath } from './helpers.ts';

// Issue 14 item 7: over TLS the SDK sends its credentials, and the emulator requires and checks them.
let emu: GcpEmulator;
let caFile: string;
const dir = mkdtempSync(join(tmpdir(), 'sgw-gcp-cred-'));
beforeAll(async () => {
  emu = await startGcpEmulator({ tls: true });
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, emu.certPem as string);
});
afterEach(() => vi.useRealTimers());
afterAll(() => emu.stop());

const tlsAdapter = (extra: Partial<ConstructorParameters<typeof GcpAdapter>[0]> = {}) =>
  new GcpAdapter({ projectId: emu.project, endpoint: emu.url, caFile, timeoutMs: 3000, ...extra });

describe('TLS to the emulator (SGW_GCP_CA_FILE), a token required', () => {
  it('the fixed token is sent and accepted', async () => {
    const a = tlsAdapter({ accessToken: emu.token });
    const path = randomPath();
    expect(await a.write(path, 'v')).toBe(1);
    expect(await a.read(path, undefined)).toEqual({ value: 'v', version: 1 });
    await a.check();
    await a.close();
  });

  it('a wrong token: UNAUTHENTICATED, reported as denied', async () => {
    const a = tlsAdapter({ accessToken: 'not-the-token' });
    await expect(a.read(randomPath(), undefined)).rejects.toMatchObject({
      code: 'backend_error',
      reason: 'denied',
      detail: { backendCode: 'UNAUTHENTICATED' },
    });
    await a.close();
  });

  it('a CA file that cannot be read: a clear error at construction', () => {
    expect(() => tlsAdapter({ caFile: join(dir, 'missing.pem') })).toThrow(
      /SGW_GCP_CA_FILE: cannot read .*missing\.pem \(ENOENT\)/,
    );
  });
});

describe('a service account key file (ADC through GOOGLE_APPLICATION_CREDENTIALS)', () => {
  it('signs its own JWTs, and signs a fresh one once the first has expired', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const email = 'sgw@sgw-emulator.iam.gserviceaccount.com';
    emu.auth.serviceAccounts.set(email, publicKey.export({ type: 'spki', format: 'pem' }) as string);
    const keyFile = join(dir, 'sa.json');
    writeFileSync(
      keyFile,
      JSON.stringify({
        type: 'service_account',
        project_id: emu.project,
        private_key_id: 'k1',
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
        client_email: email,
        client_id: '1',
        // Nothing listens here: the Secret Manager client signs JWTs itself and never trades them.
        token_uri: 'http://127.0.0.1:1/token',
      }),
    );
    const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = keyFile;
    const a = tlsAdapter();
    try {
      const path = randomPath();
      expect(await a.write(path, 'one')).toBe(1);
      const first = [...(emu.auth.jwtsSeen.get(email) ?? [])];
      expect(first).toHaveLength(1);
      // Two hours later (the JWT lives one hour), on both clocks: the SDK's and the emulator's.
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      vi.setSystemTime(Date.now() + 2 * 3_600_000);
      expect(emu.auth.refuse(`Bearer ${first[0]}`)).toMatch(/invalid authentication credentials/);
      expect(await a.read(path, undefined)).toEqual({ value: 'one', version: 1 });
      expect(await a.write(path, 'two')).toBe(2);
      expect(emu.auth.jwtsSeen.get(email)?.size).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
      await a.close();
    }
  });

  it('a key the emulator does not know: UNAUTHENTICATED', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = join(dir, 'stranger.json');
    writeFileSync(
      keyFile,
      JSON.stringify({
        type: 'service_account',
        project_id: emu.project,
        private_key_id: 'k2',
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
        client_email: 'stranger@elsewhere.iam.gserviceaccount.com',
        client_id: '2',
        token_uri: 'http://127.0.0.1:1/token',
      }),
    );
    const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = keyFile;
    const a = tlsAdapter();
    try {
      await expect(a.read(randomPath(), undefined)).rejects.toMatchObject({
        reason: 'denied',
        detail: { backendCode: 'UNAUTHENTICATED' },
      });
    } finally {
      if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
      await a.close();
    }
  });
});

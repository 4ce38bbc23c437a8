import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SecretClient } from '@azure/keyvault-secrets';
import { describe, expect, it } from 'vitest';

// `sgw-emulator azure` prints one JSON line with the vault URL and its certificate, then serves.
const BIN = resolve(import.meta.dirname, '../bin/sgw-emulator.mjs');

describe('sgw-emulator azure', () => {
  it('starts, prints url and certPem, serves the SDK, refuses purge with --purge-protection, stops on SIGTERM', async () => {
    const certFile = join(mkdtempSync(join(tmpdir(), 'sgw-azure-bin-')), 'ca.pem');
    const child = spawn(
      process.execPath,
      [BIN, 'azure', '--port', '0', '--purge-protection', '--cert-file', certFile],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const line = await new Promise<string>((ok, fail) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) ok(out.split('\n')[0] ?? '');
        });
        child.once('exit', (code) => fail(new Error(`exited ${code}`)));
      });
      const info = JSON.parse(line) as { emulator: string; url: string; vaultUrl: string; certPem: string };
      expect(info.emulator).toBe('azure');
      expect(info.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(info.certPem).toContain('BEGIN CERTIFICATE');
      expect(readFileSync(certFile, 'utf8')).toBe(info.certPem);
      const kv = new SecretClient(
        info.vaultUrl,
        { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }) },
        {
          disableChallengeResourceVerification: true,
          tlsOptions: { ca: info.certPem },
          retryOptions: { maxRetries: 0 },
        },
      );
      await kv.setSecret('bin-smoke', 'v');
      expect((await kv.getSecret('bin-smoke')).value).toBe('v');
      await (await kv.beginDeleteSecret('bin-smoke', { intervalInMs: 10 })).pollUntilDone();
      await expect(kv.purgeDeletedSecret('bin-smoke')).rejects.toMatchObject({ statusCode: 403 });
    } finally {
      const exited = new Promise((ok) => child.once('exit', ok));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 20_000);
});

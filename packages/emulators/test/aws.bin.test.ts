import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';

const bin = resolve(import.meta.dirname, '../bin/sgw-emulator.mjs');

/** Starts the bin and resolves with its first stdout line (or rejects when it exits first). */
function start(args: string[]) {
  const child = spawn(process.execPath, [bin, 'aws', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const line = new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) ok(out.split('\n')[0] as string);
    });
    child.once('exit', (code) => fail(new Error(`exited ${code}: ${stderr}`)));
  });
  return { child, line };
}

// The bin as scripts and the e2e harness use it: one JSON line when ready, then the SDK can talk to it.
describe('sgw-emulator aws', () => {
  it('prints one JSON line with url and region, serves the SDK with its flags applied, stops on SIGTERM', async () => {
    const { child, line } = start(['--port', '0', '--region', 'eu-west-1', '--force-delete-delay-ms', '50']);
    const info = JSON.parse(await line) as { url: string; region: string };
    expect(info).toMatchObject({
      emulator: 'aws',
      region: 'eu-west-1',
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    });
    const sm = new SecretsManagerClient({
      endpoint: info.url,
      region: info.region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const created = await sm.send(new CreateSecretCommand({ Name: 'tfy-secret/bin/a', SecretString: 'v' }));
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:\d{12}:secret:tfy-secret\/bin\/a-/);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'tfy-secret/bin/a' }))).SecretString).toBe(
      'v',
    );
    // --force-delete-delay-ms 50: the name is free again shortly after a force delete.
    await sm.send(
      new DeleteSecretCommand({ SecretId: 'tfy-secret/bin/a', ForceDeleteWithoutRecovery: true }),
    );
    await new Promise((r) => setTimeout(r, 100));
    await sm.send(new CreateSecretCommand({ Name: 'tfy-secret/bin/a', SecretString: 'w' }));
    sm.destroy();
    const exit = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });

  it('refuses a malformed numeric flag, naming it', async () => {
    const { line } = start(['--port', '0', '--recovery-window-days', 'soon']);
    await expect(line).rejects.toThrow(/--recovery-window-days needs a number/);
  });
});

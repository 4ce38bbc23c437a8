import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { v1 } from '@google-cloud/secret-manager';
import { OAuth2Client } from 'google-auth-library';
import { grpc } from 'google-gax';
import { describe, expect, it } from 'vitest';

// The bin as scripts and the e2e harness use it: one JSON line when ready, then the SDK can talk to it.
describe('sgw-emulator gcp', () => {
  it('prints one JSON line with the project and endpoint, serves the SDK, and stops on SIGTERM', async () => {
    const bin = resolve(import.meta.dirname, '../bin/sgw-emulator.mjs');
    const child = spawn(process.execPath, [bin, 'gcp', '--port', '0', '--project', 'p1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = await new Promise<string>((ok, fail) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) ok(out.split('\n')[0] as string);
      });
      child.once('exit', (code) => fail(new Error(`exited ${code}`)));
    });
    const info = JSON.parse(line) as { url: string; token: string };
    expect(info).toMatchObject({
      emulator: 'gcp',
      project: 'p1',
      url: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
    const auth = new OAuth2Client();
    auth.setCredentials({ access_token: info.token, expiry_date: Date.now() + 3_600_000 });
    const [host, port] = info.url.split(':');
    const sm = new v1.SecretManagerServiceClient({
      apiEndpoint: host,
      port: Number(port),
      sslCreds: grpc.credentials.createInsecure(),
      authClient: auth,
    });
    const [secret] = await sm.createSecret({
      parent: 'projects/p1',
      secretId: 'from-the-bin',
      secret: { replication: { automatic: {} } },
    });
    const [version] = await sm.addSecretVersion({ parent: secret.name, payload: { data: Buffer.from('v') } });
    expect(version.name).toBe('projects/p1/secrets/from-the-bin/versions/1');
    await sm.close();
    const exit = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});

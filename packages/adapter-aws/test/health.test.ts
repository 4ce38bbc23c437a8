import { type AwsEmulator, startAwsEmulator } from '@secret-gateway/emulators/aws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mapAwsError } from '../src/errors.ts';
import { AwsAdapter } from '../src/index.ts';
import { adapterFor } from './helpers.ts';

// check() against the emulator: a probe under the root that proves reachable, accepted, permitted.
let emu: AwsEmulator;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(async () => {
  emu = await startAwsEmulator();
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  emu.state.denied.clear();
  emu.state.accessKeyIds.clear();
  await new Promise((r) => setTimeout(r, 20));
  expect(unhandled).toEqual([]);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await emu.stop();
});

const ARN = /arn:aws|123456789012/;

describe('AWS check() proves reachable, authenticated and permitted under the root', () => {
  it('passes when every probe answers "not found", and stores nothing', async () => {
    await expect(adapterFor(emu).check()).resolves.toBeUndefined();
    expect(emu.state.requests.get('PutSecretValue')).toBeGreaterThan(0);
    expect(emu.state.secrets.size).toBe(0);
  });

  it.each(['DescribeSecret', 'GetSecretValue', 'PutSecretValue'])(
    'a policy without %s: denied, naming the action, never the principal ARN',
    async (action) => {
      emu.state.denied.add(action);
      const error = (await adapterFor(emu)
        .check()
        .catch((e: unknown) => e)) as Error & Record<string, unknown>;
      expect(error).toMatchObject({
        reason: 'denied',
        message: `AWS denied secretsmanager:${action} on tfy-secret/@sgw-health: check the IAM policy`,
        detail: { backend: 'aws', backendCode: 'AccessDeniedException' },
      });
      expect(error.message).not.toMatch(ARN);
    },
  );

  it('an access key id AWS never issued: denied, naming the credentials (UnrecognizedClientException)', async () => {
    emu.state.accessKeyIds.add('AKIAKNOWN');
    await expect(adapterFor(emu).check()).rejects.toMatchObject({
      reason: 'denied',
      message: expect.stringContaining(
        'AWS refused the credentials for describe (UnrecognizedClientException)',
      ),
    });
  });

  it('no credentials anywhere: a typed denial, and no unhandled rejection', async () => {
    const saved = { ...process.env };
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
    process.env.AWS_CONFIG_FILE = '/nonexistent/config';
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    try {
      const bare = new AwsAdapter({ region: emu.region, endpoint: emu.url, timeoutMs: 3000 });
      await expect(bare.check()).rejects.toMatchObject({
        code: 'backend_error',
        reason: 'denied',
        message: expect.stringContaining('no AWS credentials found'),
        detail: { backend: 'aws', backendCode: 'CredentialsProviderError' },
      });
      await bare.close();
    } finally {
      process.env = saved;
    }
  });

  it('unreachable: backend_unavailable', async () => {
    const closed = new AwsAdapter({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    await expect(closed.check()).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'unreachable',
    });
    await closed.close();
  });
});

describe('mapAwsError keeps AWS text out of messages', () => {
  it('AccessDeniedException naming the principal ARN and account id: neither reaches the message', () => {
    const raw =
      'User: arn:aws:iam::123456789012:user/sgw is not authorized to perform: secretsmanager:GetSecretValue';
    const sdkError = Object.assign(new Error(raw), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    const mapped = mapAwsError(sdkError, 'get');
    expect(mapped.message).not.toMatch(ARN);
    expect(mapped).toMatchObject({
      reason: 'denied',
      detail: { backend: 'aws', operation: 'get', backendCode: 'AccessDeniedException' },
    });
  });

  it.each([
    ['ValidationException', 400],
    ['DecryptionFailure', 400],
    ['SomethingNew', 400],
    ['InternalServiceError', 500],
    ['ThrottlingException', 400],
  ])('%s: the message has the name, not the text', (name, status) => {
    const raw = 'Value hunter2 at arn:aws:iam::123456789012:role/x failed to satisfy constraint';
    const mapped = mapAwsError(
      Object.assign(new Error(raw), { name, $metadata: { httpStatusCode: status } }),
      'put',
    );
    expect(mapped.message).not.toMatch(/hunter2|123456789012/);
    expect(mapped.message).toContain(name);
    expect(mapped.detail).toEqual({ backend: 'aws', operation: 'put', backendCode: name });
  });

  it('a network error: unreachable with its code, not its text', () => {
    const raw = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:443 arn:aws:x'), {
      code: 'ECONNREFUSED',
    });
    const mapped = mapAwsError(raw, 'get');
    expect(mapped).toMatchObject({
      reason: 'unreachable',
      message: 'AWS get: not reachable (ECONNREFUSED)',
      detail: { backendCode: 'ECONNREFUSED' },
    });
  });
});

import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { type AwsEmulator, type AwsEmulatorOptions, startAwsEmulator } from '../src/aws/index.ts';

// Quotas and consistency of AWS Secrets Manager, driven by the official SDK directly. Each emulator
// here is started with the behaviour under test switched on; the defaults stay strongly consistent.
let emu: AwsEmulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

async function start(options: AwsEmulatorOptions) {
  emu = await startAwsEmulator(options);
  const sm = new SecretsManagerClient({
    endpoint: emu.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return { emu, sm };
}

const token = (i: number) => `sgw-test-token-${String(i).padStart(20, '0')}`;
const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: Error) => e,
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOUR = 3_600_000;

describe('AWS Secrets Manager quotas', () => {
  // reference_limits ("Secrets Manager removes unlabeled versions when there are more than 100, but it
  // does not remove versions created less than 24 hours ago ... you will reach the quota for secret
  // versions") and PutSecretValue's errors (LimitExceededException: "would exceed one of the Secrets
  // Manager quotas").
  it('versionQuota: the 101st version within 24 hours is LimitExceededException, until the oldest ages out', async () => {
    let now = Date.parse('2024-06-01T00:00:00Z');
    const { sm } = await start({ versionQuota: true, now: () => now });
    await sm.send(new CreateSecretCommand({ Name: 'q', SecretString: 'v1', ClientRequestToken: token(1) }));
    for (let i = 2; i <= 100; i++) {
      now += 60_000;
      await sm.send(
        new PutSecretValueCommand({ SecretId: 'q', SecretString: `v${i}`, ClientRequestToken: token(i) }),
      );
    }
    const put = (i: number) =>
      sm.send(
        new PutSecretValueCommand({ SecretId: 'q', SecretString: `v${i}`, ClientRequestToken: token(i) }),
      );
    const refused = await errorOf(put(101));
    expect([
      refused?.name,
      (refused as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode,
    ]).toEqual(['LimitExceededException', 400]);
    // A retry of a version that exists is still answered (idempotent), and reads are unaffected.
    await put(100);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'q' }))).SecretString).toBe('v100');
    // Version 1 was created 99 minutes before version 100: one more minute short of 24 hours is not enough.
    now += 24 * HOUR - 100 * 60_000;
    expect((await errorOf(put(101)))?.name).toBe('LimitExceededException');
    now += 60_000 + 1;
    await put(101);
    expect((await errorOf(put(102)))?.name).toBe('LimitExceededException');
  });

  it('without versionQuota (the default) versions are never refused', async () => {
    const { sm } = await start({});
    await sm.send(new CreateSecretCommand({ Name: 'q', SecretString: 'v1', ClientRequestToken: token(1) }));
    for (let i = 2; i <= 101; i++)
      await sm.send(
        new PutSecretValueCommand({ SecretId: 'q', SecretString: `v${i}`, ClientRequestToken: token(i) }),
      );
  });

  it('tag values: at most 255 characters (TagResource: "Maximum value length: 255 Unicode characters")', async () => {
    const { sm } = await start({});
    await sm.send(new CreateSecretCommand({ Name: 't' }));
    await sm.send(new TagResourceCommand({ SecretId: 't', Tags: [{ Key: 'k', Value: 'x'.repeat(255) }] }));
    const error = await errorOf(
      sm.send(new TagResourceCommand({ SecretId: 't', Tags: [{ Key: 'k', Value: 'y'.repeat(256) }] })),
    );
    expect(error?.name).toBe('ValidationException');
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 't' }))).Tags).toEqual([
      { Key: 'k', Value: 'x'.repeat(255) },
    ]);
  });

  it('force delete of a secret that does not exist succeeds (DeleteSecretCommand.d.ts: no ResourceNotFoundException)', async () => {
    const { sm } = await start({});
    const answer = await sm.send(
      new DeleteSecretCommand({ SecretId: 'never', ForceDeleteWithoutRecovery: true }),
    );
    expect(answer.Name).toBe('never');
    // Without the force flag a missing secret is still not found, and both flags together are refused.
    expect((await errorOf(sm.send(new DeleteSecretCommand({ SecretId: 'never' }))))?.name).toBe(
      'ResourceNotFoundException',
    );
    const both = new DeleteSecretCommand({
      SecretId: 'never',
      ForceDeleteWithoutRecovery: true,
      RecoveryWindowInDays: 7,
    });
    expect((await errorOf(sm.send(both)))?.name).toBe('InvalidParameterException');
  });
});

describe('AWS Secrets Manager eventual consistency (staleReadMs)', () => {
  // "All Secrets Manager operations are eventually consistent" (ListSecretsCommand.d.ts); the
  // emulator serves metadata and by-label reads from the secret as it was staleReadMs ago.
  it('DescribeSecret, ListSecretVersionIds and GetSecretValue by label lag behind; by version id does not', async () => {
    const { sm } = await start({ staleReadMs: 150 });
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'one', ClientRequestToken: token(1) }));
    expect((await errorOf(sm.send(new DescribeSecretCommand({ SecretId: 's' }))))?.name).toBe(
      'ResourceNotFoundException',
    );
    await sleep(200);
    await sm.send(
      new PutSecretValueCommand({ SecretId: 's', SecretString: 'two', ClientRequestToken: token(2) }),
    );
    await sm.send(new TagResourceCommand({ SecretId: 's', Tags: [{ Key: 'k', Value: 'v' }] }));
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 's' }));
    expect([described.VersionIdsToStages, described.Tags]).toEqual([{ [token(1)]: ['AWSCURRENT'] }, []]);
    const listed = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 's' }));
    expect(listed.Versions?.map((v) => v.VersionId)).toEqual([token(1)]);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('one');
    expect(
      (await sm.send(new GetSecretValueCommand({ SecretId: 's', VersionId: token(2) }))).SecretString,
    ).toBe('two');
    await sleep(200);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('two');
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 's' }))).Tags).toEqual([
      { Key: 'k', Value: 'v' },
    ]);
  });

  it('a restored secret still refuses writes as "marked for deletion" for a while', async () => {
    const { sm } = await start({ staleReadMs: 150 });
    await sm.send(new CreateSecretCommand({ Name: 'r', SecretString: 'one' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'r', RecoveryWindowInDays: 7 }));
    await sm.send(new RestoreSecretCommand({ SecretId: 'r' }));
    const put = () =>
      sm.send(
        new PutSecretValueCommand({ SecretId: 'r', SecretString: 'two', ClientRequestToken: token(2) }),
      );
    const refused = await errorOf(put());
    expect([refused?.name, refused?.message]).toEqual([
      'InvalidRequestException',
      "You can't perform this operation on the secret because it was marked for deletion.",
    ]);
    await sleep(200);
    await put();
  });
});

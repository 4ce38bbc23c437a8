import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEmulator, startAwsEmulator } from '../src/aws/index.ts';

// The emulator driven by the official AWS SDK v3 directly, one behaviour per test.
let emu: AwsEmulator;
let sm: SecretsManagerClient;
beforeAll(async () => {
  emu = await startAwsEmulator({ forceDeleteDelayMs: 150 });
  sm = new SecretsManagerClient({
    endpoint: emu.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});
afterAll(() => emu.stop());

let n = 0;
const fresh = () => `tfy-secret/fid/s${++n}-${Date.now()}`;
const token = (i: number) => `sgw-test-token-${String(i).padStart(20, '0')}`;
const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: Error & { $metadata?: { httpStatusCode?: number } }) => e,
  );

describe('AWS Secrets Manager emulator fidelity (AWS SDK v3)', () => {
  it('creates, puts versions with client tokens, reads by stage and by version id', async () => {
    const name = fresh();
    const created = await sm.send(
      new CreateSecretCommand({ Name: name, SecretString: 'one', ClientRequestToken: token(1) }),
    );
    expect(created).toMatchObject({
      Name: name,
      VersionId: token(1),
      ARN: expect.stringMatching(new RegExp(`:secret:${name}-[0-9a-f]{6}$`)),
    });
    await sm.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'two', ClientRequestToken: token(2) }),
    );
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('two');
    expect(
      (await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' })))
        .SecretString,
    ).toBe('one');
    expect(
      (await sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: token(1) }))).SecretString,
    ).toBe('one');
    expect((await sm.send(new GetSecretValueCommand({ SecretId: created.ARN }))).SecretString).toBe('two');
  });

  it('answers ResourceNotFoundException as HTTP 400', async () => {
    const error = await errorOf(sm.send(new GetSecretValueCommand({ SecretId: fresh() })));
    expect(error?.name).toBe('ResourceNotFoundException');
    expect(error?.$metadata?.httpStatusCode).toBe(400);
    expect(error?.message).toBe("Secrets Manager can't find the specified secret.");
  });

  it('enforces name rules: allowed characters and 512 at most', async () => {
    expect((await errorOf(sm.send(new CreateSecretCommand({ Name: 'bad name!' }))))?.name).toBe(
      'ValidationException',
    );
    expect((await errorOf(sm.send(new CreateSecretCommand({ Name: 'x'.repeat(513) }))))?.name).toBe(
      'ValidationException',
    );
    expect(
      (await sm.send(new CreateSecretCommand({ Name: `a/b_c+d=e.f@g-${'x'.repeat(400)}` }))).Name,
    ).toBeDefined();
  });

  it('a reused ClientRequestToken: same value is idempotent, a different value is ResourceExistsException', async () => {
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: token(1) }));
    const again = await sm.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'v1', ClientRequestToken: token(1) }),
    );
    expect(again.VersionId).toBe(token(1));
    const clash = await errorOf(
      sm.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: 'other', ClientRequestToken: token(1) }),
      ),
    );
    expect(clash?.name).toBe('ResourceExistsException');
    expect((await errorOf(sm.send(new CreateSecretCommand({ Name: name }))))?.name).toBe(
      'ResourceExistsException',
    );
  });

  it('moves AWSCURRENT/AWSPREVIOUS, and lists unlabeled versions only with IncludeDeprecated, paged', async () => {
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: token(1) }));
    for (let i = 2; i <= 5; i++)
      await sm.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: `v${i}`, ClientRequestToken: token(i) }),
      );
    const labeled = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    expect(labeled.Versions?.map((v) => [v.VersionId, v.VersionStages])).toEqual([
      [token(4), ['AWSPREVIOUS']],
      [token(5), ['AWSCURRENT']],
    ]);
    const page1 = await sm.send(
      new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true, MaxResults: 3 }),
    );
    expect(page1.Versions).toHaveLength(3);
    const page2 = await sm.send(
      new ListSecretVersionIdsCommand({
        SecretId: name,
        IncludeDeprecated: true,
        MaxResults: 3,
        NextToken: page1.NextToken,
      }),
    );
    expect(page2.Versions).toHaveLength(2);
    expect(page2.NextToken).toBeUndefined();
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: token(2),
        RemoveFromVersionId: token(5),
      }),
    );
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('v2');
    expect(
      (await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }))).VersionId,
    ).toBe(token(5));
    const removeCurrent = await errorOf(
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: 'AWSCURRENT',
          RemoveFromVersionId: token(2),
        }),
      ),
    );
    expect(removeCurrent?.name).toBe('InvalidParameterException');
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: 'AWSPREVIOUS',
        RemoveFromVersionId: token(5),
      }),
    );
    // An unlabeled version can still be read by id.
    expect(
      (await sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: token(5) }))).SecretString,
    ).toBe('v5');
  });

  it('recovery window: reads, puts and re-creation fail as "marked for deletion" until RestoreSecret continues the history', async () => {
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: token(1) }));
    expect(
      (await errorOf(sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 6 }))))?.name,
    ).toBe('InvalidParameterException');
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    expect(deleted.DeletionDate).toBeInstanceOf(Date);
    const read = await errorOf(sm.send(new GetSecretValueCommand({ SecretId: name })));
    expect([read?.name, read?.message]).toEqual([
      'InvalidRequestException',
      expect.stringContaining('marked for deletion'),
    ]);
    expect(
      (
        await errorOf(
          sm.send(
            new PutSecretValueCommand({ SecretId: name, SecretString: 'x', ClientRequestToken: token(2) }),
          ),
        )
      )?.name,
    ).toBe('InvalidRequestException');
    const create = await errorOf(sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x' })));
    expect(create?.message).toContain('already scheduled for deletion');
    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate).toBeInstanceOf(Date);
    await sm.send(new RestoreSecretCommand({ SecretId: name }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('v1');
  });

  it('force delete is asynchronous: the name is refused for a while, then free', async () => {
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v1' }));
    await sm.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    expect(
      (await errorOf(sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v2' }))))?.message,
    ).toContain('already scheduled for deletion');
    await new Promise((r) => setTimeout(r, 200));
    expect((await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v2' }))).Name).toBe(name);
  });

  it('tags, descriptions and KMS key ids are kept; ListSecrets hides deleted secrets', async () => {
    const name = fresh();
    await sm.send(
      new CreateSecretCommand({
        Name: name,
        Description: 'd',
        KmsKeyId: 'alias/k',
        Tags: [{ Key: 'a', Value: '1' }],
      }),
    );
    await sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'b', Value: '2' }] }));
    await sm.send(new UntagResourceCommand({ SecretId: name, TagKeys: ['a'] }));
    expect(await sm.send(new DescribeSecretCommand({ SecretId: name }))).toMatchObject({
      Description: 'd',
      KmsKeyId: 'alias/k',
      Tags: [{ Key: 'b', Value: '2' }],
    });
    expect((await sm.send(new ListSecretsCommand({}))).SecretList?.some((s) => s.Name === name)).toBe(true);
    await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    expect((await sm.send(new ListSecretsCommand({}))).SecretList?.some((s) => s.Name === name)).toBe(false);
  });

  it('injects ThrottlingException, 5xx and dropped connections on demand', async () => {
    emu.faults.set({ throttle: true, times: 1 });
    expect((await errorOf(sm.send(new ListSecretsCommand({}))))?.name).toBe('ThrottlingException');
    emu.faults.set({ status: 503, times: 1, match: 'GetSecretValue' });
    expect(
      (await errorOf(sm.send(new GetSecretValueCommand({ SecretId: 'x' }))))?.$metadata?.httpStatusCode,
    ).toBe(503);
    emu.faults.set({ drop: true, times: 1 });
    expect((await errorOf(sm.send(new ListSecretsCommand({}))))?.message).toMatch(
      /socket hang up|ECONNRESET/,
    );
    expect((await sm.send(new ListSecretsCommand({}))).SecretList).toBeDefined();
  });
});

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

  it('hideForceDeleted: a force-deleted secret is not found while its name is still refused', async () => {
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v1' }));
    emu.state.options.hideForceDeleted = true;
    try {
      await sm.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
      const creates = emu.state.requests.get('CreateSecret') ?? 0;
      expect((await errorOf(sm.send(new DescribeSecretCommand({ SecretId: name }))))?.name).toBe(
        'ResourceNotFoundException',
      );
      expect((await errorOf(sm.send(new RestoreSecretCommand({ SecretId: name }))))?.name).toBe(
        'ResourceNotFoundException',
      );
      expect(
        (await errorOf(sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v2' }))))?.message,
      ).toContain('already scheduled for deletion');
      expect(emu.state.requests.get('CreateSecret')).toBe(creates + 1);
      await new Promise((r) => setTimeout(r, 200));
      expect((await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v2' }))).Name).toBe(name);
    } finally {
      emu.state.options.hideForceDeleted = false;
    }
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

  it('a staging label attached elsewhere moves only when RemoveFromVersionId names its holder', async () => {
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: token(1) }));
    await sm.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'v2', ClientRequestToken: token(2) }),
    );
    const move = (RemoveFromVersionId?: string) =>
      errorOf(
        sm.send(
          new UpdateSecretVersionStageCommand({
            SecretId: name,
            VersionStage: 'AWSCURRENT',
            MoveToVersionId: token(1),
            RemoveFromVersionId,
          }),
        ),
      );
    const missing = await move();
    expect([missing?.name, missing?.message]).toEqual([
      'InvalidParameterException',
      expect.stringContaining("RemoveFromVersionId can't be empty"),
    ]);
    expect((await move(token(1)))?.name).toBe('InvalidParameterException');
    expect(await move(token(2))).toBeUndefined();
    const listed = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    expect(listed.Versions?.map((v) => [v.VersionId, v.VersionStages])).toEqual([
      [token(1), ['AWSCURRENT']],
      [token(2), ['AWSPREVIOUS']],
    ]);
  });

  it('a name ending in "-" and six characters can resolve to another secret through its ARN suffix', async () => {
    const name = fresh();
    const { ARN } = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'theirs' }));
    const lookalike = ARN?.split(':secret:')[1] as string;
    expect(lookalike).toMatch(/-[0-9a-f]{6}$/);
    // Nothing is called `lookalike`, yet AWS reads it as the other secret's name plus suffix.
    expect((await sm.send(new GetSecretValueCommand({ SecretId: lookalike }))).Name).toBe(name);
  });

  it('validates tags and changes nothing when refusing them', async () => {
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, Tags: [{ Key: 'ok', Value: 'a:b/c=d+e@f.g_h-i' }] }));
    for (const tag of [
      { Key: 'k', Value: '1,2' },
      { Key: 'k', Value: 'x'.repeat(257) },
      { Key: '', Value: 'v' },
      { Key: 'aws:owner', Value: 'v' },
    ]) {
      const error = await errorOf(sm.send(new TagResourceCommand({ SecretId: name, Tags: [tag] })));
      expect(error?.name, JSON.stringify(tag)).toMatch(/^(ValidationException|InvalidParameterException)$/);
    }
    const many = Array.from({ length: 50 }, (_, i) => ({ Key: `t${i}`, Value: 'v' }));
    expect((await errorOf(sm.send(new TagResourceCommand({ SecretId: name, Tags: many }))))?.name).toBe(
      'ValidationException',
    );
    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).Tags).toEqual([
      { Key: 'ok', Value: 'a:b/c=d+e@f.g_h-i' },
    ]);
  });

  it('refuses values over 65,536 bytes', async () => {
    const error = await errorOf(
      sm.send(new CreateSecretCommand({ Name: fresh(), SecretString: 'x'.repeat(65_537) })),
    );
    expect(error?.name).toBe('ValidationException');
  });

  it('drops the oldest unlabeled versions beyond 100 once they are old enough', async () => {
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: token(1) }));
    emu.state.options.deprecatedVersionAgeMs = 0;
    try {
      for (let i = 2; i <= 103; i++)
        await sm.send(
          new PutSecretValueCommand({ SecretId: name, SecretString: `v${i}`, ClientRequestToken: token(i) }),
        );
    } finally {
      emu.state.options.deprecatedVersionAgeMs = 86_400_000;
    }
    const ids: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await sm.send(
        new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true, NextToken }),
      );
      ids.push(...(page.Versions ?? []).map((v) => v.VersionId as string));
      NextToken = page.NextToken;
    } while (NextToken);
    expect(ids).toHaveLength(100);
    expect(ids).not.toContain(token(1));
    expect(ids).toContain(token(103));
    const gone = await errorOf(sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: token(3) })));
    expect(gone?.name).toBe('ResourceNotFoundException');
  });

  it('answers AccessDeniedException for operations an IAM policy would refuse', async () => {
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v' }));
    emu.state.denied.add('GetSecretValue');
    try {
      const error = await errorOf(sm.send(new GetSecretValueCommand({ SecretId: name })));
      expect([error?.name, error?.$metadata?.httpStatusCode]).toEqual(['AccessDeniedException', 400]);
      expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).Name).toBe(name);
    } finally {
      emu.state.denied.clear();
    }
  });

  it('a force-deleted secret cannot be restored; a scheduled one cannot be deleted again with a window', async () => {
    const a = fresh();
    await sm.send(new CreateSecretCommand({ Name: a, SecretString: 'v' }));
    await sm.send(new DeleteSecretCommand({ SecretId: a, RecoveryWindowInDays: 7 }));
    expect(
      (await errorOf(sm.send(new DeleteSecretCommand({ SecretId: a, RecoveryWindowInDays: 7 }))))?.name,
    ).toBe('InvalidRequestException');
    // Force delete also works on a secret already scheduled for deletion.
    await sm.send(new DeleteSecretCommand({ SecretId: a, ForceDeleteWithoutRecovery: true }));
    expect((await errorOf(sm.send(new RestoreSecretCommand({ SecretId: a }))))?.name).toBe(
      'InvalidRequestException',
    );
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

import {
  CreateSecretCommand,
  DeleteSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { SecretService, VersionConflictError } from '@secret-gateway/core';
import { type AwsEmulator, startAwsEmulator } from '@secret-gateway/emulators/aws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromEnv, parseToken, versionToken } from '../src/index.ts';
import { adapterFor, randomPath, secretOf } from './helpers.ts';

// Reads the emulator's state to prove what the adapter stores: names, tokens, labels, tombstones
// and generations, and how it copes with what operators and AWS itself do to them.
let emu: AwsEmulator;
let sm: SecretsManagerClient;
beforeAll(async () => {
  emu = await startAwsEmulator({ forceDeleteDelayMs: 100 });
  sm = new SecretsManagerClient({
    endpoint: emu.url,
    region: emu.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});
afterAll(async () => {
  sm.destroy();
  await emu.stop();
});

const generationOf = (path: string) => secretOf(emu, path)?.tags.get('sgw-generation') ?? '';
/** `{ <version>: [labels] }` for the versions of the secret's current generation. */
const labels = (path: string) => {
  const generation = generationOf(path);
  const out: Record<number, string[]> = {};
  for (const v of secretOf(emu, path)?.versions.values() ?? []) {
    const parsed = parseToken(v.id);
    if (parsed?.generation === generation) out[parsed.version] = [...v.stages].sort();
  }
  return out;
};

describe('what the AWS adapter stores', () => {
  it('the path as the name, one deterministic 32-character token per version, AWSCURRENT on the newest', async () => {
    const a = adapterFor(emu);
    const path = randomPath('tfy-secret/acme/prod');
    await a.write(path, 'one');
    await a.write(path, 'two');
    const secret = emu.state.secrets.get(path);
    const generation = generationOf(path);
    expect(generation).toMatch(/^[a-z2-7]{10}$/);
    expect([...(secret?.versions.keys() ?? [])]).toEqual([
      versionToken(generation, 1),
      versionToken(generation, 2),
    ]);
    expect(labels(path)).toEqual({ 1: ['AWSPREVIOUS'], 2: ['AWSCURRENT'] });
  });

  it('deleting the newest version tombstones it, moves AWSCURRENT down and takes its labels off', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    for (const v of ['one', 'two', 'three']) await a.write(path, v);
    expect(await a.deleteVersion(path, 3)).toBe(true);
    const generation = generationOf(path);
    expect(secretOf(emu, path)?.tags.get('sgw-deleted')).toBe(`${generation}:n1.3`);
    expect(labels(path)).toEqual({ 1: [], 2: ['AWSCURRENT'], 3: [] });
    // AWS still holds the value by id; the tombstone is what keeps the gateway from serving it.
    expect(secretOf(emu, path)?.versions.get(versionToken(generation, 3))?.value).toBe('three');
    expect(await a.read(path, 3)).toBeNull();
    // A middle version: only the tombstone changes.
    expect(await a.deleteVersion(path, 1)).toBe(true);
    expect(secretOf(emu, path)?.tags.get('sgw-deleted')).toBe(`${generation}:n1.1.3`);
    expect(labels(path)).toEqual({ 1: [], 2: ['AWSCURRENT'], 3: [] });
  });

  it('the last live version keeps AWSCURRENT (AWS cannot remove it); its tombstone hides it', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    await a.write(path, 'one');
    await a.write(path, 'two');
    await a.deleteVersion(path, 2);
    await a.deleteVersion(path, 1);
    expect(labels(path)).toEqual({ 1: ['AWSCURRENT'], 2: [] });
    expect(await a.read(path, undefined)).toBeNull();
    expect(await a.deleteSecret(path)).toBe(true);
  });

  it('recovery window: a new generation is tagged before the deletion; the next write restores into it', async () => {
    const a = adapterFor(emu, 'recovery-window');
    const path = randomPath();
    await a.write(path, 'old-1');
    await a.write(path, 'old-2');
    const before = generationOf(path);
    await a.deleteSecret(path);
    const deleted = secretOf(emu, path);
    expect(deleted?.deletedDate).toBeDefined();
    expect(generationOf(path)).not.toBe(before);
    expect(await a.write(path, 'new')).toBe(1);
    expect(deleted?.deletedDate).toBeUndefined();
    // The old versions are still in AWS (restored), and never served: they are another generation's.
    expect(deleted?.versions.size).toBe(3);
    expect(labels(path)).toEqual({ 1: ['AWSCURRENT'] });
    expect(await a.read(path, 2)).toBeNull();
    expect(await a.read(path, undefined)).toEqual({ value: 'new', version: 1 });
  });

  it('force: delete-all removes the secret; the next write waits for AWS to free the name', async () => {
    const a = adapterFor(emu, 'force');
    const path = randomPath();
    await a.write(path, 'old');
    await a.deleteSecret(path);
    expect(secretOf(emu, path)?.purgeAt).toBeDefined();
    expect(await a.write(path, 'new')).toBe(1);
    expect(secretOf(emu, path)?.versions.size).toBe(1);
    expect(secretOf(emu, path)?.purgeAt).toBeUndefined();
  });

  it('force: while AWS no longer describes the secret but still holds its name, the write backs off', async () => {
    // Real AWS can answer so while it deletes asynchronously; this emulator keeps the name for an hour.
    const own = await startAwsEmulator({ hideForceDeleted: true, forceDeleteDelayMs: 3_600_000 });
    try {
      const a = adapterFor(own, 'force', 500);
      const path = randomPath();
      await a.write(path, 'old');
      await a.deleteSecret(path);
      const creates = () => own.state.requests.get('CreateSecret') ?? 0;
      const before = creates();
      await expect(a.write(path, 'new')).rejects.toMatchObject({
        code: 'backend_unavailable',
        reason: 'timeout',
      });
      // Waits of 25, 50, 100, 200 ms fit in the 500 ms deadline: five attempts at most, not one per
      // round trip (a slower machine makes fewer, never more).
      const attempts = creates() - before;
      expect(attempts).toBeGreaterThanOrEqual(2);
      expect(attempts).toBeLessThanOrEqual(6);
      // AWS frees the name: the next write creates the secret again at version 1.
      const secret = own.state.secrets.get(path);
      if (secret) secret.purgeAt = Date.now();
      expect(await a.write(path, 'new')).toBe(1);
      expect(await a.read(path, undefined)).toEqual({ value: 'new', version: 1 });
    } finally {
      await own.stop();
    }
  });

  it('a deletion made outside the gateway (console, recovery window) still hides the old versions', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    await a.write(path, 'old-1');
    await a.write(path, 'old-2');
    await sm.send(new DeleteSecretCommand({ SecretId: path, RecoveryWindowInDays: 7 }));
    expect(await a.read(path, undefined)).toBeNull();
    expect(await a.write(path, 'new')).toBe(1);
    expect(await a.read(path, 2)).toBeNull();
    expect(await a.read(path, undefined)).toEqual({ value: 'new', version: 1 });
  });

  it('escapes names that look like an ARN suffix, hashes names over 512 characters', async () => {
    const a = adapterFor(emu);
    const base = randomPath();
    await a.write(`${base}/db-passwd`, 'x');
    expect(emu.state.secrets.has(`${base}/db-passwd+`)).toBe(true);
    expect(await a.read(`${base}/db-passwd`, undefined)).toEqual({ value: 'x', version: 1 });
    const long = `${base}/${'l'.repeat(900)}`;
    await a.write(long, 'y');
    const hashed = secretOf(emu, long);
    expect(hashed?.name).toMatch(/^tfy-secret\/@sha256\/[a-z2-7]{52}$/);
    expect(hashed?.description).toBe(long);
    expect(await a.read(long, undefined)).toEqual({ value: 'y', version: 1 });
  });

  it('puts the KMS key and tags from configuration on new secrets', async () => {
    const a = fromEnv({
      AWS_REGION: emu.region,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: emu.url,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      SGW_AWS_KMS_KEY_ID: 'alias/sgw',
      SGW_AWS_TAGS: 'team=platform,env=prod',
    });
    const path = randomPath();
    await a.write(path, 'x');
    expect(secretOf(emu, path)?.kmsKeyId).toBe('alias/sgw');
    expect(Object.fromEntries(secretOf(emu, path)?.tags ?? [])).toMatchObject({
      team: 'platform',
      env: 'prod',
    });
    await a.close();
  });
});

describe('what the AWS adapter copes with', () => {
  it('a secret the gateway did not make reads as absent, is never deleted, and is adopted by a write', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    await sm.send(new CreateSecretCommand({ Name: path, SecretString: 'theirs' }));
    expect(await a.read(path, undefined)).toBeNull();
    expect(await a.deleteSecret(path)).toBe(false);
    expect(secretOf(emu, path)?.deletedDate).toBeUndefined();
    expect(await a.write(path, 'ours')).toBe(1);
    expect(await a.read(path, undefined)).toEqual({ value: 'ours', version: 1 });
  });

  it('AWSCURRENT moved back by an operator is served as latest; the next write goes above every version', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    for (const v of ['one', 'two', 'three']) await a.write(path, v);
    const g = generationOf(path);
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: path,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: versionToken(g, 1),
        RemoveFromVersionId: versionToken(g, 3),
      }),
    );
    expect(await a.read(path, undefined)).toEqual({ value: 'one', version: 1 });
    expect(await a.write(path, 'four')).toBe(4);
    expect(await a.read(path, undefined)).toEqual({ value: 'four', version: 4 });
  });

  it('a deleteVersion cut off between its tombstone and its label move: reads fall back to the highest live version', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    for (const v of ['one', 'two', 'three']) await a.write(path, v);
    // What a crash after the TagResource call leaves: version 3 tombstoned, still AWSCURRENT.
    emu.faults.set({ status: 500, match: 'UpdateSecretVersionStage' });
    await expect(a.deleteVersion(path, 3)).rejects.toMatchObject({ code: 'backend_unavailable' });
    emu.faults.clear();
    expect(labels(path)[3]).toEqual(['AWSCURRENT']);
    expect(await a.read(path, undefined)).toEqual({ value: 'two', version: 2 });
    expect(await a.deleteVersion(path, 3)).toBe(false);
    expect(await a.write(path, 'four')).toBe(4);
  });

  it('AWS dropping old unlabeled versions never brings a number back', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    emu.state.options.deprecatedVersionAgeMs = 0;
    try {
      for (let i = 1; i <= 103; i++) await a.write(path, `v${i}`);
      expect(await a.deleteVersion(path, 103)).toBe(true);
      expect(await a.write(path, 'next')).toBe(104);
    } finally {
      emu.state.options.deprecatedVersionAgeMs = 86_400_000;
    }
    expect(secretOf(emu, path)?.versions.size).toBe(100);
    // A dropped version is gone for good: absent, and not deletable (the limit docs/backends/aws.md names).
    expect(await a.read(path, 1)).toBeNull();
    expect(await a.deleteVersion(path, 1)).toBe(false);
    expect(await a.read(path, undefined)).toEqual({ value: 'next', version: 104 });
  });

  it('two gateway replicas writing one path at once get distinct versions through token collisions', async () => {
    const path = randomPath();
    const replicas = [new SecretService(adapterFor(emu)), new SecretService(adapterFor(emu))];
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) => (replicas[i % 2] as SecretService).put(path, `value-${i}`)),
    );
    expect(results.map((r) => r.version).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 16 }, (_, i) => i + 1),
    );
    const g = generationOf(path);
    for (const { version } of results)
      expect(secretOf(emu, path)?.versions.has(versionToken(g, version))).toBe(true);
  });

  it('two replicas writing right after a delete-all both land: one restores version 1, the other collides and takes 2', async () => {
    const path = randomPath();
    const [a, b] = [adapterFor(emu), adapterFor(emu)];
    await a.write(path, 'old');
    await a.deleteSecret(path);
    const outcomes = await Promise.allSettled([a.write(path, 'from-a'), b.write(path, 'from-b')]);
    const versions = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const conflicts = outcomes.filter(
      (o) => o.status === 'rejected' && o.reason instanceof VersionConflictError,
    );
    expect(versions).toContain(1);
    expect(versions.length + conflicts.length).toBe(2);
    if (conflicts.length) expect(await b.write(path, 'again')).toBe(2);
    expect(labels(path)[1]).toBeDefined();
  });
});

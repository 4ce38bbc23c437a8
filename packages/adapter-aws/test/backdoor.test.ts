import { type AwsEmulator, startAwsEmulator } from '@secret-gateway/emulators/aws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromEnv, parseToken, versionToken } from '../src/index.ts';
import { adapterFor } from './helpers.ts';

// Reads the emulator's state to prove names, tokens, labels, tombstones and generations.
let emu: AwsEmulator;
beforeAll(async () => {
  emu = await startAwsEmulator({ forceDeleteDelayMs: 100 });
});
afterAll(() => emu.stop());

const labels = (name: string) =>
  Object.fromEntries(
    [...(emu.state.secrets.get(name)?.versions.values() ?? [])].map((v) => [
      parseToken(v.id)?.version,
      [...v.stages].sort(),
    ]),
  );

describe('what the AWS adapter stores', () => {
  it('keeps the path as the name, one deterministic token per version, AWSCURRENT on the newest', async () => {
    const a = adapterFor(emu);
    await a.write('tfy-secret/acme/prod/db', 'one');
    await a.write('tfy-secret/acme/prod/db', 'two');
    const secret = emu.state.secrets.get('tfy-secret/acme/prod/db');
    const generation = secret?.tags.get('sgw-generation') ?? '';
    expect([...(secret?.versions.keys() ?? [])]).toEqual([
      versionToken(generation, 1),
      versionToken(generation, 2),
    ]);
    expect(versionToken(generation, 1)).toHaveLength(32);
    expect(labels('tfy-secret/acme/prod/db')).toEqual({ 1: ['AWSPREVIOUS'], 2: ['AWSCURRENT'] });
  });

  it('deleting the newest version tombstones it, moves AWSCURRENT down and takes its labels off', async () => {
    const a = adapterFor(emu);
    for (const v of ['one', 'two', 'three']) await a.write('tfy-secret/bd/labels', v);
    expect(await a.deleteVersion('tfy-secret/bd/labels', 3)).toBe(true);
    const secret = emu.state.secrets.get('tfy-secret/bd/labels');
    expect(secret?.tags.get('sgw-deleted')).toMatch(/:3$/);
    expect(labels('tfy-secret/bd/labels')).toEqual({ 1: [], 2: ['AWSCURRENT'], 3: [] });
    // AWS still holds the value by id; the tombstone is what keeps the gateway from serving it.
    expect(secret?.versions.get(versionToken(secret.tags.get('sgw-generation') ?? '', 3))?.value).toBe(
      'three',
    );
    expect(await a.read('tfy-secret/bd/labels', 3)).toBeNull();
    await a.deleteVersion('tfy-secret/bd/labels', 1);
    expect(secret?.tags.get('sgw-deleted')).toMatch(/:1.3$/);
  });

  it('recovery-window policy: delete-all schedules deletion; the next write restores into a new generation', async () => {
    const a = adapterFor(emu, 'recovery-window');
    await a.write('tfy-secret/bd/window', 'old');
    const before = emu.state.secrets.get('tfy-secret/bd/window')?.tags.get('sgw-generation');
    await a.deleteSecret('tfy-secret/bd/window');
    expect(emu.state.secrets.get('tfy-secret/bd/window')?.deletedDate).toBeDefined();
    expect(await a.write('tfy-secret/bd/window', 'new')).toBe(1);
    const secret = emu.state.secrets.get('tfy-secret/bd/window');
    expect(secret?.deletedDate).toBeUndefined();
    expect(secret?.tags.get('sgw-generation')).not.toBe(before);
    expect(secret?.versions.size).toBe(2);
    expect(await a.read('tfy-secret/bd/window', 1)).toEqual({ value: 'new', version: 1 });
  });

  it('force policy: delete-all force-deletes; the next write waits for AWS to free the name', async () => {
    const a = adapterFor(emu, 'force');
    await a.write('tfy-secret/bd/force', 'old');
    await a.deleteSecret('tfy-secret/bd/force');
    expect(await a.write('tfy-secret/bd/force', 'new')).toBe(1);
    expect(emu.state.secrets.get('tfy-secret/bd/force')?.versions.size).toBe(1);
  });

  it('escapes names that look like an ARN suffix, hashes names over 512 characters', async () => {
    const a = adapterFor(emu);
    await a.write('tfy-secret/bd/db-passwd', 'x');
    expect(emu.state.secrets.has('tfy-secret/bd/db-passwd+')).toBe(true);
    const long = `tfy-secret/bd/${'l'.repeat(900)}`;
    await a.write(long, 'y');
    const hashed = [...emu.state.secrets.values()].find((s) => s.name.includes('/@sha256/'));
    expect(hashed?.name).toMatch(/^tfy-secret\/@sha256\/[a-z2-7]{52}$/);
    expect(hashed?.description).toBe(long);
    expect(await a.read(long, undefined)).toEqual({ value: 'y', version: 1 });
  });

  it('puts KMS key and tags from configuration on new secrets', async () => {
    // fromEnv leaves credentials to the SDK's standard chain, which reads these.
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
    const a = fromEnv({
      AWS_REGION: emu.region,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: emu.url,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      SGW_AWS_KMS_KEY_ID: 'alias/sgw',
      SGW_AWS_TAGS: 'team=platform,env=prod',
    });
    await a.write('tfy-secret/bd/kms', 'x');
    const secret = emu.state.secrets.get('tfy-secret/bd/kms');
    expect(secret?.kmsKeyId).toBe('alias/sgw');
    expect(Object.fromEntries(secret?.tags ?? [])).toMatchObject({ team: 'platform', env: 'prod' });
  });

  it('fromEnv names what is missing or wrong', () => {
    expect(() => fromEnv({})).toThrow(/needs AWS_REGION/);
    expect(() => fromEnv({ AWS_REGION: 'x', SGW_AWS_DELETE_POLICY: 'never' })).toThrow(
      /recovery-window or force/,
    );
    expect(() => fromEnv({ AWS_REGION: 'x', SGW_AWS_RECOVERY_WINDOW_DAYS: '3' })).toThrow(/7 to 30/);
  });
});

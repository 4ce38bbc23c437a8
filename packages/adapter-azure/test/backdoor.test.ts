import { SecretClient } from '@azure/keyvault-secrets';
import { retryOnConflict } from '@secret-gateway/core';
import { type AzureEmulator, startAzureEmulator } from '@secret-gateway/emulators/azure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureAdapter, fromEnv, secretName, staticTokenCredential, versionTags } from '../src/index.ts';
import { adapterFor } from './helpers.ts';

// Reads the emulator's state to prove names, tags, disabled versions and generations.
let emu: AzureEmulator;
let guarded: AzureEmulator;
beforeAll(async () => {
  emu = await startAzureEmulator({ purgeBusyMs: 50, recoverBusyMs: 50 });
  guarded = await startAzureEmulator({ purgeProtection: true, recoverBusyMs: 50 });
});
afterAll(async () => {
  await emu.stop();
  await guarded.stop();
});

let n = 0;
const fresh = (leaf = 'db-password') => `tfy-secret/bd${++n}${Date.now()}/${leaf}`;
const stored = (e: AzureEmulator, path: string) => e.state.secrets.get(secretName(path).toLowerCase());
const versionsOf = (e: AzureEmulator, path: string) =>
  [...(stored(e, path)?.versions.values() ?? [])].sort((a, b) => a.seq - b.seq);

describe('what the Azure adapter stores', () => {
  it('writes the encoded name with generation and version tags on each version', async () => {
    const a = adapterFor(emu);
    const path = fresh('DB_Password.v2');
    await a.write(path, 'one');
    await a.write(path, 'two');
    expect(stored(emu, path)?.name).toMatch(/^[a-z0-9-]+$/);
    expect(stored(emu, path)?.name).toBe(secretName(path));
    // The second write claimed the first version as its base (index.ts), which leaves a claim tag.
    expect(versionsOf(emu, path).map((v) => [v.value, v.enabled, v.tags])).toEqual([
      ['one', true, { 'sgw-gen': '1', 'sgw-v': '1', 'sgw-claim': expect.any(String) }],
      ['two', true, { 'sgw-gen': '1', 'sgw-v': '2' }],
    ]);
  });

  it('deleting a version disables it and tags it deleted; Azure still holds the value', async () => {
    const a = adapterFor(emu);
    const path = fresh();
    for (const v of ['one', 'two', 'three']) await a.write(path, v);
    expect(await a.deleteVersion(path, 3)).toBe(true);
    const third = versionsOf(emu, path)[2];
    expect([third?.value, third?.enabled, third?.tags['sgw-deleted']]).toEqual(['three', false, '1']);
    expect(await a.read(path, undefined)).toEqual({ value: 'two', version: 2 });
  });

  it('purge allowed: delete-all opens a new generation, soft-deletes and purges; the next write starts over', async () => {
    const a = adapterFor(emu);
    const path = fresh();
    await a.write(path, 'old');
    expect(await a.deleteSecret(path)).toBe(true);
    expect(stored(emu, path)).toBeUndefined();
    expect(emu.state.deleted.has(secretName(path))).toBe(false);
    expect(await a.write(path, 'new')).toBe(1);
    expect(versionsOf(emu, path).map((v) => [v.value, v.tags])).toEqual([
      ['new', { 'sgw-gen': '1', 'sgw-v': '1' }],
    ]);
  });

  it('purge protection: the secret stays soft-deleted, a write recovers it into generation 2 and old versions stay hidden', async () => {
    const a = adapterFor(guarded);
    const path = fresh();
    await a.write(path, 'old-1');
    await a.write(path, 'old-2');
    expect(await a.deleteSecret(path)).toBe(true);
    const deleted = guarded.state.deleted.get(secretName(path));
    expect(deleted?.secret.versions.size).toBe(3);
    expect(await a.write(path, 'new')).toBe(1);
    const all = versionsOf(guarded, path);
    expect(all.map((v) => [v.value, v.enabled, v.tags['sgw-gen'], v.tags['sgw-v'] ?? 'marker'])).toEqual([
      ['old-1', true, '1', '1'],
      ['old-2', true, '1', '2'],
      ['', false, '2', 'marker'],
      ['new', true, '2', '1'],
    ]);
    expect(await a.read(path, 2)).toBeNull();
    expect(await a.read(path, undefined)).toEqual({ value: 'new', version: 1 });
  });

  it('a hashed name carries its path in tags', async () => {
    const a = adapterFor(emu);
    const path = `${fresh('x')}/${'Long'.repeat(60)}`;
    await a.write(path, 'v');
    const [version] = versionsOf(emu, path);
    expect(stored(emu, path)?.name).toMatch(/^sgwh-9-[a-z2-7]{52}$/);
    const tags = version?.tags ?? {};
    expect(
      Object.keys(tags)
        .filter((k) => k.startsWith('sgw-path-'))
        .map((k) => tags[k])
        .join(''),
    ).toBe(path);
  });

  it('two replicas racing on one path end with distinct versions; losers withdraw their duplicates', async () => {
    const path = fresh();
    const replicas = [adapterFor(emu), adapterFor(emu)];
    const versions = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        retryOnConflict(path, 50, () => (replicas[i % 2] as AzureAdapter).write(path, `w${i}`)),
      ),
    );
    expect([...versions].sort((x, y) => x - y)).toEqual([...new Set(versions)].sort((x, y) => x - y));
    const live = versionsOf(emu, path).filter((v) => v.enabled);
    const liveNumbers = live.map((v) => v.tags['sgw-v']);
    expect(new Set(liveNumbers).size).toBe(liveNumbers.length);
    expect(liveNumbers.sort()).toEqual(versions.map(String).sort());
    for (const v of versionsOf(emu, path).filter((x) => !x.enabled)) expect(v.tags['sgw-deleted']).toBe('1');
  }, 15_000);

  it('a writer that finds another live copy of its number withdraws it and retries with the next', async () => {
    const path = fresh();
    const name = secretName(path);
    let planted = false;
    // Plays the other replica: its write of version 1 lands right after ours, before our check.
    const client = new SecretClient(emu.vaultUrl, staticTokenCredential('t'), {
      disableChallengeResourceVerification: true,
      tlsOptions: { ca: emu.certPem },
      retryOptions: { maxRetries: 0 },
      additionalPolicies: [
        {
          position: 'perCall',
          policy: {
            name: 'other-replica',
            sendRequest: async (request, next) => {
              const response = await next(request);
              if (request.method === 'PUT' && response.status === 200 && !planted) {
                planted = true;
                emu.state.set(name, { value: 'theirs', tags: versionTags(1, 1) });
              }
              return response;
            },
          },
        },
      ],
    });
    const a = new AzureAdapter({ vaultUrl: emu.vaultUrl, credential: staticTokenCredential('t') }, client);
    await expect(a.write(path, 'ours')).rejects.toMatchObject({ code: 'conflict' });
    expect(await retryOnConflict(path, 5, () => a.write(path, 'ours'))).toBe(2);
    expect(
      versionsOf(emu, path).map((v) => [v.value, v.enabled, v.tags['sgw-v'], v.tags['sgw-deleted']]),
    ).toEqual([
      ['ours', false, '1', '1'],
      ['theirs', true, '1', undefined],
      ['ours', true, '2', undefined],
    ]);
    expect(await a.read(path, 1)).toEqual({ value: 'theirs', version: 1 });
  });

  it('a writer whose base was superseded before its claim writes on top of the newer version', async () => {
    const path = fresh();
    const other = adapterFor(emu);
    expect(await other.write(path, 'first')).toBe(1);
    let planted = false;
    // Plays the other replica: its whole write of version 2 lands between our read of the newest
    // version and our claim on it, so only the check after the claim can see it.
    const client = new SecretClient(emu.vaultUrl, staticTokenCredential('t'), {
      disableChallengeResourceVerification: true,
      tlsOptions: { ca: emu.certPem },
      retryOptions: { maxRetries: 0 },
      additionalPolicies: [
        {
          position: 'perCall',
          policy: {
            name: 'other-replica',
            sendRequest: async (request, next) => {
              const response = await next(request);
              if (request.method === 'GET' && response.status === 200 && !planted) {
                planted = true;
                await other.write(path, 'theirs');
              }
              return response;
            },
          },
        },
      ],
    });
    const a = new AzureAdapter({ vaultUrl: emu.vaultUrl, credential: staticTokenCredential('t') }, client);
    expect(await a.write(path, 'ours')).toBe(3);
    expect(await a.read(path, 2)).toEqual({ value: 'theirs', version: 2 });
    expect(await a.read(path, 3)).toEqual({ value: 'ours', version: 3 });
    expect(
      versionsOf(emu, path)
        .filter((v) => v.enabled)
        .map((v) => v.tags['sgw-v']),
    ).toEqual(['1', '2', '3']);
  });

  it('fromEnv reads the vault URL, a token and the CA file, and names what is missing', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const ca = join(mkdtempSync(join(tmpdir(), 'sgw-az-')), 'ca.pem');
    writeFileSync(ca, emu.certPem ?? '');
    const a = fromEnv({
      AZURE_KEYVAULT_URL: emu.vaultUrl,
      SGW_AZURE_ACCESS_TOKEN: 'token',
      SGW_AZURE_CA_FILE: ca,
      SGW_AZURE_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: 'true',
    });
    await a.check();
    expect(await a.write(fresh(), 'v')).toBe(1);
    expect(() => fromEnv({})).toThrow(/AZURE_KEYVAULT_URL/);
    expect(() => fromEnv({ AZURE_KEYVAULT_URL: 'https://v', AZURE_CLIENT_SECRET: 's' })).toThrow(
      /AZURE_TENANT_ID/,
    );
    expect(() =>
      fromEnv({ AZURE_KEYVAULT_URL: 'https://v', SGW_AZURE_ACCESS_TOKEN: 't', SGW_AZURE_PURGE: 'maybe' }),
    ).toThrow(/SGW_AZURE_PURGE/);
  });
});

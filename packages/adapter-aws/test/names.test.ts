import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { optionsFromEnv } from '../src/config.ts';
import { isHashedName, pathOf, secretName } from '../src/names.ts';
import {
  decodeRanges,
  encodeRanges,
  parseToken,
  tombstonesFrom,
  tombstoneTags,
  versionToken,
} from '../src/versions.ts';

// Gateway paths as core accepts them: segments of [A-Za-z0-9_.-], up to 1,024 bytes in all.
const segment = fc.stringMatching(/^[A-Za-z0-9_.-]{1,60}$/).filter((s) => s !== '.' && s !== '..');
const path = fc
  .array(segment, { minLength: 1, maxLength: 30 })
  .map((s) => `tfy-secret/${s.join('/')}`)
  .filter((p) => p.length <= 1024);
const AWS_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
// What AWS documents as generally allowed in tag keys and values.
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

describe('AWS names', () => {
  it('keep the path as it is, `/` included, so IAM prefix policies work', () => {
    expect(secretName('tfy-secret/acme/prod/db-password')).toBe('tfy-secret/acme/prod/db-password');
    expect(secretName('tfy-secret/a/Key')).not.toBe(secretName('tfy-secret/a/key'));
  });

  it('escape names that end like an ARN suffix ("-" and six characters)', () => {
    expect(secretName('tfy-secret/acme/db-abcdef')).toBe('tfy-secret/acme/db-abcdef+');
    expect(secretName('tfy-secret/acme/x-1.2_3-')).toBe('tfy-secret/acme/x-1.2_3-+');
    expect(pathOf('tfy-secret/acme/db-abcdef+')).toBe('tfy-secret/acme/db-abcdef');
  });

  it('hash paths over 512 characters under <root>/@sha256/, reversible through the description', () => {
    const long = `tfy-secret/${'a'.repeat(600)}`;
    const name = secretName(long);
    expect(name).toMatch(/^tfy-secret\/@sha256\/[a-z2-7]{52}$/);
    expect(isHashedName(name)).toBe(true);
    expect(pathOf(name, long)).toBe(long);
    expect(pathOf(name, 'tfy-secret/forged')).toBeUndefined();
    expect(secretName(`tfy-secret/${'a'.repeat(501)}`)).toHaveLength(512);
  });

  it('are valid AWS names, never end like an ARN suffix, round trip, and never collide', () => {
    fc.assert(
      fc.property(path, path, (a, b) => {
        const na = secretName(a);
        expect(na).toMatch(AWS_NAME);
        expect(na).not.toMatch(/-[^/]{6}$/);
        expect(pathOf(na, a)).toBe(a);
        if (a !== b) expect(na).not.toBe(secretName(b));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('AWS versions', () => {
  it('tokens are 32 characters (AWS takes 32-64) and parse back; foreign ids do not', () => {
    const t = versionToken('abcdefghij', 42);
    expect(t).toBe('sgw-abcdefghij-v0000000000000042');
    expect(parseToken(t)).toEqual({ generation: 'abcdefghij', version: 42 });
    expect(versionToken('abcdefghij', Number.MAX_SAFE_INTEGER)).toHaveLength(32);
    expect(parseToken('0f7c1e2a-8f0c-4c1e-9a51-3d2b1c0e9f8a')).toBeUndefined();
  });

  it('tombstone ranges use only tag-safe characters and round trip', () => {
    expect(encodeRanges([7, 1, 2, 3, 9, 10])).toBe('1-3.7.9-10');
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 100_000 }), { maxLength: 300 }), (nums) => {
        const sorted = [...nums].sort((a, b) => a - b);
        expect([...decodeRanges(encodeRanges(nums))].sort((a, b) => a - b)).toEqual(sorted);
        const tags = tombstoneTags('abcdefghij', nums);
        for (const t of tags) {
          expect(t.Value?.length).toBeLessThanOrEqual(255);
          expect(t.Value).toMatch(TAG_TEXT);
          expect(t.Key).toMatch(/^sgw-deleted(-\d+)?$/);
        }
        expect([...tombstonesFrom('abcdefghij', tags)].sort((a, b) => a - b)).toEqual(sorted);
      }),
      { numRuns: 100 },
    );
  });

  it("tombstones belong to one generation: another generation's, or chunks it left, are ignored", () => {
    const many = Array.from({ length: 400 }, (_, i) => i * 2 + 1); // no ranges: several chunks
    const old = tombstoneTags('oldoldoldo', many);
    expect(old.length).toBeGreaterThan(2);
    expect(tombstonesFrom('newnewnewn', old).size).toBe(0);
    // The new generation wrote one chunk over the old first one; the old second chunk remains.
    const mixed = [...tombstoneTags('newnewnewn', [5]), ...old.slice(1)];
    expect([...tombstonesFrom('newnewnewn', mixed)]).toEqual([5]);
  });
});

/** The encoding before chunk counts (secrets in AWS still carry it): ranges cut every 245 characters. */
function legacyTags(generation: string, deleted: Iterable<number>) {
  const text = encodeRanges(deleted);
  const room = 256 - generation.length - 1;
  const tags: Array<{ Key: string; Value: string }> = [];
  for (let i = 0; i === 0 || i * room < text.length; i++)
    tags.push({
      Key: i ? `sgw-deleted-${i}` : 'sgw-deleted',
      Value: `${generation}:${text.slice(i * room, (i + 1) * room)}`,
    });
  return tags;
}
/** The decoder before chunk counts: chunks 0, 1, ... concatenated. A replica not yet upgraded reads this way. */
function legacyDecode(generation: string, tags: Array<{ Key?: string; Value?: string }>) {
  const chunks = new Map<number, string>();
  for (const t of tags) {
    const m = t.Key === 'sgw-deleted' ? ['', '0'] : /^sgw-deleted-(\d+)$/.exec(t.Key ?? '');
    if (m && t.Value?.startsWith(`${generation}:`))
      chunks.set(Number(m[1]), t.Value.slice(generation.length + 1));
  }
  let text = '';
  for (let i = 0; chunks.has(i); i++) text += chunks.get(i);
  return decodeRanges(text);
}
/** What TagResource does: sets the keys it is given, keeps every other. */
const tagged = (
  before: Array<{ Key?: string; Value?: string }>,
  after: Array<{ Key?: string; Value?: string }>,
) => {
  const map = new Map(before.map((t) => [t.Key, t.Value]));
  for (const t of after) map.set(t.Key, t.Value);
  return [...map].map(([Key, Value]) => ({ Key, Value }));
};
const sorted = (s: Iterable<number>) => [...s].sort((a, b) => a - b);
const odd = Array.from({ length: 76 }, (_, i) => i * 2 + 1); // 1.3.5...151: two chunks

describe('AWS tombstone tags over time', () => {
  it('a shorter encoding is not glued to chunks a longer one left (1-151, not 1-151151)', () => {
    const scattered = tombstoneTags('abcdefghij', odd);
    expect(scattered.length).toBe(2);
    const all = Array.from({ length: 151 }, (_, i) => i + 1);
    const merged = tagged(scattered, tombstoneTags('abcdefghij', all));
    expect(sorted(tombstonesFrom('abcdefghij', merged))).toEqual(all);
    // The scattered encoding's chunk 1 stays, of the same generation (the adapter never untags);
    // the count in the first chunk says it is not part of this encoding.
    expect(merged.map((t) => t.Key)).toEqual(['sgw-deleted', 'sgw-deleted-1']);
    expect(merged[0]?.Value).toBe('abcdefghij:n1.1-151');
  });

  it('growing sets decode to the last one, whichever encoding wrote each (a rolling upgrade)', () => {
    // Small numbers, so that sets merge into ranges and their encodings shrink as well as grow.
    const step = fc.record({
      add: fc.uniqueArray(fc.integer({ min: 1, max: 400 }), { maxLength: 150, size: 'max' }),
      legacy: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 8 }), (steps) => {
        let tags: Array<{ Key?: string; Value?: string }> = [{ Key: 'sgw-generation', Value: 'abcdefghij' }];
        const set = new Set<number>();
        for (const { add, legacy } of steps) {
          for (const n of add) set.add(n);
          tags = tagged(tags, legacy ? legacyTags('abcdefghij', set) : tombstoneTags('abcdefghij', set));
          // The encoding before the count is fooled only when its last chunk is exactly full.
          if (legacy && encodeRanges(set).length % 245 === 0) continue;
          expect(sorted(tombstonesFrom('abcdefghij', tags))).toEqual(sorted(set));
        }
      }),
      // No shrinking: a decoder that glues chunks can make ranges of a million numbers, slow to shrink.
      { numRuns: 300, endOnFailure: true },
    );
  });

  it('tags written before the count decode as they did', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 100_000 }), { maxLength: 300, size: 'max' }),
        (nums) => {
          expect(sorted(tombstonesFrom('abcdefghij', legacyTags('abcdefghij', nums)))).toEqual(sorted(nums));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a replica still on the earlier decoder reads the new tags right (nothing left over)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 100_000 }), { maxLength: 300, size: 'max' }),
        (nums) => {
          expect(sorted(legacyDecode('abcdefghij', tombstoneTags('abcdefghij', nums)))).toEqual(sorted(nums));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('AWS settings from the environment', () => {
  it('reads the standard variables and SGW_AWS_*', () => {
    expect(
      optionsFromEnv(
        {
          AWS_REGION: 'eu-west-1',
          AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:4566',
          AWS_ACCESS_KEY_ID: 'id',
          AWS_SECRET_ACCESS_KEY: 'secret',
          AWS_SESSION_TOKEN: 'session',
          SGW_AWS_DELETE_POLICY: 'force',
          SGW_AWS_RECOVERY_WINDOW_DAYS: '30',
          SGW_AWS_KMS_KEY_ID: 'alias/sgw',
          SGW_AWS_TAGS: 'team=platform,cost center=a/b:c',
          SGW_AWS_MAX_ATTEMPTS: '5',
          // Not read here: the gateway's settings carry the deadline and the root.
          SGW_BACKEND_TIMEOUT_MS: '9999',
          SGW_ROOT: 'ignored',
        },
        { root: 'secrets', backendTimeoutMs: 1500 },
      ),
    ).toEqual({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:4566',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret', sessionToken: 'session' },
      deletePolicy: 'force',
      recoveryWindowDays: 30,
      kmsKeyId: 'alias/sgw',
      tags: { team: 'platform', 'cost center': 'a/b:c' },
      maxAttempts: 5,
      timeoutMs: 1500,
      healthCheckName: 'secrets/@sgw-health',
    });
    const defaults = optionsFromEnv({ AWS_DEFAULT_REGION: 'us-east-2' });
    expect(defaults).toMatchObject({
      region: 'us-east-2',
      deletePolicy: 'recovery-window',
      recoveryWindowDays: 7,
      credentials: undefined, // the SDK's default chain
      healthCheckName: 'tfy-secret/@sgw-health',
      timeoutMs: 5000,
    });
  });

  it.each([
    [{}, /needs AWS_REGION/],
    [{ SGW_AWS_DELETE_POLICY: 'never' }, /SGW_AWS_DELETE_POLICY must be recovery-window or force/],
    [
      { SGW_AWS_RECOVERY_WINDOW_DAYS: '3' },
      /SGW_AWS_RECOVERY_WINDOW_DAYS must be a whole number from 7 to 30/,
    ],
    [{ SGW_AWS_MAX_ATTEMPTS: '0' }, /SGW_AWS_MAX_ATTEMPTS/],
    [{ AWS_ENDPOINT_URL_SECRETS_MANAGER: 'not a url' }, /AWS_ENDPOINT_URL_SECRETS_MANAGER must be a URL/],
    [{ AWS_ACCESS_KEY_ID: 'id' }, /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/],
    [{ SGW_AWS_TAGS: 'a=1,team=a;b' }, /SGW_AWS_TAGS: "team=a;b" is not a usable tag/],
    [{ SGW_AWS_TAGS: 'sgw-generation=x' }, /reserved/],
    [{ SGW_AWS_TAGS: 'aws:owner=x' }, /reserved/],
  ])('%j is refused, naming the variable', (env, message) => {
    const withRegion =
      'AWS_REGION' in env || Object.keys(env).length === 0 ? env : { AWS_REGION: 'x', ...env };
    expect(() => optionsFromEnv(withRegion as Record<string, string>)).toThrow(message);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNoValueInLogs, errorOf, secretValue, startTestGateway, type TestGateway } from './helpers.ts';

// contract.md §2 (paths), over HTTP: every rule answers 400 invalid_path with "path must ...".
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.shutdown());
checkNoValueInLogs();

const long = (n: number) => 'x'.repeat(n);

describe('path rules on every operation', () => {
  const cases: Array<[string, string, string]> = [
    ['no segment below the root', 'tfy-secret/', 'path must not end with "/"'],
    ['another root', 'secrets/acme/x', 'path must start with tfy-secret/'],
    ['a root prefix lookalike', 'tfy-secrets/acme/x', 'path must start with tfy-secret/'],
    ['a leading slash', '/tfy-secret/acme/x', 'path must not start with "/"'],
    ['a trailing slash', 'tfy-secret/acme/x/', 'path must not end with "/"'],
    ['an empty segment', 'tfy-secret/acme//x', 'path must not contain empty segments'],
    ['a "." segment', 'tfy-secret/acme/./x', 'path must not contain "." or ".." segments'],
    ['a ".." segment', 'tfy-secret/acme/../x', 'path must not contain "." or ".." segments'],
    ['a space', 'tfy-secret/acme/a b', 'path must use only A-Z a-z 0-9 _ - .'],
    ['a colon', 'tfy-secret/acme:prod', 'path must use only A-Z a-z 0-9 _ - .'],
    ['non-ASCII', 'tfy-secret/acme/pässword', 'path must use only A-Z a-z 0-9 _ - .'],
    ['a control character', 'tfy-secret/acme/a\u0001b', 'path must use only A-Z a-z 0-9 _ - .'],
    ['a backslash', 'tfy-secret/acme\\x', 'path must use only A-Z a-z 0-9 _ - .'],
    ['a percent-encoded slash', 'tfy-secret/acme%2Fx', 'path must not contain percent-encoded characters'],
    [
      'a 256-character segment',
      `tfy-secret/${long(256)}`,
      'path must have segments of at most 255 characters',
    ],
    [
      'more than 1024 bytes',
      `tfy-secret/${`${long(200)}/`.repeat(5)}${long(10)}`,
      'path must be at most 1024 bytes',
    ],
  ];

  it.each(cases)('PUT rejects %s', async (_label, path, message) => {
    const res = await gw.put(path, secretValue());
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe('invalid_path');
    expect(error.message).toContain(message);
    expect(error.message.startsWith('path must')).toBe(true);
  });

  it.each(cases)('GET rejects %s', async (_label, path, message) => {
    const res = await gw.get(`path=${encodeURIComponent(path)}`);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toContain(message);
  });

  it.each(cases)('DELETE rejects %s', async (_label, path, message) => {
    const res = await gw.del({ path });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toContain(message);
  });

  it('GET of the bare root with a version is not the connectivity check: it is a bad path', async () => {
    const res = await gw.get('path=tfy-secret&version=1');
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toBe('path must have at least one segment below tfy-secret/');
  });

  it('accepts the longest legal path (1024 bytes) and a 255-character segment', async () => {
    const path = `tfy-secret/${`${long(255)}/`.repeat(3)}${long(1024 - 11 - 256 * 3)}`;
    expect(Buffer.byteLength(path)).toBe(1024);
    expect(await (await gw.put(path, 'v')).json()).toEqual({ path, version: 1 });
    expect((await gw.get(`path=${path}`)).status).toBe(200);
  });

  it('paths are case-sensitive: Key and key are two secrets', async () => {
    const upper = secretValue('upper');
    const lower = secretValue('lower');
    await gw.put('tfy-secret/case/Key', upper);
    await gw.put('tfy-secret/case/key', lower);
    expect(((await (await gw.get('path=tfy-secret/case/Key')).json()) as { value: string }).value).toBe(
      upper,
    );
    expect(((await (await gw.get('path=tfy-secret/case/key')).json()) as { value: string }).value).toBe(
      lower,
    );
  });

  it('serves the FQN acme:prod:db-password at tfy-secret/acme/prod/db-password', async () => {
    const value = secretValue();
    const res = await gw.put('tfy-secret/acme/prod/db-password', value);
    expect(await res.json()).toEqual({ path: 'tfy-secret/acme/prod/db-password', version: 1 });
  });

  it('names the broken rule even for odd characters (the message is safe to show)', async () => {
    const res = await gw.put('tfy-secret/a"<script>', secretValue());
    expect((await errorOf(res)).message).toBe(
      'path must use only A-Z a-z 0-9 _ - . in a segment (found "\\"" in segment 1)',
    );
  });
});

describe('a configured root', () => {
  it('SGW_ROOT changes the root for paths and for the connectivity check', async () => {
    const other = await startTestGateway({ SGW_ROOT: 'org-secrets' });
    try {
      expect((await other.put('org-secrets/a', secretValue())).status).toBe(200);
      const wrong = await other.put('tfy-secret/a', secretValue());
      expect((await errorOf(wrong)).message).toBe('path must start with org-secrets/');
      expect(await (await other.get('path=org-secrets')).json()).toEqual({ path: 'org-secrets', value: '' });
    } finally {
      await other.shutdown();
    }
  });
});

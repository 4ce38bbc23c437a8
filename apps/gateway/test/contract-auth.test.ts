import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameText, sha256Hex } from '../src/auth.ts';
import { checkNoValueInLogs, errorOf, secretValue, startTestGateway, type TestGateway } from './helpers.ts';

// contract.md §1: every request under /secrets carries the auth header; a missing or wrong one gets
// 401 and nothing else is revealed.
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.shutdown());
checkNoValueInLogs();

const UNAUTHORIZED = { statusCode: 401, code: 'unauthorized', message: 'missing or invalid credentials' };

describe('header auth', () => {
  const requests: Array<[string, RequestInit, string]> = [
    ['PUT', { method: 'PUT', body: JSON.stringify({ path: 'tfy-secret/a/b', value: 'v' }) }, ''],
    ['GET', { method: 'GET' }, '?path=tfy-secret/a/b'],
    ['GET root', { method: 'GET' }, '?path=tfy-secret'],
    ['DELETE', { method: 'DELETE', body: JSON.stringify({ path: 'tfy-secret/a/b' }) }, ''],
    ['GET with a bad path', { method: 'GET' }, '?path=../../etc/passwd'],
    ['PUT with a bad body', { method: 'PUT', body: '{not json' }, ''],
    ['POST', { method: 'POST' }, ''],
  ];

  it.each(requests)(
    '%s without the header: 401 and the same body whatever the request',
    async (_l, init, q) => {
      const res = await fetch(`${gw.url}/secrets${q}`, {
        ...init,
        headers: { 'Content-Type': 'application/json' },
      });
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toEqual(UNAUTHORIZED);
    },
  );

  it.each(requests)('%s with a wrong key: 401', async (_l, init, q) => {
    for (const wrong of [`${gw.key}x`, gw.key.slice(0, -1), '', gw.key.toUpperCase(), `${gw.key} extra`]) {
      const res = await fetch(`${gw.url}/secrets${q}`, {
        ...init,
        headers: { 'Content-Type': 'application/json', 'X-API-Key': wrong },
      });
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toEqual(UNAUTHORIZED);
    }
  });

  it('a key in the wrong header is refused', async () => {
    const res = await fetch(`${gw.url}/secrets?path=tfy-secret`, { headers: { Authorization: gw.key } });
    expect(res.status).toBe(401);
  });

  it('a refused write stores nothing', async () => {
    const path = 'tfy-secret/auth/nothing-stored';
    await fetch(`${gw.url}/secrets`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', 'X-API-Key': 'wrong-key-wrong-key' },
      body: JSON.stringify({ path, value: secretValue() }),
    });
    expect((await gw.get(`path=${path}`)).status).toBe(404);
  });

  it('the header name is case-insensitive on the wire', async () => {
    const res = await fetch(`${gw.url}/secrets?path=tfy-secret`, { headers: { 'x-api-key': gw.key } });
    expect(res.status).toBe(200);
  });

  it('operational endpoints need no key', async () => {
    for (const route of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
      expect((await fetch(`${gw.url}${route}`)).status, route).toBe(200);
    }
  });
});

describe('configured header', () => {
  it('SGW_AUTH_HEADER=Authorization: the key is accepted as "Bearer <key>" and bare, as TrueFoundry may send it', async () => {
    const key = 'k'.repeat(32);
    const other = await startTestGateway({ SGW_AUTH_HEADER: 'Authorization', SGW_API_KEY: key });
    try {
      const status = async (headers: Record<string, string>) =>
        (await fetch(`${other.url}/secrets?path=tfy-secret`, { headers })).status;
      expect(await status({ Authorization: `Bearer ${key}` })).toBe(200);
      expect(await status({ Authorization: `bearer ${key}` })).toBe(200);
      expect(await status({ Authorization: key })).toBe(200);
      expect(await status({ Authorization: `Bearer ${key}x` })).toBe(401);
      expect(await status({ Authorization: `Basic ${key}` })).toBe(401);
      expect(await status({ 'X-API-Key': key })).toBe(401);
    } finally {
      await other.shutdown();
    }
  });

  it('refuses at start a key that could never match: too short, spaces, a trailing newline, non-ASCII, a scheme', async () => {
    for (const [key, why] of [
      ['short', 'at least 16 characters'],
      ['key with spaces 0123456789', 'printable ASCII without spaces'],
      ['0123456789abcdefgh\n', 'trailing newline'],
      ['0123456789abcdefgh ', 'printable ASCII'],
      ['0123456789abcdéfgh', 'printable ASCII'],
      [`Bearer ${'k'.repeat(32)}`, 'the key alone'],
    ] as const) {
      await expect(startTestGateway({ SGW_API_KEY: key }), JSON.stringify(key)).rejects.toThrow(why);
    }
  });
});

describe('Basic credentials (TrueFoundry "Custom Basic Auth")', () => {
  const user = 'truefoundry';
  const password = `pw-${'p'.repeat(24)}`;
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

  it('Authorization: Basic base64(user:password) authenticates; a wrong user or password is 401', async () => {
    const other = await startTestGateway({ SGW_BASIC_AUTH_USER: user, SGW_BASIC_AUTH_PASSWORD: password });
    try {
      const status = async (authorization: string) =>
        (await fetch(`${other.url}/secrets?path=tfy-secret`, { headers: { Authorization: authorization } }))
          .status;
      expect(await status(basic(user, password))).toBe(200);
      expect(await status(`basic ${Buffer.from(`${user}:${password}`).toString('base64')}`)).toBe(200);
      expect(await status(basic(user, `${password}x`))).toBe(401);
      expect(await status(basic('someone', password))).toBe(401);
      expect(await status(basic(user, ''))).toBe(401);
      expect(await status(`Basic ${Buffer.from(user).toString('base64')}`)).toBe(401);
      expect(await status(`Bearer ${password}`)).toBe(401);
      // The API key keeps working beside it, in its own header.
      expect((await fetch(`${other.url}/secrets?path=tfy-secret`, { headers: other.headers })).status).toBe(
        200,
      );
    } finally {
      await other.shutdown();
    }
  });

  it('a Basic credential in the file is a user and the SHA-256 of the password, with scopes like any key', async () => {
    const other = await startTestGateway(
      {},
      {
        auth: {
          keys: [
            {
              name: 'tfy-basic',
              basicUser: user,
              sha256: sha256Hex(password),
              operations: ['read'],
              prefixes: ['tfy-secret/acme'],
            },
          ],
        },
      },
    );
    try {
      const headers = { Authorization: basic(user, password) };
      const get = (path: string) => fetch(`${other.url}/secrets?path=${path}`, { headers });
      expect((await get('tfy-secret/acme/x')).status).toBe(404);
      expect((await get('tfy-secret/other/x')).status).toBe(403);
      const put = await fetch(`${other.url}/secrets`, {
        method: 'PUT',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ path: 'tfy-secret/acme/x', value: 'v' }),
      });
      expect(put.status).toBe(403);
    } finally {
      await other.shutdown();
    }
  });
});

describe('sameText on digests', () => {
  it('is true only for the same 64-character digest, wherever a difference is', () => {
    const d = sha256Hex('some-key-0123456789');
    expect(sameText(d, d)).toBe(true);
    expect(sameText(d, `${d}`.slice(0))).toBe(true);
    for (const i of [0, 31, 63]) {
      const other = `${d.slice(0, i)}${d[i] === 'a' ? 'b' : 'a'}${d.slice(i + 1)}`;
      expect(sameText(other, d)).toBe(false);
    }
    expect(sameText(d.slice(0, 63), d)).toBe(false);
    expect(sameText(`${d}0`, d)).toBe(false);
  });
});

describe('sameText', () => {
  it('is true exactly when the presented text equals the known one', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), (presented, known) => {
        expect(sameText(presented, known)).toBe(presented === known);
        expect(sameText(known, known)).toBe(true);
      }),
    );
    const key = 'admin-key-0123456789abcdef';
    for (const other of [`${key}x`, key.slice(0, -1), `x${key.slice(1)}`, key.repeat(2), '']) {
      expect(sameText(other, key)).toBe(false);
    }
  });
});

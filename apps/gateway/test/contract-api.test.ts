import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNoValueInLogs, errorOf, secretValue, startTestGateway, type TestGateway } from './helpers.ts';

// contract.md §1 (wire API), against the real server on a real port with the embedded SQLite store.
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.shutdown());
checkNoValueInLogs();

let n = 0;
const fresh = () => `tfy-secret/acme/api/secret-${++n}-${Date.now()}`;

describe('PUT /secrets', () => {
  it('creates version 1 and answers {path, version} with version a JSON number', async () => {
    const path = fresh();
    const res = await gw.put(path, secretValue());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ path, version: 1 });
    expect(text).toContain('"version":1');
  });

  it('every PUT makes the next version, even with an unchanged value', async () => {
    const path = fresh();
    const value = secretValue();
    for (const expected of [1, 2, 3])
      expect(await (await gw.put(path, value)).json()).toEqual({ path, version: expected });
  });

  it('ignores unknown body fields', async () => {
    const path = fresh();
    const res = await fetch(`${gw.url}/secrets`, {
      method: 'PUT',
      headers: { ...gw.headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ path, value: secretValue(), extra: 1, version: 99 }),
    });
    expect(await res.json()).toEqual({ path, version: 1 });
  });

  it.each([
    ['an array', '[]', 'body must be a JSON object'],
    ['a string', '"text"', 'body must be a JSON object'],
    ['a number', '42', 'body must be a JSON object'],
    ['null', 'null', 'body must be a JSON object'],
    ['empty', '', 'body must be a JSON object'],
    ['malformed JSON', '{"path": ', 'body must be valid JSON'],
    ['no value', '{"path":"tfy-secret/a/b"}', 'value must be a string'],
    ['a numeric value', '{"path":"tfy-secret/a/b","value":5}', 'value must be a string'],
    ['a null value', '{"path":"tfy-secret/a/b","value":null}', 'value must be a string'],
    ['no path', '{"value":"v"}', 'path must be a string'],
    ['a numeric path', '{"path":7,"value":"v"}', 'path must be a string'],
  ])('answers 400 invalid_request for a body that is %s', async (_label, body, message) => {
    const res = await fetch(`${gw.url}/secrets`, {
      method: 'PUT',
      headers: { ...gw.headers, 'Content-Type': 'application/json' },
      body,
    });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain(message);
  });

  it('answers 400 invalid_path for a bad path, naming the rule', async () => {
    const res = await gw.put('other-root/a', secretValue());
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toEqual({
      statusCode: 400,
      code: 'invalid_path',
      message: 'path must start with tfy-secret/',
    });
  });

  it('accepts a value of exactly 64 KiB and answers 413 value_too_large one byte over, storing nothing', async () => {
    const path = fresh();
    expect((await gw.put(path, 'v'.repeat(64 * 1024))).status).toBe(200);
    const res = await gw.put(path, 'v'.repeat(64 * 1024 + 1));
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('value_too_large');
    expect(((await (await gw.get(`path=${path}`)).json()) as { version: number }).version).toBe(1);
  });

  it('counts the limit in UTF-8 bytes, not characters', async () => {
    const res = await gw.put(fresh(), '€'.repeat(22_000)); // 66,000 bytes
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('value_too_large');
  });

  it('answers 413 payload_too_large for a body over the body limit', async () => {
    const res = await gw.put(fresh(), 'x'.repeat(2 * 1024 * 1024));
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('payload_too_large');
  });

  it('reads a JSON body even without a Content-Type header', async () => {
    const path = fresh();
    const res = await fetch(`${gw.url}/secrets`, {
      method: 'PUT',
      headers: gw.headers,
      body: JSON.stringify({ path, value: secretValue() }),
    });
    expect(await res.json()).toEqual({ path, version: 1 });
  });
});

describe('GET /secrets', () => {
  it('returns the latest version with {path, version, value}', async () => {
    const path = fresh();
    await gw.put(path, secretValue());
    const latest = secretValue();
    await gw.put(path, latest);
    const res = await gw.get(`path=${path}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ path, version: 2, value: latest });
  });

  it('returns a given version', async () => {
    const path = fresh();
    const first = secretValue();
    await gw.put(path, first);
    await gw.put(path, secretValue());
    expect(await (await gw.get(`path=${path}&version=1`)).json()).toEqual({ path, version: 1, value: first });
  });

  it('accepts a URL-encoded path (slashes as %2F) and decodes it exactly once', async () => {
    const path = fresh();
    const value = secretValue();
    await gw.put(path, value);
    const res = await gw.get(`path=${encodeURIComponent(path)}`);
    expect(await res.json()).toEqual({ path, version: 1, value });
    const twice = await gw.get(`path=${encodeURIComponent(path.replace(/\/secret/, '%2Fsecret'))}`);
    expect(twice.status).toBe(400);
    expect((await errorOf(twice)).message).toContain('path must not contain percent-encoded characters');
  });

  it('returns an empty value as "" and an absent path as 404: different answers', async () => {
    const path = fresh();
    const absent = await gw.get(`path=${path}`);
    expect(absent.status).toBe(404);
    expect(await errorOf(absent)).toEqual({
      statusCode: 404,
      code: 'not_found',
      message: `secret not found: ${path}`,
    });
    await gw.put(path, '');
    expect(await (await gw.get(`path=${path}`)).json()).toEqual({ path, version: 1, value: '' });
  });

  it('answers 404 for a version that does not exist or was deleted', async () => {
    const path = fresh();
    await gw.put(path, secretValue());
    await gw.put(path, secretValue());
    const missing = await gw.get(`path=${path}&version=3`);
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe('not_found');
    await gw.del({ path, version: 1 });
    expect((await gw.get(`path=${path}&version=1`)).status).toBe(404);
  });

  it.each(['0', '-1', 'abc', '1.5', '01', '1e3', '', '12345678901234567', '9007199254740993', '%201'])(
    'answers 400 invalid_version for version=%j',
    async (version) => {
      const path = fresh();
      await gw.put(path, secretValue());
      const res = await gw.get(`path=${path}&version=${version}`);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).code).toBe('invalid_version');
    },
  );

  it('answers 400 when path is missing or repeated, or version is repeated', async () => {
    for (const query of [
      '',
      'version=1',
      'path=tfy-secret/a&path=tfy-secret/b',
      'path=tfy-secret/a&version=1&version=2',
    ]) {
      const res = await gw.get(query);
      expect(res.status, query).toBe(400);
      expect((await errorOf(res)).code).toBe('invalid_request');
    }
  });

  it('latest skips a deleted newest version', async () => {
    const path = fresh();
    const first = secretValue();
    await gw.put(path, first);
    await gw.put(path, secretValue());
    expect((await gw.del({ path, version: 2 })).status).toBe(200);
    expect(await (await gw.get(`path=${path}`)).json()).toEqual({ path, version: 1, value: first });
  });
});

describe('DELETE /secrets', () => {
  it('deletes all versions: GET is 404, DELETE again is 400, a new PUT starts at 1', async () => {
    const path = fresh();
    await gw.put(path, secretValue());
    const old = secretValue();
    await gw.put(path, old);
    const res = await gw.del({ path });
    expect(res.status).toBe(200);
    expect((await gw.get(`path=${path}`)).status).toBe(404);
    expect((await gw.get(`path=${path}&version=2`)).status).toBe(404);
    const again = await gw.del({ path });
    expect(again.status).toBe(400);
    expect(await errorOf(again)).toEqual({
      statusCode: 400,
      code: 'not_found',
      message: `secret not found: ${path}`,
    });
    expect(await (await gw.put(path, secretValue())).json()).toEqual({ path, version: 1 });
    expect((await gw.get(`path=${path}&version=2`)).status).toBe(404);
  });

  it('deletes one version given as a number or as a string', async () => {
    const path = fresh();
    for (let i = 0; i < 3; i++) await gw.put(path, secretValue());
    expect((await gw.del({ path, version: 3 })).status).toBe(200);
    expect((await gw.del({ path, version: '2' })).status).toBe(200);
    expect(((await (await gw.get(`path=${path}`)).json()) as { version: number }).version).toBe(1);
  });

  it('answers 400 not_found for an absent path or version', async () => {
    const path = fresh();
    const absentPath = await gw.del({ path });
    expect(absentPath.status).toBe(400);
    expect((await errorOf(absentPath)).code).toBe('not_found');
    await gw.put(path, secretValue());
    const absentVersion = await gw.del({ path, version: 2 });
    expect(absentVersion.status).toBe(400);
    expect(await errorOf(absentVersion)).toEqual({
      statusCode: 400,
      code: 'not_found',
      message: `secret version not found: ${path} version 2`,
    });
    expect((await gw.del({ path, version: 1 })).status).toBe(200);
    expect((await gw.del({ path, version: 1 })).status).toBe(400);
  });

  it('takes path and version as query parameters when there is no body', async () => {
    const path = fresh();
    await gw.put(path, secretValue());
    await gw.put(path, secretValue());
    const one = await fetch(`${gw.url}/secrets?path=${path}&version=2`, {
      method: 'DELETE',
      headers: gw.headers,
    });
    expect(one.status).toBe(200);
    const all = await fetch(`${gw.url}/secrets?path=${path}`, { method: 'DELETE', headers: gw.headers });
    expect(all.status).toBe(200);
    expect((await gw.get(`path=${path}`)).status).toBe(404);
  });

  it.each([
    ['an array', '[1]', 'invalid_request'],
    ['a string', '"x"', 'invalid_request'],
    ['malformed JSON', '{', 'invalid_request'],
    ['a boolean version', '{"path":"tfy-secret/a/b","version":true}', 'invalid_request'],
    ['a zero version', '{"path":"tfy-secret/a/b","version":0}', 'invalid_version'],
    ['a fractional version', '{"path":"tfy-secret/a/b","version":1.5}', 'invalid_version'],
    ['a bad version string', '{"path":"tfy-secret/a/b","version":"v1"}', 'invalid_version'],
    ['a bad path', '{"path":"tfy-secret/a b"}', 'invalid_path'],
  ])('answers 400 for a body that is %s', async (_label, body, code) => {
    const res = await gw.del(body);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe(code);
  });
});

describe('connectivity check GET /secrets?path=tfy-secret', () => {
  it('answers 200 {"path":"tfy-secret","value":""} while the store is reachable', async () => {
    const res = await gw.get('path=tfy-secret');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"path":"tfy-secret","value":""}');
  });
});

describe('other methods and routes', () => {
  it('answers 405 with Allow on /secrets for other methods, and 404 elsewhere, in the error shape', async () => {
    const post = await fetch(`${gw.url}/secrets`, { method: 'POST', headers: gw.headers });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, PUT, DELETE');
    expect((await errorOf(post)).code).toBe('method_not_allowed');
    const other = await fetch(`${gw.url}/nope`, { headers: gw.headers });
    expect(other.status).toBe(404);
    expect((await errorOf(other)).code).toBe('not_found');
  });
});

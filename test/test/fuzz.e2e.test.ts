import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, startGateway } from '@secret-gateway/gateway';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// At least 10,000 generated requests against one running gateway: malformed JSON, wrong types, odd
// paths and encodings, control characters, huge and empty bodies, odd headers, every method on every
// route. No 5xx, no crash, every error in the contract's shape, nothing stored lost or changed.
const KEY = 'fuzz-key-0123456789abcdef';
const logs: string[] = [];
let gw: Awaited<ReturnType<typeof startGateway>>;
const seeded = new Map<string, string>();

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _e, done) {
      logs.push(String(chunk));
      done();
    },
  });
  gw = await startGateway(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      SGW_DATA_DIR: mkdtempSync(join(tmpdir(), 'sgw-fuzz-')),
      SGW_API_KEY: KEY,
      SGW_FAILED_AUTH_MAX: '100000000',
      SGW_FAILED_AUTH_DELAY_MS: '0',
      SGW_MAX_VALUE_BYTES: '4096',
    },
    { logger: createLogger('info', sink) },
  );
  for (let i = 0; i < 5; i++) {
    const path = `tfy-secret/fuzz/seed${i}`;
    const value = `seed-value-${i}-${Math.random()}`;
    const res = await fetch(`${gw.url}/secrets`, {
      method: 'PUT',
      headers: { 'X-API-Key': KEY },
      body: JSON.stringify({ path, value }),
    });
    expect(res.status).toBe(200);
    seeded.set(path, value);
  }
});
afterAll(() => gw.shutdown());

const METHODS = ['GET', 'PUT', 'DELETE', 'POST', 'PATCH', 'OPTIONS', 'HEAD'];
const ROUTES = [
  '/secrets',
  '/secrets/',
  '/secrets/x',
  '/healthz',
  '/readyz',
  '/metrics',
  '/openapi.json',
  '/',
  '/nope',
  '/SECRETS',
  '/secrets%2F',
  '//secrets',
];
const oddText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    'tfy-secret',
    'tfy-secret/',
    'tfy-secret/a',
    'tfy-secret/../x',
    'tfy-secret/a%2Fb',
    'tfy-secret/%00',
    '%',
    '%%',
    '%zz',
    '\u0000',
    '\r\n',
    'tfy-secret/\u202e',
    `tfy-secret/${'x'.repeat(2000)}`,
  ),
);
const pathValue = fc.oneof(
  oddText,
  fc.constant('tfy-secret/fuzz/target'),
  fc.stringMatching(/^tfy-secret\/[A-Za-z0-9_.-]{1,20}(\/[A-Za-z0-9_.-]{1,20}){0,3}$/),
);
const versionValue = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 20 }),
  fc.constantFrom('1', '0', '-1', '1e3', '99999999999999999', '1.0', ''),
  fc.constant(null),
  fc.boolean(),
);
const query = fc.oneof(
  fc.constant(''),
  fc
    .tuple(pathValue, fc.option(versionValue))
    .map(
      ([p, v]) =>
        `?path=${encodeURIComponent(p)}${v === null ? '' : `&version=${encodeURIComponent(String(v))}`}`,
    ),
  fc.string({ maxLength: 60 }).map((s) => `?${s}`),
  fc
    .tuple(pathValue, pathValue)
    .map(([a, b]) => `?path=${encodeURIComponent(a)}&path=${encodeURIComponent(b)}`),
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.constant(''),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        path: fc.oneof(pathValue, fc.jsonValue()),
        value: fc.oneof(fc.string({ maxLength: 100 }), fc.jsonValue()),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.record({ path: pathValue, version: versionValue }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    '{',
    '{"path":',
    '[',
    'null',
    '"x"',
    '{"path":"tfy-secret/a","value":"\\ud800"}',
    '\u0000\u0001',
    '{"__proto__":{"x":1},"path":"tfy-secret/fuzz/p","value":"v"}',
  ),
  fc
    .integer({ min: 5000, max: 300_000 })
    .map((n) => JSON.stringify({ path: 'tfy-secret/fuzz/big', value: 'x'.repeat(n) })),
);
const headers = fc.record({
  auth: fc.oneof(
    fc.constant(KEY),
    fc.constant(KEY),
    fc.constant(undefined),
    fc.string({ maxLength: 30 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
  ),
  contentType: fc.constantFrom(
    undefined,
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/json; charset=latin1',
  ),
  requestId: fc.option(fc.string({ maxLength: 200 }).filter((s) => /^[\x20-\x7e]*$/.test(s))),
});
const request = fc.record({
  method: fc.constantFrom(...METHODS),
  route: fc.constantFrom(...ROUTES),
  query,
  body,
  headers,
});

function checkResponse(status: number, text: string, contentType: string | null, method: string): void {
  expect(status, text.slice(0, 200)).toBeLessThan(500);
  if (status >= 400 && method !== 'HEAD') {
    expect(contentType).toMatch(/^application\/json/);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(parsed).sort()).toEqual(['code', 'message', 'statusCode']);
    expect(parsed.statusCode).toBe(status);
    expect(typeof parsed.message).toBe('string');
  }
}

describe('fuzz', () => {
  it('answers 10,000 generated requests without a 5xx, always in the contract shape', {
    timeout: 300_000,
  }, async () => {
    const samples = fc.sample(request, { numRuns: 10_000, seed: 20261122 });
    let sent = 0;
    const statuses = new Map<number, number>();
    for (let i = 0; i < samples.length; i += 50) {
      await Promise.all(
        samples.slice(i, i + 50).map(async (r) => {
          const h: Record<string, string> = {};
          if (r.headers.auth !== undefined) h['X-API-Key'] = r.headers.auth;
          if (r.headers.contentType) h['Content-Type'] = r.headers.contentType;
          if (r.headers.requestId) h['X-Request-Id'] = r.headers.requestId;
          const canHaveBody = !['GET', 'HEAD'].includes(r.method);
          let res: Response;
          try {
            res = await fetch(`${gw.url}${r.route}${r.query}`, {
              method: r.method,
              headers: h,
              body: canHaveBody ? r.body : undefined,
            });
          } catch (error) {
            throw new Error(
              `request failed: ${r.method} ${r.route}${r.query.slice(0, 80)} (body ${r.body?.length ?? 'none'}, key ${r.headers.auth === KEY ? 'valid' : 'invalid'}): ${String(error)} ${String((error as { cause?: unknown }).cause)}`,
            );
          }
          checkResponse(res.status, await res.text(), res.headers.get('content-type'), r.method);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          sent++;
        }),
      );
    }
    expect(sent).toBe(10_000);
    // The generator reaches every kind of answer, not just one wall of 401s.
    for (const status of [200, 400, 401, 404, 405, 413])
      expect(statuses.get(status) ?? 0, `status ${status}`).toBeGreaterThan(20);
  });

  it('survives raw requests fetch cannot send: duplicate and oversized headers, bad bytes, bad framing', async () => {
    const { port } = new URL(gw.url);
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1');
        let out = '';
        socket.on('data', (d) => {
          out += d;
        });
        socket.on('close', () => resolve(out));
        socket.on('error', () => resolve(out));
        socket.end(text);
      });
    const cases = [
      `GET /secrets?path=tfy-secret HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEY}\r\nX-API-Key: ${KEY}\r\nConnection: close\r\n\r\n`,
      `GET /secrets?path=tfy-secret HTTP/1.1\r\nHost: x\r\nX-API-Key: wrong\r\nX-API-Key: ${KEY}\r\nConnection: close\r\n\r\n`,
      `GET /secrets?path=tfy-secret HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
      `GET /secrets?path=tfy-secret HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEY}\u0001\r\nConnection: close\r\n\r\n`,
      `PUT /secrets HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEY}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nbad\r\n0\r\n\r\n`,
      `PUT /secrets HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEY}\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{"path":`,
      `PUT /secrets HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEY}\r\nContent-Length: 5\r\nContent-Length: 6\r\nConnection: close\r\n\r\n{"a":1}`,
      'GARBAGE / HTTP/1.1\r\n\r\n',
      '\u0000\u0001\u0002\r\n\r\n',
      `GET /secrets?path=tfy-secret%00 HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEY}\r\nConnection: close\r\n\r\n`,
      `DELETE /secrets HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEY}\r\nContent-Length: 9\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"path":}`,
    ];
    for (let round = 0; round < 20; round++) {
      for (const text of cases) {
        const answer = await raw(text);
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
        // 0 = the server closed the connection (Node's parser does that for some garbage).
        if (status !== 0) expect(status, answer.slice(0, 200)).toBeLessThan(500);
        const bodyStart = answer.indexOf('\r\n\r\n');
        const bodyText = answer.slice(bodyStart + 4);
        // Node's own parser answers unparseable requests (400, 431) itself, with no JSON body.
        if (status >= 400 && bodyText.startsWith('{')) {
          expect(Object.keys(JSON.parse(bodyText)).sort()).toEqual(['code', 'message', 'statusCode']);
        }
      }
    }
  });

  it('is still healthy afterwards: nothing stored before was lost or changed, and no value was logged', async () => {
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const fresh = await fetch(`${gw.url}/secrets`, {
      method: 'PUT',
      headers: { 'X-API-Key': KEY },
      body: JSON.stringify({ path: 'tfy-secret/fuzz/after', value: 'still-works' }),
    });
    expect(await fresh.json()).toEqual({ path: 'tfy-secret/fuzz/after', version: 1 });
    const back = await fetch(`${gw.url}/secrets?path=tfy-secret/fuzz/after`, {
      headers: { 'X-API-Key': KEY },
    });
    expect(await back.json()).toEqual({ path: 'tfy-secret/fuzz/after', version: 1, value: 'still-works' });
    for (const [path, value] of seeded) {
      const res = await fetch(`${gw.url}/secrets?path=${path}`, { headers: { 'X-API-Key': KEY } });
      expect(await res.json()).toEqual({ path, version: 1, value });
    }
    const all = logs.join('');
    for (const value of seeded.values()) expect(all.includes(value)).toBe(false);
  });
});

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { checkNoValueInLogs, errorOf, secretValue, startTestGateway, type TestGateway } from './helpers.ts';

// Issue 13's attack pass: each case here was reproduced against the gateway before the pipeline.

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ SGW_HEADERS_TIMEOUT_MS: '300', SGW_REQUEST_TIMEOUT_MS: '600' });
});
afterAll(() => gw.shutdown());
checkNoValueInLogs();

/** Writes raw bytes on one connection and collects what comes back until the server closes or `until` matches. */
function raw(
  text: string | string[],
  until: (received: string) => boolean = () => false,
  pauseMs = 0,
): Promise<string> {
  const { port } = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    const parts = Array.isArray(text) ? text : [text];
    socket.on('connect', async () => {
      for (const part of parts) {
        socket.write(part);
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      }
    });
    socket.on('data', (d) => {
      received += d.toString();
      if (until(received)) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}

/** Bodies of the JSON responses in a raw answer, in order. */
function bodies(received: string): Array<Record<string, unknown>> {
  return [...received.matchAll(/\r\n\r\n(\{[^\r]*?\})(?=HTTP\/1\.1|$)/g)].map((m) =>
    JSON.parse(m[1] as string),
  );
}

const count = (text: string, what: string) => text.split(what).length - 1;

describe('DELETE never widens: path and version in both the body and the query must agree', () => {
  it('a version only in the query deletes that version, not every version', async () => {
    const path = 'tfy-secret/harden/del-query-version';
    await gw.put(path, secretValue());
    await gw.put(path, secretValue());
    await gw.put(path, secretValue());
    const res = await fetch(`${gw.url}/secrets?version=3`, {
      method: 'DELETE',
      headers: { ...gw.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ path }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ path, version: 3, deleted: true });
    expect(await (await gw.get(`path=${path}`)).json()).toMatchObject({ version: 2 });
  });

  it('different values in the two places: 400 and nothing is deleted', async () => {
    const path = 'tfy-secret/harden/del-disagree';
    await gw.put(path, secretValue());
    await gw.put(path, secretValue());
    for (const [query, body] of [
      ['version=1', { path, version: 2 }],
      ['version=1', { path, version: '2' }],
      [`path=${path}-other`, { path }],
      ['path=tfy-secret/harden/elsewhere&version=1', { path, version: 1 }],
    ] as const) {
      const res = await fetch(`${gw.url}/secrets?${query}`, {
        method: 'DELETE',
        headers: { ...gw.headers, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status, query).toBe(400);
      expect((await errorOf(res)).message).toMatch(/given in both the body and the query string/);
    }
    expect((await gw.get(`path=${path}&version=1`)).status).toBe(200);
    expect((await gw.get(`path=${path}&version=2`)).status).toBe(200);
  });

  it('the same value in both places is fine (a number in the body, its text in the query)', async () => {
    const path = 'tfy-secret/harden/del-agree';
    await gw.put(path, secretValue());
    await gw.put(path, secretValue());
    const res = await fetch(`${gw.url}/secrets?path=${path}&version=2`, {
      method: 'DELETE',
      headers: { ...gw.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ path, version: 2 }),
    });
    expect(res.status).toBe(200);
    expect(await (await gw.get(`path=${path}`)).json()).toMatchObject({ version: 1 });
  });
});

describe('values', () => {
  it('a value with an unpaired surrogate is refused with 400, not stored as U+FFFD', async () => {
    const path = 'tfy-secret/harden/surrogate';
    const res = await fetch(`${gw.url}/secrets`, {
      method: 'PUT',
      headers: { ...gw.headers, 'content-type': 'application/json' },
      body: `{"path":"${path}","value":"abc\\ud800def"}`,
    });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toBe(
      'value must be valid Unicode text (it holds an unpaired surrogate)',
    );
    expect((await gw.get(`path=${path}`)).status).toBe(404);
    // A well-formed pair (an emoji) is a normal value.
    expect((await gw.put(path, '\u{1F511} key')).status).toBe(200);
  });
});

describe('bodies the gateway cannot read', () => {
  it('an unsupported or broken content encoding is 400 in the error shape, and nothing is stored', async () => {
    const path = 'tfy-secret/harden/encoding';
    const send = (encoding: string) =>
      fetch(`${gw.url}/secrets`, {
        method: 'PUT',
        headers: { ...gw.headers, 'content-type': 'application/json', 'content-encoding': encoding },
        body: JSON.stringify({ path, value: 'v' }),
      });
    const unsupported = await send('compress');
    expect(unsupported.status).toBe(400);
    expect((await errorOf(unsupported)).message).toBe(
      'body must be JSON in UTF-8, uncompressed or gzip, deflate or br',
    );
    // Declared brotli, sent plain: the decompression fails.
    const broken = await send('br');
    expect(broken.status).toBe(400);
    expect((await errorOf(broken)).message).toBe('malformed request body');
    expect((await gw.get(`path=${path}`)).status).toBe(404);
  });
});

describe('scopes match whole path segments', () => {
  let scoped: TestGateway;
  const KEY = 'scoped-key-0123456789abcdef';
  beforeAll(async () => {
    const { sha256Hex } = await import('../src/auth.ts');
    scoped = await startTestGateway(
      {},
      {
        auth: { keys: [{ name: 'prod', sha256: sha256Hex(KEY), prefixes: ['tfy-secret/acme/prod'] }] },
      },
    );
  });
  afterAll(() => scoped.shutdown());

  it('prefix tfy-secret/acme/prod grants itself and below, not acme/production or acme/prod-evil', async () => {
    const read = async (path: string) =>
      (await fetch(`${scoped.url}/secrets?path=${path}`, { headers: { 'X-API-Key': KEY } })).status;
    expect(await read('tfy-secret/acme/prod/db')).toBe(404);
    expect(await read('tfy-secret/acme/prod/deep/db')).toBe(404);
    expect(await read('tfy-secret/acme/production/db')).toBe(403);
    expect(await read('tfy-secret/acme/prod-evil/x')).toBe(403);
    expect(await read('tfy-secret/acme/pro')).toBe(403);
  });

  it('configuration refuses prefixes outside the root or that are not paths', () => {
    const file = (prefixes: string[]) => ({
      auth: { keys: [{ name: 'k', sha256: 'a'.repeat(64), prefixes }] },
    });
    expect(() => loadConfig({}, file(['tfy-secret/acme/']))).not.toThrow();
    expect(() => loadConfig({}, file(['tfy-secret']))).not.toThrow();
    expect(() => loadConfig({}, file(['other/acme']))).toThrow(
      /prefixes: "other\/acme" is not a path under tfy-secret\//,
    );
    expect(() => loadConfig({}, file(['tfy-secret/a b']))).toThrow(/is not a path under tfy-secret\//);
    expect(() => loadConfig({}, file(['tfy-secret/../x']))).toThrow(/is not a path/);
  });
});

describe('routes', () => {
  it('/SECRETS?path= and /secrets/?path= are the /secrets route, in the metrics too', async () => {
    const path = 'tfy-secret/harden/routes';
    await gw.put(path, 'v');
    for (const url of [`/SECRETS?path=${path}`, `/secrets/?path=${path}`]) {
      const res = await fetch(`${gw.url}${url}`, { headers: gw.headers });
      expect(res.status, url).toBe(200);
    }
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).not.toMatch(/sgw_http_requests_total\{route="other",method="GET",status="200"\}/);
  });
});

describe('the wire: Node-level refusals, 100-continue, pipelining', () => {
  it('malformed HTTP, headers too large and slow headers get the contract error shape', async () => {
    const bad = await raw('GET /secrets?path=x HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    expect(bad).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodies(bad)[0]).toEqual({
      statusCode: 400,
      code: 'invalid_request',
      message: 'malformed HTTP request',
    });

    const big = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    expect(bodies(big)[0]).toMatchObject({ statusCode: 431, code: 'invalid_request' });

    // Headers that never finish: cut at the configured 300 ms (Node alone checked every 30 s).
    const slow = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    expect(slow).toMatch(/^HTTP\/1\.1 408 /);
    expect(bodies(slow)[0]).toEqual({
      statusCode: 408,
      code: 'request_timeout',
      message: 'the request was not received in time',
    });
  });

  it('a refused request with a small body is read and dropped: the connection carries the next request', async () => {
    const body = JSON.stringify({ path: 'tfy-secret/harden/refused', value: 'v' });
    const refused = `PUT /secrets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const res = await raw(
      [refused, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
      (r) => r.includes('"ok"'),
      30,
    );
    expect(res).toMatch(/^HTTP\/1\.1 401 /);
    expect(res).not.toMatch(/\r\nConnection: close\r\n/i);
    expect(bodies(res)).toEqual([expect.objectContaining({ statusCode: 401 }), { status: 'ok' }]);
    // A body too big to read for someone unknown: never read, and the connection closes.
    const big = `PUT /secrets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`;
    const closed = await raw(big);
    expect(closed).toMatch(/^HTTP\/1\.1 401 /);
    expect(closed).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('keeps an idle keep-alive connection 65 s by default, longer than the proxies in front', async () => {
    const res = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', (r) => r.includes('\r\n\r\n'));
    expect(res).toMatch(/^HTTP\/1\.1 200 /);
    expect(res).toMatch(/\r\nKeep-Alive: timeout=65\r\n/i);
  });

  it('SGW_KEEP_ALIVE_TIMEOUT_MS sets it, and the gateway then closes an idle connection itself', async () => {
    const short = await startTestGateway({ SGW_KEEP_ALIVE_TIMEOUT_MS: '1000' });
    try {
      const { port } = new URL(short.url);
      const socket = connect(Number(port), '127.0.0.1');
      let received = '';
      socket.on('data', (d) => {
        received += d.toString();
      });
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      // Nothing more is sent: only the server's keep-alive timeout can end this connection.
      await closed;
      expect(received).toMatch(/^HTTP\/1\.1 200 /);
      expect(received).toMatch(/\r\nKeep-Alive: timeout=1\r\n/i);
    } finally {
      await short.shutdown();
    }
  });

  it('a declared Content-Length over the limit is 413 at once, before any body is sent', async () => {
    const head = `PUT /secrets HTTP/1.1\r\nHost: x\r\nX-API-Key: ${gw.key}\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n`;
    const res = await raw(head);
    expect(res).toMatch(/^HTTP\/1\.1 413 /);
    expect(res).toMatch(/\r\nConnection: close\r\n/i);
    expect(bodies(res)[0]).toMatchObject({ statusCode: 413, code: 'payload_too_large' });
  });

  it('100 Continue is sent only to an authenticated caller', async () => {
    const body = JSON.stringify({ path: 'tfy-secret/harden/continue', value: 'v' });
    const head = (key: string) =>
      `PUT /secrets HTTP/1.1\r\nHost: x\r\nX-API-Key: ${key}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`;
    const refused = await raw(head('wrong-key-0123456789'), (r) => r.includes('}'));
    expect(refused).toMatch(/^HTTP\/1\.1 401 /);
    expect(refused).not.toContain('100 Continue');

    const accepted = await raw([head(gw.key), body], (r) => r.includes('"version"'), 100);
    expect(accepted).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);

    const other = await raw(
      `PUT /secrets HTTP/1.1\r\nHost: x\r\nX-API-Key: ${gw.key}\r\nContent-Length: 2\r\nExpect: something-else\r\n\r\n`,
      (r) => r.includes('}'),
    );
    expect(other).toMatch(/^HTTP\/1\.1 417 /);
    expect(bodies(other)[0]).toMatchObject({ statusCode: 417, code: 'invalid_request' });
  });

  it('a GET pipelined right behind a PUT on one connection sees the write (read-your-writes)', async () => {
    const path = 'tfy-secret/harden/pipelined';
    await gw.put(path, 'first');
    // Cached now: the GET below would be answered from memory at once if it did not wait.
    expect(await (await gw.get(`path=${path}`)).json()).toMatchObject({ version: 1 });
    for (let round = 2; round <= 6; round++) {
      const value = `round-${round}`;
      const put = JSON.stringify({ path, value });
      const received = await raw(
        `PUT /secrets HTTP/1.1\r\nHost: x\r\nX-API-Key: ${gw.key}\r\nContent-Type: application/json\r\nContent-Length: ${put.length}\r\n\r\n${put}` +
          `GET /secrets?path=${path} HTTP/1.1\r\nHost: x\r\nX-API-Key: ${gw.key}\r\n\r\n`,
        (r) => count(r, 'HTTP/1.1 200') === 2 && r.trimEnd().endsWith('}'),
      );
      expect(bodies(received)).toEqual([
        { path, version: round },
        { path, version: round, value },
      ]);
    }
  });
});

describe('audit: every authenticated request gets exactly one outcome line', () => {
  it('400 bad JSON, 413 body limit and 405 are audited with their key; a wrong key is not a line of its own', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(mkdtempSync(join(tmpdir(), 'sgw-audit-one-')), 'audit.log');
    const audited = await startTestGateway({ SGW_AUDIT_FILE: file, SGW_BODY_LIMIT_BYTES: '2048' });
    try {
      const send = (method: string, body?: string, key = audited.key) =>
        fetch(`${audited.url}/secrets`, {
          method,
          headers: { 'X-API-Key': key, 'content-type': 'application/json' },
          body,
        });
      expect((await send('PUT', '{not json')).status).toBe(400);
      expect(
        (await send('PUT', JSON.stringify({ path: 'tfy-secret/a/b', value: 'x'.repeat(4096) }))).status,
      ).toBe(413);
      expect((await send('POST')).status).toBe(405);
      expect((await send('DELETE', '[1]')).status).toBe(400);
      expect((await send('PUT', '{}', 'wrong-key-0123456789')).status).toBe(401);
    } finally {
      await audited.shutdown();
    }
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const authenticated = lines.filter((l) => l.key === 'env');
    expect(authenticated.map((l) => [l.op, l.outcome, l.code])).toEqual([
      ['write', 400, 'invalid_request'],
      ['write', 413, 'payload_too_large'],
      ['other', 405, 'method_not_allowed'],
      ['delete', 400, 'invalid_request'],
    ]);
    expect(new Set(authenticated.map((l) => l.requestId)).size).toBe(4);
  });
});

describe('start-up says where the store is', () => {
  it('logs the resolved data directory, where it came from, and whether it is new', async () => {
    const lines: string[] = [];
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = join(mkdtempSync(join(tmpdir(), 'sgw-dd-')), 'fresh');
    const started = await startTestGateway({ SGW_DATA_DIR: dir }, undefined, lines);
    await started.shutdown();
    const again = await startTestGateway({ SGW_DATA_DIR: dir }, undefined, lines);
    await again.shutdown();
    const said = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'data directory');
    expect(said.map((l) => [l.dataDir, l.from, l.new])).toEqual([
      [dir, 'SGW_DATA_DIR', true],
      [dir, 'SGW_DATA_DIR', false],
    ]);
  });
});

describe('client addresses behind a trusted proxy', () => {
  const wrong = (url: string, forwardedFor: string) =>
    fetch(`${url}/secrets?path=tfy-secret`, {
      headers: { 'X-API-Key': 'wrong-key-0123456789', 'X-Forwarded-For': forwardedFor },
    });
  const env = { SGW_FAILED_AUTH_MAX: '3', SGW_FAILED_AUTH_DELAY_MS: '0' };

  it('with the proxy trusted, failures count per forwarded address: one client throttled, another not', async () => {
    const lines: string[] = [];
    const proxied = await startTestGateway({ ...env, SGW_TRUSTED_PROXIES: 'loopback' }, undefined, lines);
    try {
      const first = [];
      for (let i = 0; i < 4; i++) first.push((await wrong(proxied.url, '203.0.113.5')).status);
      expect(first).toEqual([401, 401, 429, 429]);
      expect((await wrong(proxied.url, '203.0.113.6')).status).toBe(401);
      const warned = lines
        .map((l) => JSON.parse(l))
        .find((l) => l.msg?.startsWith('client address throttled'));
      expect(warned.client).toBe('203.0.113.5');
    } finally {
      await proxied.shutdown();
    }
  });

  it('without it, X-Forwarded-For is ignored: a client cannot pick its address to dodge the limit', async () => {
    const direct = await startTestGateway(env);
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await wrong(direct.url, `203.0.113.${i}`)).status);
      expect(statuses).toEqual([401, 401, 429, 429]);
    } finally {
      await direct.shutdown();
    }
  });

  it('refuses a trusted-proxy entry that is not an address, a CIDR or a known name', () => {
    expect(() => loadConfig({ SGW_TRUSTED_PROXIES: 'not-an-address' })).toThrow(/SGW_TRUSTED_PROXIES/);
  });
});

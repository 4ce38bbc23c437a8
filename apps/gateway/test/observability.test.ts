import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestIds } from '../src/app.ts';
import { createLogger, LineBatcher } from '../src/logger.ts';
import { GatewayMetrics } from '../src/metrics.ts';
import { type RunningGateway, startGateway } from '../src/server.ts';

// The access log and the request metrics are written by the gateway itself (not by pino's or
// prom-client's generic paths), so their exact shape is pinned here.

const lines: string[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  },
});
const KEY = `obs-key-${randomBytes(8).toString('hex')}`;
let gw: RunningGateway;
const headers = { 'X-API-Key': KEY };

beforeAll(async () => {
  gw = await startGateway(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      SGW_DATA_DIR: mkdtempSync(join(tmpdir(), 'sgw-obs-')),
      SGW_BACKEND: 'memory',
      SGW_API_KEY: KEY,
      SGW_CACHE: 'on',
    },
    { logger: createLogger('info', sink) },
  );
});
afterAll(() => gw.shutdown());

const accessLines = () =>
  lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');

describe('access log', () => {
  it('one JSON line per request, in the logger’s shape, with the response’s request id and no query or value', async () => {
    const value = `obs-value-${randomBytes(6).toString('hex')}`;
    await fetch(`${gw.url}/secrets`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ path: 'tfy-secret/obs/a', value }),
    });
    const before = accessLines().length;
    const res = await fetch(`${gw.url}/secrets?path=tfy-secret/obs/a&version=1`, {
      headers: { ...headers, 'X-Request-Id': 'client-id-42' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('client-id-42');
    await new Promise((r) => setImmediate(r));
    const line = accessLines()
      .slice(before)
      .find((l) => l.reqId === 'client-id-42');
    expect(line).toBeDefined();
    expect(Object.keys(line as object)).toEqual([
      'level',
      'time',
      'service',
      'reqId',
      'method',
      'route',
      'status',
      'key',
      'ms',
      'msg',
    ]);
    expect(line).toMatchObject({
      level: 30,
      service: 'secret-gateway',
      method: 'GET',
      route: '/secrets',
      status: 200,
      key: 'env',
    });
    expect(typeof line?.ms).toBe('number');
    expect(new Date(line?.time as string).toISOString()).toBe(line?.time);
    const all = lines.join('\n');
    expect(all).not.toContain(value);
    expect(all).not.toContain('version=1');
  });

  it('unauthenticated requests are logged without a key; unknown routes as "other"', async () => {
    await fetch(`${gw.url}/secrets?path=tfy-secret/obs/a`, { headers: { 'X-Request-Id': 'no-key-1' } });
    await fetch(`${gw.url}/nothing-here?x=1`, { headers: { 'X-Request-Id': 'other-1' } });
    // A request id that could break the line is replaced; every line still parses (accessLines).
    const odd = await fetch(`${gw.url}/healthz`, { headers: { 'X-Request-Id': 'a"b\\c' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((r) => setImmediate(r));
    const unauth = accessLines().find((l) => l.reqId === 'no-key-1');
    expect(unauth).toMatchObject({ status: 401, route: '/secrets' });
    expect(unauth).not.toHaveProperty('key');
    expect(accessLines().find((l) => l.reqId === 'other-1')).toMatchObject({ status: 404, route: 'other' });
  });

  it('writes nothing for requests when the level hides info lines', async () => {
    const quiet: string[] = [];
    const gw2 = await startGateway(
      {
        PORT: '0',
        HOST: '127.0.0.1',
        SGW_DATA_DIR: mkdtempSync(join(tmpdir(), 'sgw-obs-')),
        SGW_BACKEND: 'memory',
        SGW_API_KEY: KEY,
      },
      {
        logger: createLogger(
          'warn',
          new Writable({
            write(chunk, _enc, done) {
              quiet.push(chunk.toString());
              done();
            },
          }),
        ),
      },
    );
    await fetch(`${gw2.url}/secrets?path=tfy-secret/obs/none`, { headers });
    await gw2.shutdown();
    expect(quiet.join('')).not.toContain('"msg":"request"');
  });
});

describe('generated request ids', () => {
  it('are UUID-shaped, distinct within a process and between processes', () => {
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const first = requestIds();
    const second = requestIds();
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const id = first();
      expect(id).toMatch(UUID);
      ids.add(id);
      ids.add(second());
    }
    expect(ids.size).toBe(20_000);
  });
});

describe('request metrics', () => {
  it('counts by route, method and status; cumulative latency buckets with sum and count', async () => {
    const m = new GatewayMetrics(false);
    m.observeRequest('/secrets', 'GET', 200, 0.0004);
    m.observeRequest('/secrets', 'GET', 200, 0.0005);
    m.observeRequest('/secrets', 'GET', 404, 0.03);
    m.observeRequest('/secrets', 'PUT', 200, 42);
    const text = await m.registry.metrics();
    expect(text).toContain('# TYPE sgw_http_requests_total counter');
    expect(text).toContain('sgw_http_requests_total{route="/secrets",method="GET",status="200"} 2');
    expect(text).toContain('sgw_http_requests_total{route="/secrets",method="GET",status="404"} 1');
    expect(text).toContain('# TYPE sgw_http_request_duration_seconds histogram');
    const get = (le: string) =>
      text.match(
        new RegExp(
          `sgw_http_request_duration_seconds_bucket\\{route="/secrets",method="GET",le="${le.replace('+', '\\+')}"\\} (\\d+)`,
        ),
      )?.[1];
    // le is "less than or equal": 0.0005 falls in the first bucket.
    expect([get('0.0005'), get('0.001'), get('0.025'), get('0.05'), get('10'), get('+Inf')]).toEqual([
      '2',
      '2',
      '2',
      '3',
      '3',
      '3',
    ]);
    expect(text).toContain('sgw_http_request_duration_seconds_count{route="/secrets",method="GET"} 3');
    expect(text).toMatch(/sgw_http_request_duration_seconds_sum\{route="\/secrets",method="GET"\} 0\.0309/);
    // Above every bound: only +Inf, sum and count see it.
    expect(text).toContain(
      'sgw_http_request_duration_seconds_bucket{route="/secrets",method="PUT",le="10"} 0',
    );
    expect(text).toContain(
      'sgw_http_request_duration_seconds_bucket{route="/secrets",method="PUT",le="+Inf"} 1',
    );
    m.registry.resetMetrics();
    expect(await m.registry.metrics()).not.toContain('method="GET"');
  });

  it('backend calls and cache results keep their fixed labels', async () => {
    const m = new GatewayMetrics(false);
    m.observeBackend({ adapter: 'sqlite', operation: 'read', outcome: 'ok', durationMs: 0.2 });
    m.observeBackend({
      adapter: 'sqlite',
      operation: 'read',
      outcome: 'backend_unavailable',
      durationMs: 5000,
    });
    m.observeCache('hit');
    m.observeCache('hit');
    m.observeCache('stale');
    const text = await m.registry.metrics();
    expect(text).toContain('sgw_backend_calls_total{adapter="sqlite",operation="read",outcome="ok"} 1');
    expect(text).toContain(
      'sgw_backend_calls_total{adapter="sqlite",operation="read",outcome="backend_unavailable"} 1',
    );
    expect(text).toContain(
      'sgw_backend_call_duration_seconds_bucket{adapter="sqlite",operation="read",le="0.0005"} 1',
    );
    expect(text).toContain('sgw_backend_call_duration_seconds_count{adapter="sqlite",operation="read"} 2');
    expect(text).toContain('sgw_cache_reads_total{result="hit"} 2');
    expect(text).toContain('sgw_cache_reads_total{result="stale"} 1');
  });
});

describe('LineBatcher', () => {
  it('hands the lines of one turn of the event loop to the destination in one write, in order', async () => {
    const writes: string[] = [];
    const flushed: string[] = [];
    const destination = {
      write: (s: string) => writes.push(s) > 0,
      flush: (cb?: () => void) => {
        flushed.push('flush');
        cb?.();
      },
      flushSync: () => undefined,
    };
    const batcher = new LineBatcher(destination as unknown as ConstructorParameters<typeof LineBatcher>[0]);
    batcher.write('a\n');
    batcher.write('b\n');
    expect(writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['a\nb\n']);
    batcher.write('c\n');
    // Shutdown's logger.flush(): pending lines go out at once, then the destination flushes.
    batcher.flush();
    expect(writes).toEqual(['a\nb\n', 'c\n']);
    expect(flushed).toEqual(['flush']);
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveLength(2);
  });
});

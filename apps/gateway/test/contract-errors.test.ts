import { MemoryAdapter } from '@secret-gateway/adapter-memory';
import {
  BackendError,
  BackendUnavailableError,
  type CallOptions,
  SecretService,
  type StoredSecret,
  VersionConflictError,
} from '@secret-gateway/core';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { KeyStore } from '../src/auth.ts';
import { Integrations } from '../src/integrations.ts';
import { GatewayMetrics } from '../src/metrics.ts';
import { captureLogger, checkNoValueInLogs, secretValue } from './helpers.ts';

// contract.md §4: every error in the HttpError shape with the right status and code, including the
// backend failures only a misbehaving backend can produce.

type Mode = 'ok' | 'throw-bug' | 'unavailable' | 'throttled' | 'bad-answer' | 'denied' | 'hang' | 'conflict';

/** A memory adapter that can be told to fail the way real backends do. */
class FaultyAdapter extends MemoryAdapter {
  mode: Mode = 'ok';
  calls = 0;

  #fail(signal?: AbortSignal): Promise<never> | undefined {
    this.calls++;
    switch (this.mode) {
      case 'ok':
        return undefined;
      case 'throw-bug':
        throw new TypeError(`cannot read properties of undefined (value ${LEAKY_VALUE})`);
      case 'unavailable':
        throw new BackendUnavailableError('unreachable', 'connect ECONNREFUSED 127.0.0.1:8200');
      case 'throttled':
        throw new BackendUnavailableError('throttled', 'backend throttled the gateway', {
          retryAfterSeconds: 7,
        });
      case 'bad-answer':
        throw new BackendError('unexpected', 'backend answered 200 without a value');
      case 'denied':
        throw new BackendError('denied', 'backend denied the gateway (403)');
      case 'conflict':
        throw new VersionConflictError('another writer took the version');
      case 'hang':
        return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));
    }
  }

  override async write(path: string, value: string, o?: CallOptions): Promise<number> {
    await this.#fail(o?.signal);
    return super.write(path, value);
  }
  override async read(
    path: string,
    version: number | undefined,
    o?: CallOptions,
  ): Promise<StoredSecret | null> {
    await this.#fail(o?.signal);
    return super.read(path, version);
  }
  override async deleteSecret(path: string, o?: CallOptions): Promise<boolean> {
    await this.#fail(o?.signal);
    return super.deleteSecret(path);
  }
  override async check(o?: CallOptions): Promise<void> {
    await this.#fail(o?.signal);
  }
}

const LEAKY_VALUE = secretValue('leaky');
const KEY = 'k'.repeat(32);
checkNoValueInLogs();

function setup(lines: string[] = []) {
  const adapter = new FaultyAdapter();
  const metrics = new GatewayMetrics(false);
  const service = new SecretService(adapter, {
    deadlineMs: 150,
    writeRetries: 2,
    onBackendCall: metrics.observeBackend,
  });
  const app = createApp({
    integrations: Integrations.of(service),
    keys: new KeyStore('X-API-Key', [{ name: 'test', key: KEY, operations: ['read', 'write', 'delete'] }]),
    logger: captureLogger(lines),
    metrics,
    bodyLimitBytes: 1024 * 1024,
  });
  const agent = request(app);
  return {
    adapter,
    metrics,
    get: (q: string) => agent.get(`/secrets?${q}`).set('X-API-Key', KEY),
    put: (path: string, value: string) => agent.put('/secrets').set('X-API-Key', KEY).send({ path, value }),
    del: (body: object) => agent.delete('/secrets').set('X-API-Key', KEY).send(body),
    raw: agent,
  };
}

function expectShape(res: request.Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ statusCode: status, code, message: expect.any(String) });
}

describe('backend failures', () => {
  /** The log line for a request id, parsed. */
  const lineOf = (lines: string[], reqId: string) =>
    lines.map((l) => JSON.parse(l)).find((l) => l.reqId === reqId && l.msg !== 'request');

  it('an adapter bug is 500 internal: the message names only the request id, the log has the class and where', async () => {
    const lines: string[] = [];
    const t = setup(lines);
    t.adapter.mode = 'throw-bug';
    const res = await t.get('path=tfy-secret/a/b');
    expectShape(res, 500, 'internal');
    const id = res.headers['x-request-id'] as string;
    expect(res.body.message).toBe(`internal error (request id ${id})`);
    expect(res.text).not.toContain(LEAKY_VALUE);
    // Logged at error level with the request id; a bug's message can quote data, so not that.
    const logged = lineOf(lines, id);
    expect(logged).toMatchObject({
      level: 50,
      msg: 'internal error',
      status: 500,
      error: { name: 'TypeError' },
    });
    expect(logged.error.at).toMatch(/contract-errors\.test\.ts/);
    expect(JSON.stringify(logged)).not.toContain(LEAKY_VALUE);
  });

  it('a backend failure answers a generic message; the cause goes to the log, joined by request id', async () => {
    const lines: string[] = [];
    const t = setup(lines);
    t.adapter.mode = 'bad-answer';
    expectShape(await t.get('path=tfy-secret/a/b'), 502, 'backend_error');
    t.adapter.mode = 'denied';
    const res = await t.put('tfy-secret/a/b', secretValue());
    expectShape(res, 502, 'backend_error');
    const id = res.headers['x-request-id'] as string;
    expect(res.body.message).toBe(
      `the backend refused or failed the request; the gateway's log has the cause (request id ${id})`,
    );
    expect(res.text).not.toContain('403');
    expect(lineOf(lines, id)).toMatchObject({
      level: 40,
      msg: 'backend call failed',
      method: 'PUT',
      route: '/secrets',
      path: 'tfy-secret/a/b',
      status: 502,
      error: { code: 'backend_error', reason: 'denied', message: 'backend denied the gateway (403)' },
    });
  });

  it('an unreachable backend is 503 backend_unavailable with Retry-After', async () => {
    const t = setup();
    t.adapter.mode = 'unavailable';
    for (const res of [
      await t.get('path=tfy-secret/a/b'),
      await t.put('tfy-secret/a/b', secretValue()),
      await t.del({ path: 'tfy-secret/a/b' }),
    ]) {
      expectShape(res, 503, 'backend_unavailable');
      expect(res.headers['retry-after']).toBe('1');
    }
  });

  it('a throttling backend is 503 with the backend Retry-After passed on', async () => {
    const t = setup();
    t.adapter.mode = 'throttled';
    const res = await t.get('path=tfy-secret/a/b');
    expectShape(res, 503, 'backend_unavailable');
    expect(res.headers['retry-after']).toBe('7');
  });

  it('a backend that hangs is cut off at the deadline: 503 with Retry-After', async () => {
    const lines: string[] = [];
    const t = setup(lines);
    t.adapter.mode = 'hang';
    const res = await t.get('path=tfy-secret/a/b');
    expectShape(res, 503, 'backend_unavailable');
    expect(res.body.message).toMatch(/^the backend is unavailable \(timeout\); retry later \(request id /);
    expect(res.headers['retry-after']).toBe('1');
    expect(lineOf(lines, res.headers['x-request-id'] as string).error.message).toContain('within 150 ms');
  });

  it('a write that keeps losing version races is retried, then 503, never 500', async () => {
    const t = setup();
    t.adapter.mode = 'conflict';
    const res = await t.put('tfy-secret/a/b', secretValue());
    expectShape(res, 503, 'backend_unavailable');
    expect(t.adapter.calls).toBe(3);
  });

  it('the connectivity check and /readyz answer 503 while the backend is unreachable, 200 after', async () => {
    const t = setup();
    t.adapter.mode = 'unavailable';
    const root = await t.get('path=tfy-secret');
    expectShape(root, 503, 'backend_unavailable');
    expect(root.headers['retry-after']).toBe('1');
    expectShape(await t.raw.get('/readyz'), 503, 'backend_unavailable');
    expect((await t.raw.get('/healthz')).status).toBe(200);
    t.adapter.mode = 'ok';
    expect((await t.get('path=tfy-secret')).body).toEqual({ path: 'tfy-secret', value: '' });
    expect((await t.raw.get('/readyz')).status).toBe(200);
  });

  it('backend outcomes reach the metrics with fixed labels only', async () => {
    const t = setup();
    const value = secretValue();
    await t.put('tfy-secret/m/x', value);
    t.adapter.mode = 'throttled';
    await t.get('path=tfy-secret/m/x');
    const text = await t.metrics.registry.metrics();
    expect(text).toContain('sgw_backend_calls_total{adapter="memory",operation="write",outcome="ok"} 1');
    expect(text).toContain(
      'sgw_backend_calls_total{adapter="memory",operation="read",outcome="backend_unavailable"} 1',
    );
    expect(text).toContain('sgw_http_requests_total{route="/secrets",method="GET",status="503"} 1');
    expect(text).not.toContain('tfy-secret');
    expect(text).not.toContain(value);
  });
});

describe('status codes of contract.md §4, each in the HttpError shape', () => {
  it.each([
    [
      400,
      'invalid_request',
      (t: ReturnType<typeof setup>) => t.raw.put('/secrets').set('X-API-Key', KEY).send('[1]').type('json'),
    ],
    [400, 'invalid_path', (t: ReturnType<typeof setup>) => t.get('path=nope/x')],
    [400, 'invalid_version', (t: ReturnType<typeof setup>) => t.get('path=tfy-secret/a/b&version=x')],
    [400, 'not_found', (t: ReturnType<typeof setup>) => t.del({ path: 'tfy-secret/none/here' })],
    [401, 'unauthorized', (t: ReturnType<typeof setup>) => t.raw.get('/secrets?path=tfy-secret')],
    [404, 'not_found', (t: ReturnType<typeof setup>) => t.get('path=tfy-secret/none/here')],
    [413, 'value_too_large', (t: ReturnType<typeof setup>) => t.put('tfy-secret/a/b', 'x'.repeat(65537))],
    [
      413,
      'payload_too_large',
      (t: ReturnType<typeof setup>) => t.put('tfy-secret/a/b', 'x'.repeat(2 * 1024 * 1024)),
    ],
  ] as const)('%i %s', async (status, code, send) => {
    expectShape(await send(setup()), status, code);
  });
});

describe('draining', () => {
  it('while shutting down, /readyz is 503 and responses ask clients to close the connection', async () => {
    let accepting = true;
    const adapter = new FaultyAdapter();
    const app = createApp({
      integrations: Integrations.of(new SecretService(adapter)),
      keys: new KeyStore('X-API-Key', [{ name: 'test', key: KEY, operations: ['read', 'write', 'delete'] }]),
      logger: captureLogger(),
      bodyLimitBytes: 1024,
      isAccepting: () => accepting,
    });
    expect((await request(app).get('/readyz')).status).toBe(200);
    accepting = false;
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.headers.connection).toBe('close');
    const read = await request(app).get('/secrets?path=tfy-secret').set('X-API-Key', KEY);
    expect(read.status).toBe(200);
    expect(read.headers.connection).toBe('close');
  });
});

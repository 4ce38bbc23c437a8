import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers.ts';

// PUT and DELETE on /secrets (and /secrets?...) skip Express's router (app.ts); `/secrets/` is the
// same route reached through it. Every answer must be the same either way.

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ SGW_BODY_LIMIT_BYTES: '2048' });
});
afterAll(() => gw.shutdown());

interface Case {
  name: string;
  method: 'PUT' | 'DELETE';
  query?: string;
  headers?: Record<string, string>;
  body: (path: string) => string | Uint8Array;
}

const json = { 'content-type': 'application/json' };
const cases: Case[] = [
  { name: 'a write', method: 'PUT', body: (p) => JSON.stringify({ path: p, value: 'v' }) },
  { name: 'broken JSON', method: 'PUT', body: () => '{"path":' },
  { name: 'no value', method: 'PUT', body: (p) => JSON.stringify({ path: p }) },
  { name: 'an invalid path', method: 'PUT', body: () => JSON.stringify({ path: 'elsewhere/a', value: 'v' }) },
  {
    name: 'over the body limit',
    method: 'PUT',
    body: (p) => JSON.stringify({ path: p, value: 'x'.repeat(4096) }),
  },
  {
    name: 'gzip',
    method: 'PUT',
    headers: { 'content-encoding': 'gzip' },
    body: (p) => gzipSync(JSON.stringify({ path: p, value: 'zipped' })),
  },
  {
    name: 'an unsupported encoding',
    method: 'PUT',
    headers: { 'content-encoding': 'zstd' },
    body: (p) => JSON.stringify({ path: p, value: 'v' }),
  },
  {
    name: 'a query on a PUT',
    method: 'PUT',
    query: '?x=1',
    body: (p) => JSON.stringify({ path: p, value: 'v' }),
  },
  {
    name: 'a delete of what is absent',
    method: 'DELETE',
    body: (p) => JSON.stringify({ path: `${p}/none` }),
  },
  { name: 'a delete', method: 'DELETE', body: (p) => JSON.stringify({ path: p }) },
  { name: 'a delete by query', method: 'DELETE', query: '?path=PATH', body: () => '' },
];

/** Status and body, with the per-request id and the path (different on each side) taken out. */
async function answer(url: string, c: Case, path: string) {
  const res = await fetch(`${url}${(c.query ?? '').replace('PATH', path)}`, {
    method: c.method,
    headers: { ...gw.headers, ...json, ...c.headers },
    body: c.body(path),
  });
  const text = (await res.text()).replaceAll(path, 'PATH');
  return { status: res.status, type: res.headers.get('content-type'), body: text };
}

const statuses = new Set<number>();

describe('PUT and DELETE without the router answer as through it', () => {
  it.each(cases)('$method: $name', async (c) => {
    const direct = `tfy-secret/direct/${c.method}-${c.name.replaceAll(' ', '-')}`;
    const routed = `tfy-secret/routed/${c.method}-${c.name.replaceAll(' ', '-')}`;
    if (c.method === 'DELETE') {
      expect((await gw.put(direct, 'old')).status).toBe(200);
      expect((await gw.put(routed, 'old')).status).toBe(200);
    }
    const a = await answer(`${gw.url}/secrets`, c, direct);
    const b = await answer(`${gw.url}/secrets/`, c, routed);
    expect(a).toEqual(b);
    // Checked once: the cases reach the statuses they are about (not every one a 200 or a 404).
    statuses.add(a.status);
  });

  it('covered every outcome the cases are for', () => {
    expect([...statuses].sort()).toEqual([200, 400, 413]);
  });
});

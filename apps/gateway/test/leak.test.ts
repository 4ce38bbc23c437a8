import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNoValueInLogs, secretValue, startTestGateway, type TestGateway } from './helpers.ts';

// A secret value never appears in a log line, the audit file, /metrics or an error body, whatever
// the request did: succeed, fail validation, fail auth, hit a limit or a missing secret.
const auditFile = join(mkdtempSync(join(tmpdir(), 'sgw-leak-')), 'audit.log');
let gw: TestGateway;
const errorBodies: string[] = [];
const values: string[] = [];

checkNoValueInLogs(() => [readFileSync(auditFile, 'utf8'), ...errorBodies]);

beforeAll(async () => {
  gw = await startTestGateway({
    SGW_AUDIT_FILE: auditFile,
    SGW_MAX_VALUE_BYTES: '4096',
    SGW_LOG_LEVEL: 'trace',
  });
});
afterAll(() => gw.shutdown());

async function send(
  method: string,
  query: string,
  body?: string,
  headers: Record<string, string> = gw.headers,
) {
  const res = await fetch(`${gw.url}/secrets${query}`, {
    method,
    headers: { ...headers, 'Content-Type': 'application/json' },
    body,
  });
  const text = await res.text();
  if (res.status >= 400) errorBodies.push(text);
  return res.status;
}

describe('no secret value leaks', () => {
  it('through successful and failing requests of every kind', async () => {
    const v = () => {
      const value = secretValue('leak');
      values.push(value);
      return value;
    };
    const statuses = [
      await send('PUT', '', JSON.stringify({ path: 'tfy-secret/leak/a', value: v() })),
      await send('PUT', '', JSON.stringify({ path: 'tfy-secret/leak/a', value: v() })),
      await send('GET', '?path=tfy-secret/leak/a'),
      await send('GET', '?path=tfy-secret/leak/a&version=1'),
      await send('PUT', '', JSON.stringify({ path: 'bad path', value: v() })),
      await send(
        'PUT',
        '',
        JSON.stringify({ path: 'tfy-secret/leak/b', value: `${v()}${'x'.repeat(5000)}` }),
      ),
      await send('PUT', '', `{"path":"tfy-secret/leak/c","value":"${v()}"`),
      await send('PUT', '', JSON.stringify({ path: 'tfy-secret/leak/d', value: v() }), {
        'X-API-Key': 'wrong-key-0123456789',
      }),
      await send('PUT', '', JSON.stringify({ path: 'tfy-secret/leak/e', value: [v()] })),
      await send('PUT', '', JSON.stringify({ path: ['tfy-secret/leak/f'], value: v() })),
      await send('DELETE', '', JSON.stringify({ path: 'tfy-secret/leak/a', version: v() })),
      await send('GET', `?path=tfy-secret/leak/a%20${encodeURIComponent(v())}`),
      await send('GET', `?path=tfy-secret/leak/a&version=${encodeURIComponent(v())}`),
      await send('POST', '', JSON.stringify({ path: 'tfy-secret/leak/a', value: v() })),
      await send('DELETE', '', JSON.stringify({ path: 'tfy-secret/leak/a' })),
      await send('GET', '?path=tfy-secret/leak/a'),
    ];
    expect(statuses).toEqual([
      200, 200, 200, 200, 400, 413, 400, 401, 400, 400, 400, 400, 400, 405, 200, 404,
    ]);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    errorBodies.push(metrics);
    for (const value of values) expect(metrics.includes(value)).toBe(false);
    const audit = readFileSync(auditFile, 'utf8');
    expect(audit.split('\n').length).toBeGreaterThan(10);
  });
});

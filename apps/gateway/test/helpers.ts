import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, expect } from 'vitest';
import { createLogger } from '../src/logger.ts';
import { type RunningGateway, startGateway } from '../src/server.ts';

/** Every log line any gateway in this test file wrote, and every secret value a test used. */
const logLines: string[] = [];
const usedValues = new Set<string>();

/** A logger whose lines go to the file's leak check, and to `into` (one entry per line) when given. */
export function captureLogger(into?: string[]) {
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(chunk.toString());
      into?.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return createLogger('trace', sink);
}

/** A distinctive secret value, remembered so the leak check can look for it. */
export function secretValue(label = 'value'): string {
  const value = `${label}-${randomBytes(8).toString('hex')}`;
  usedValues.add(value);
  return value;
}

/** Registers the check that no value used in this file reached a log line. Call once per file. */
export function checkNoValueInLogs(extraTexts: () => string[] = () => []): void {
  afterAll(() => {
    expect(logLines.length).toBeGreaterThan(0);
    const sources = [
      ...logLines.map((l) => ['log line', l]),
      ...extraTexts().map((t) => ['other output', t]),
    ];
    for (const value of usedValues) {
      const hit = sources.find(([, text]) => text?.includes(value));
      // Show where, with the value masked, so the failure message does not repeat it.
      expect(hit && `${hit[0]}: ${hit[1]?.split(value).join('<VALUE>').slice(0, 300)}`).toBeUndefined();
    }
  });
}

export interface TestGateway extends RunningGateway {
  key: string;
  headers: Record<string, string>;
  put: (path: string, value: string) => Promise<Response>;
  get: (query: string) => Promise<Response>;
  del: (body: unknown) => Promise<Response>;
}

export async function startTestGateway(
  env: Record<string, string> = {},
  file?: unknown,
  /** Collects the gateway's log lines, one entry per line. */
  logInto?: string[],
): Promise<TestGateway> {
  const key = `test-key-${randomBytes(12).toString('hex')}`;
  const gw = await startGateway(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      SGW_DATA_DIR: mkdtempSync(join(tmpdir(), 'sgw-gw-')),
      SGW_API_KEY: key,
      // Contract tests send many wrong keys on purpose; the limiter has its own tests.
      SGW_FAILED_AUTH_MAX: '1000000',
      SGW_FAILED_AUTH_DELAY_MS: '0',
      ...env,
    },
    { logger: captureLogger(logInto), file },
  );
  const headers = { [env.SGW_AUTH_HEADER ?? 'X-API-Key']: key };
  return {
    ...gw,
    key,
    headers,
    put: (path, value) =>
      fetch(`${gw.url}/secrets`, {
        method: 'PUT',
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: JSON.stringify({ path, value }),
      }),
    get: (query) => fetch(`${gw.url}/secrets?${query}`, { headers }),
    del: (body) =>
      fetch(`${gw.url}/secrets`, {
        method: 'DELETE',
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
  };
}

export async function errorOf(res: Response): Promise<{ statusCode: number; code: string; message: string }> {
  const body = (await res.json()) as { statusCode: number; code: string; message: string };
  expect(Object.keys(body).sort()).toEqual(['code', 'message', 'statusCode']);
  expect(body.statusCode).toBe(res.status);
  return body;
}

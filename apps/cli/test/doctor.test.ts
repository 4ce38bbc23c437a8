import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type GatewayProcess, startGateway } from '@secret-gateway/e2e';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, sgw } from './helpers.ts';

// sgw doctor against the real gateway bin, and against a server that breaks the contract.
let gw: GatewayProcess;

beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  // The header value reaches neither sgw's output nor the gateway's log.
  expect(gw.output()).not.toContain(gw.apiKey);
  await gw.stop();
});

describe('sgw doctor', () => {
  it('passes every seed-002 check against the gateway, and never prints the header value', async () => {
    const r = await sgw(
      ['doctor', gw.url, '--header', gw.headerName, '--value-from-env', 'GW_KEY'],
      isolatedEnv({ GW_KEY: gw.apiKey }),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const check of [
      'integration check',
      'answers with version',
      'returns the value',
      'new version',
      'returns that version',
      'DELETE /secrets',
      'GET after DELETE is 404',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`${check}.*│ PASS`));
    }
    expect(r.stdout + r.stderr).not.toContain(gw.apiKey);
  });

  it('fails (exit 1) with a wrong header value, naming the status', async () => {
    const r = await sgw(
      ['doctor', gw.url, '--header', gw.headerName, '--value-from-env', 'GW_KEY', '-o', 'json'],
      isolatedEnv({ GW_KEY: 'wrong' }),
    );
    expect(r.code).toBe(1);
    const rows = JSON.parse(r.stdout) as { check: string; ok: boolean | null; detail: string }[];
    expect(rows[0]).toMatchObject({ ok: false, detail: expect.stringMatching(/^401/) });
    expect(rows.slice(1).every((row) => row.ok === null)).toBe(true);
  });

  it('catches a server whose PUT answer has no version', async () => {
    const server = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(req.method === 'PUT' ? '{"path":"x"}' : '{"value":""}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await sgw(
      ['doctor', url, '--header', 'X-API-Key', '--value-from-env', 'K'],
      isolatedEnv({ K: 'k' }),
    );
    server.close();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/integration check.*│ PASS/);
    expect(r.stdout).toMatch(/answers with version.*│ FAIL.*no "version" in the body/);
  });

  it('refuses a missing header variable (exit 2)', async () => {
    const r = await sgw(
      ['doctor', gw.url, '--header', 'X-API-Key', '--value-from-env', 'UNSET_VAR'],
      isolatedEnv(),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('environment variable UNSET_VAR is not set');
  });
});

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAuditText } from '../src/audit-verify.ts';
import { FailedAuthLimiter } from '../src/auth.ts';
import { newKey, verifyFile } from './audit-helpers.ts';
import { checkNoValueInLogs, errorOf, secretValue, startTestGateway } from './helpers.ts';

checkNoValueInLogs();
const BIN = resolve(import.meta.dirname, '../bin/sgw-gateway.mjs');

describe('failed-auth limiter', () => {
  it('slows each failure more, then locks the client out, then lets it back after the lockout', () => {
    let now = 0;
    const limiter = new FailedAuthLimiter({
      maxFailures: 4,
      windowSeconds: 60,
      lockoutSeconds: 30,
      delayMs: 100,
      now: () => now,
    });
    const delays = [limiter.fail('a'), limiter.fail('a'), limiter.fail('a')].map((v) => v.delayMs);
    expect(delays).toEqual([100, 200, 400]);
    expect(limiter.lockedFor('a')).toBe(0);
    expect(limiter.fail('a')).toEqual({ delayMs: 800, throttledFor: 30, newlyThrottled: true });
    expect(limiter.lockedFor('a')).toBe(30);
    // Further failures while throttled: held back the longest, not throttled anew.
    expect(limiter.fail('a')).toEqual({ delayMs: 2000, throttledFor: 30, newlyThrottled: false });
    expect(limiter.lockedFor('b')).toBe(0);
    now = 29_001;
    expect(limiter.lockedFor('a')).toBe(1);
    now = 30_000;
    expect(limiter.lockedFor('a')).toBe(0);
  });

  it('forgets failures older than the window', () => {
    let now = 0;
    const limiter = new FailedAuthLimiter({
      maxFailures: 3,
      windowSeconds: 10,
      lockoutSeconds: 30,
      delayMs: 0,
      now: () => now,
    });
    limiter.fail('a');
    limiter.fail('a');
    now = 10_001;
    expect(limiter.fail('a').throttledFor).toBe(0);
    expect(limiter.fail('a').throttledFor).toBe(0);
    expect(limiter.lockedFor('a')).toBe(0);
  });

  it('over HTTP: repeated wrong keys become 429 with Retry-After, while a valid key from the same address is served', async () => {
    const lines: string[] = [];
    const gw = await startTestGateway(
      { SGW_FAILED_AUTH_MAX: '5', SGW_FAILED_AUTH_LOCKOUT_SECONDS: '120' },
      undefined,
      lines,
    );
    try {
      const wrong = (i: number) =>
        fetch(`${gw.url}/secrets?path=tfy-secret`, { headers: { 'X-API-Key': `wrong-key-${i}-padding` } });
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await wrong(i)).status);
      expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
      const throttled = await wrong(7);
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(100);
      expect(await errorOf(throttled)).toEqual({
        statusCode: 429,
        code: 'rate_limited',
        message: 'too many failed authentication attempts',
      });
      // TrueFoundry's control plane, or every client behind one ingress, shares the address.
      const valid = await fetch(`${gw.url}/secrets?path=tfy-secret`, { headers: gw.headers });
      expect(valid.status).toBe(200);
      expect((await wrong(8)).status).toBe(429);
      // Logged once, when the address was throttled; counted in the metrics.
      const warned = lines.filter((l) => l.includes('client address throttled'));
      expect(warned).toHaveLength(1);
      expect(JSON.parse(warned[0] as string)).toMatchObject({ level: 40, client: '127.0.0.1', seconds: 120 });
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      expect(metrics).toMatch(/^sgw_auth_lockouts_total 1$/m);
      expect(metrics).toMatch(/^sgw_auth_throttled_total 4$/m);
      expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    } finally {
      await gw.shutdown();
    }
  });

  it('successful traffic is not limited', async () => {
    const gw = await startTestGateway({ SGW_FAILED_AUTH_MAX: '3' });
    try {
      const results = await Promise.all(
        Array.from({ length: 200 }, () =>
          fetch(`${gw.url}/secrets?path=tfy-secret`, { headers: gw.headers }),
        ),
      );
      expect(new Set(results.map((r) => r.status))).toEqual(new Set([200]));
    } finally {
      await gw.shutdown();
    }
  });
});

describe('audit trail', () => {
  // One audit key for every session of a file, as one deployment keeps one.
  const auditKey = newKey();
  async function auditedSession(file: string) {
    const gw = await startTestGateway({ SGW_AUDIT_FILE: file, SGW_AUDIT_KEY: auditKey.toString('base64') });
    const value = secretValue('audited');
    await gw.put('tfy-secret/audit/a', value);
    await gw.put('tfy-secret/audit/a', secretValue());
    await gw.get('path=tfy-secret/audit/a&version=1');
    await gw.get('path=tfy-secret/audit/missing');
    await gw.del({ path: 'tfy-secret/audit/a', version: 2 });
    await fetch(`${gw.url}/secrets?path=tfy-secret`, { headers: { 'X-API-Key': 'intruder-key-0123456789' } });
    await gw.shutdown();
    return value;
  }

  it('writes one chained JSON line per operation, with who, what, outcome and request id, and never a value', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sgw-audit-')), 'audit.log');
    const value = await auditedSession(file);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(value);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.op, l.path, l.version, l.outcome, l.key])).toEqual([
      ['write', 'tfy-secret/audit/a', 1, 200, 'env'],
      ['write', 'tfy-secret/audit/a', 2, 200, 'env'],
      ['read', 'tfy-secret/audit/a', 1, 200, 'env'],
      ['read', 'tfy-secret/audit/missing', null, 404, 'env'],
      ['delete', 'tfy-secret/audit/a', 2, 200, 'env'],
      // The intruder: not a line per request, a count per address per interval (flushed at shutdown).
      ['refused', undefined, undefined, undefined, null],
    ]);
    expect(lines[5]).toMatchObject({ client: '127.0.0.1', count: 1, outcomes: { 401: 1 } });
    for (const line of lines) {
      expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(line.client).toBe('127.0.0.1');
      if (line.op !== 'refused') expect(line.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(line).not.toHaveProperty('value');
    }
    expect(verifyFile(file, auditKey)).toMatchObject({ ok: true, lines: 6, verified: 6 });
  });

  // Spawns the bin twice: seconds each on a loaded machine.
  it('continues the chain across a restart, and verify catches a removed or an edited line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgw-audit-'));
    const file = join(dir, 'audit.log');
    await auditedSession(file);
    await auditedSession(file);
    const text = readFileSync(file, 'utf8');
    expect(verifyFile(file, auditKey)).toMatchObject({ ok: true, lines: 12, verified: 12 });
    const lines = text.trim().split('\n');

    const removed = [...lines.slice(0, 4), ...lines.slice(5)].join('\n');
    expect(verifyAuditText(removed, auditKey).error?.line).toBe(5);
    const edited = lines
      .map((l, i) => (i === 7 ? l.replace('"outcome":200', '"outcome":404') : l))
      .join('\n');
    expect(verifyAuditText(edited, auditKey)).toMatchObject({
      ok: false,
      error: { line: 8, reason: expect.stringContaining('edited') },
    });
    const swapped = [lines[1], lines[0], ...lines.slice(2)].join('\n');
    expect(verifyAuditText(swapped, auditKey).ok).toBe(false);

    // The command operators run.
    const env = { ...process.env, SGW_AUDIT_KEY: auditKey.toString('base64') };
    expect(execFileSync(process.execPath, [BIN, 'audit', 'verify', file], { encoding: 'utf8', env })).toBe(
      'audit chain intact: 12 lines, checkpoint matches\n',
    );
    writeFileSync(join(dir, 'edited.log'), `${edited}\n`);
    const bad = spawnSync(
      process.execPath,
      [BIN, 'audit', 'verify', join(dir, 'edited.log'), '--checkpoint', `${file}.head`],
      { encoding: 'utf8', env },
    );
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('line 8: MAC does not match: edited or forged');
  }, 60_000);

  it('fail-closed: when the audit line cannot be written the request is refused and nothing changes', async () => {
    const gw = await startTestGateway({ SGW_AUDIT_FILE: '/dev/full', SGW_AUDIT_FAIL_CLOSED: 'true' });
    try {
      const put = await gw.put('tfy-secret/audit/closed', secretValue());
      expect(put.status).toBe(503);
      expect((await errorOf(put)).message).toBe('the audit trail cannot be written: request refused');
      expect(await gw.service.adapter.read('tfy-secret/audit/closed', undefined)).toBeNull();
      expect((await gw.get('path=tfy-secret')).status).toBe(503);
    } finally {
      await gw.shutdown();
    }
  });

  it('fail-open (default): an unwritable audit trail is logged and requests go on', async () => {
    const raw: string[] = [];
    const gw = await startTestGateway({ SGW_AUDIT_FILE: '/dev/full' }, undefined, raw);
    try {
      expect((await gw.put('tfy-secret/audit/open', secretValue())).status).toBe(200);
    } finally {
      await gw.shutdown();
    }
    const lines = raw.map((l) => JSON.parse(l));
    expect(lines.find((l) => l.msg === 'audit trail cannot be written')).toMatchObject({
      level: 50,
      err: { code: 'ENOSPC' },
      failClosed: false,
    });
  });
});

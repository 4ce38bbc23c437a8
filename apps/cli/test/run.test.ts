import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApi, startFakeApi } from './fake-api.ts';
import { cliOutput, isolatedEnv, markerRun, SGW, sgw, value } from './helpers.ts';

// sgw run against a real HTTP server speaking the secret-groups API shapes.
let api: FakeApi;
const DB = value('db');
const KEY = value('apikey');
const OTHER = value('other');
let env: Record<string, string>;

// The child prints a hash of the two variables, never the values.
const HASH_CHILD = `const h=require('node:crypto').createHash('sha256');h.update(String(process.env.DB_PASSWORD)+'\\n'+String(process.env.API_KEY));console.log('hash='+h.digest('hex'));console.log('refs='+Object.values(process.env).filter(v=>v.startsWith('tfy-secret://')).length)`;
const expectedHash = (a: string, b: string) => createHash('sha256').update(`${a}\n${b}`).digest('hex');

beforeAll(async () => {
  api = await startFakeApi();
  env = isolatedEnv({ SGW_URL: api.url, SGW_TOKEN: api.tokens.admin });
  const secrets = [
    { key: 'DB_PASSWORD', value: DB },
    { key: 'API_KEY', value: KEY },
  ];
  for (const [name, list] of [
    ['app', secrets],
    ['other', [{ key: 'X', value: OTHER }]],
  ] as const) {
    const res = await fetch(`${api.url}/api/svc/v1/secret-groups`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${api.tokens.admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name, integrationId: 'default', secrets: list }),
    });
    expect(res.status).toBe(200);
  }
});

afterAll(async () => {
  for (const v of [DB, KEY, OTHER]) {
    for (const text of [...cliOutput, ...api.requests]) expect(text.includes(v)).toBe(false);
  }
  await api.close();
});

describe('sgw run', () => {
  it('puts resolved values in the child environment only, one group lookup per group', async () => {
    const before = api.requests.filter((r) => r.includes('fqn=')).length;
    const r = await sgw(['run', '--', process.execPath, '-e', HASH_CHILD], {
      ...env,
      DB_PASSWORD: 'tfy-secret://acme:app:DB_PASSWORD',
      API_KEY: 'tfy-secret://acme:app:API_KEY',
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`hash=${expectedHash(DB, KEY)}`);
    expect(r.stdout).toContain('refs=0');
    expect(api.requests.filter((x) => x.includes('fqn=')).length - before).toBe(1);
  });

  it('reads references from --env-file too, and leaves plain values alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgw-run-'));
    const file = join(dir, 'app.env');
    writeFileSync(file, 'API_KEY=tfy-secret://acme:app:API_KEY\nDB_PASSWORD=plain\n');
    const r = await sgw(['run', '--env-file', file, '--', process.execPath, '-e', HASH_CHILD], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`hash=${expectedHash('plain', KEY)}`);
  });

  it('fails before the child starts, naming each unresolvable reference', async () => {
    const child = markerRun();
    const r = await sgw(child.argv, {
      ...env,
      GOOD: 'tfy-secret://acme:app:DB_PASSWORD',
      NO_KEY: 'tfy-secret://acme:app:MISSING',
      NO_GROUP: 'tfy-secret://acme:nope:X',
      BAD: 'tfy-secret://only-two:parts',
    });
    expect(child.started()).toBe(false);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('the command was not started');
    expect(r.stderr).toContain('NO_KEY: tfy-secret://acme:app:MISSING: group acme:app has no key MISSING');
    expect(r.stderr).toContain('NO_GROUP: tfy-secret://acme:nope:X: no secret group acme:nope');
    expect(r.stderr).toContain('BAD=tfy-secret://only-two:parts: not a reference');
    expect(r.stderr).not.toContain('GOOD');
  });

  it('reports permission denied for a 403, before the child starts', async () => {
    const child = markerRun();
    const r = await sgw(child.argv, {
      ...env,
      SGW_TOKEN: api.tokens.denied,
      DB_PASSWORD: 'tfy-secret://acme:app:DB_PASSWORD',
    });
    expect(child.started()).toBe(false);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('permission denied for tfy-secret://acme:app:DB_PASSWORD');
  });

  it('passes the exit code through, and 128+n for a child killed by signal n', async () => {
    expect((await sgw(['run', '--', process.execPath, '-e', 'process.exit(42)'], env)).code).toBe(42);
    expect(
      (await sgw(['run', '--', process.execPath, '-e', "process.kill(process.pid, 'SIGKILL')"], env)).code,
    ).toBe(137);
    const missing = await sgw(['run', '--', 'sgw-no-such-command-xyz'], env);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('cannot start sgw-no-such-command-xyz: ENOENT');
  });

  it('forwards SIGTERM to the child and exits with its code', async () => {
    const child = spawn(
      process.execPath,
      [
        SGW,
        'run',
        '--',
        process.execPath,
        '-e',
        "process.on('SIGTERM',()=>{console.log('child got SIGTERM');process.exit(43)});console.log('ready');setInterval(()=>{},1000)",
      ],
      {
        env: { ...env, DB_PASSWORD: 'tfy-secret://acme:app:DB_PASSWORD' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    await new Promise<void>((ready) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) ready();
      });
    });
    child.kill('SIGTERM');
    const [code, signal] = await new Promise<[number | null, string | null]>((done) =>
      child.on('close', (c, s) => done([c, s])),
    );
    expect(out).toContain('child got SIGTERM');
    expect(signal).toBeNull();
    expect(code).toBe(43);
  });
});

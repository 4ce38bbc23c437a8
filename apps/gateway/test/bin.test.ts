import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

// Each spawn compiles the TypeScript sources (tsx): a few seconds each on a busy machine.
vi.setConfig({ testTimeout: 120_000 });

// The bin as operators run it: its commands, their help, and how a failed start reads in a log pipeline.
const BIN = resolve(import.meta.dirname, '../bin/sgw-gateway.mjs');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, SGW_API_KEY: '', ...env },
    timeout: 60_000,
  });

describe('sgw-gateway', () => {
  it('--version prints the package version', () => {
    const version = (
      JSON.parse(readFileSync(resolve(import.meta.dirname, '../package.json'), 'utf8')) as { version: string }
    ).version;
    for (const flag of ['--version', '-v']) {
      const res = run([flag]);
      expect(res.status).toBe(0);
      expect(res.stdout).toBe(`${version}\n`);
    }
  });

  it('each command has its own --help', () => {
    for (const [args, text] of [
      [['--help'], 'Commands:'],
      [['config', 'check', '--help'], 'Usage: sgw-gateway config check'],
      [['audit', 'verify', '--help'], 'Usage: sgw-gateway audit verify [options] <file>'],
      [['hash-key', '--help'], 'Usage: sgw-gateway hash-key'],
      [['start', '--help'], 'Usage: sgw-gateway start'],
    ] as const) {
      const res = run([...args]);
      expect(res.status, args.join(' ')).toBe(0);
      expect(res.stdout, args.join(' ')).toContain(text);
    }
    const unknown = run(['bogus']);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain('--help');
  });

  it('a failed start is one JSON log line with the cause, and exit code 1', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sgw-bin-'));
    const res = run([], { SGW_DATA_DIR: dataDir, PORT: '99999' });
    expect(res.status).toBe(1);
    const lines = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const fatal = lines.filter((l) => l.level === 60);
    expect(fatal).toHaveLength(1);
    expect(fatal[0].msg).toMatch(/^start failed: invalid configuration:\n {2}port \(PORT\): Too big/);
    expect(res.stderr).toBe('');
  });

  it('hash-key refuses a key that could never match', () => {
    const res = spawnSync(process.execPath, [BIN, 'hash-key'], { input: 'short\n', encoding: 'utf8' });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('at least 16 characters');
  });
});

describe('process guards', () => {
  it('an unhandled promise rejection is logged without its message and the process keeps running', () => {
    const script = `
      import { installProcessGuards } from ${JSON.stringify(resolve(import.meta.dirname, '../src/process-guards.ts'))};
      import { createLogger } from ${JSON.stringify(resolve(import.meta.dirname, '../src/logger.ts'))};
      const logger = createLogger('info');
      installProcessGuards(() => logger);
      Promise.reject(new TypeError('quoted data: do-not-log-me'));
      setTimeout(() => { logger.info('still serving'); logger.flush(); }, 50);
    `;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: resolve(import.meta.dirname, '..'),
      timeout: 60_000,
    });
    expect(res.status).toBe(0);
    const lines = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.msg)).toEqual([
      'unhandled promise rejection (a bug): kept serving',
      'still serving',
    ]);
    expect(lines[0]).toMatchObject({ level: 50, error: { name: 'TypeError' } });
    expect(res.stdout).not.toContain('do-not-log-me');
  });
});

describe('the default data directory', () => {
  it('is data/ at the installation root, whatever the working directory', () => {
    const expected = resolve(import.meta.dirname, '../../../data');
    for (const cwd of [
      resolve(import.meta.dirname, '../../..'),
      resolve(import.meta.dirname, '..'),
      tmpdir(),
    ]) {
      const res = spawnSync(process.execPath, [BIN, 'config', 'check'], {
        encoding: 'utf8',
        cwd,
        env: { ...process.env, SGW_API_KEY: '', SGW_DATA_DIR: '', SGW_BACKEND: 'memory' },
        timeout: 60_000,
      });
      expect(res.status, res.stderr).toBe(0);
      expect(res.stdout.trim().split('\n').at(-1), cwd).toBe(`data directory: ${expected}`);
    }
  });
});

describe('log format', () => {
  it('SGW_LOG_FORMAT=pretty writes level names and readable lines instead of JSON', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [BIN], {
      env: {
        ...process.env,
        SGW_LOG_FORMAT: 'pretty',
        SGW_BACKEND: 'memory',
        SGW_API_KEY: 'pretty-key-0123456789abcdef',
        PORT: '0',
        HOST: '127.0.0.1',
        SGW_DATA_DIR: mkdtempSync(join(tmpdir(), 'sgw-pretty-')),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await new Promise<void>((resolveListening, reject) => {
      child.stdout.on('data', () => out.includes('listening') && resolveListening());
      child.once('exit', () => reject(new Error(`exited:\n${out}`)));
    });
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    expect(out).toMatch(/\] INFO: listening\n/);
    expect(out).toMatch(/\] INFO: stopped\n/);
    expect(out).not.toContain('{"level"');
  });
});

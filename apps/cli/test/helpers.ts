import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type GatewayProcess, startGateway } from '@secret-gateway/e2e';

export const SGW = resolve(import.meta.dirname, '../bin/sgw.mjs');

/** Everything any sgw run in this file printed (stdout and stderr), for the leak check. */
export const cliOutput: string[] = [];

/**
 * `sgw run` of a child that only creates a marker file: `started()` tells whether sgw ever let it
 * start (a refused reference must stop it before).
 */
export function markerRun(): { argv: string[]; started: () => boolean } {
  const marker = join(mkdtempSync(join(tmpdir(), 'sgw-run-')), 'started');
  return {
    argv: [
      'run',
      '--',
      process.execPath,
      '-e',
      `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x')`,
    ],
    started: () => existsSync(marker),
  };
}

export interface SgwResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A fresh HOME/XDG dir, so a test never reads or writes the user's own config. */
export function isolatedEnv(extra: Record<string, string> = {}): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'sgw-cli-'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('SGW_')) env[k] = v;
  return { ...env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), ...extra };
}

/** Runs the real bin with stdin not a terminal; `record: false` keeps --reveal output out of the leak check. */
export function sgw(
  args: string[],
  env: Record<string, string>,
  options: { input?: string; record?: boolean } = {},
): Promise<SgwResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [SGW, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdin.end(options.input ?? '');
    child.on('close', (code, signal) => {
      if (options.record !== false) cliOutput.push(stdout, stderr);
      done({ code, signal, stdout, stderr });
    });
  });
}

export function value(label: string): string {
  return `${label}-${randomBytes(10).toString('hex')}`;
}

/** A real terminal: a private tmux server running one command, driven by send-keys, read by capture-pane. */
export class Tmux {
  private readonly socket = `sgw-test-${randomBytes(4).toString('hex')}`;

  /** Runs `sgw args` in a pane; env goes through a 0600 script file, not tmux's argv. */
  start(args: string[], env: Record<string, string>): void {
    const dir = mkdtempSync(join(tmpdir(), 'sgw-tmux-'));
    const script = join(dir, 'run.sh');
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const exports = Object.entries(env)
      .filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      .map(([k, v]) => `export ${k}=${q(v)}`)
      .join('\n');
    writeFileSync(
      script,
      `${exports}\n${q(process.execPath)} ${q(SGW)} ${args.map(q).join(' ')}\necho "EXIT:$?"\nsleep 600\n`,
      { mode: 0o600 },
    );
    this.tmux(['new-session', '-d', '-s', 'main', '-x', '160', '-y', '50', `sh ${q(script)}`]);
  }

  private tmux(args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`);
    return r.stdout;
  }

  screen(): string {
    return this.tmux(['capture-pane', '-p', '-J', '-S', '-200', '-t', 'main']);
  }

  send(...keys: string[]): void {
    this.tmux(['send-keys', '-t', 'main', ...keys]);
  }

  /** Polls the pane until `pattern` shows (a condition to wait for, not a timing assertion). */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const text = this.screen();
      if (pattern.test(text)) return text;
      if (Date.now() > until) throw new Error(`terminal never showed ${pattern}:\n${text}`);
      await sleep(100);
    }
  }

  /** Ends the tmux server; the last screen joins the leak check. */
  kill(record = true): void {
    try {
      if (record) cliOutput.push(this.screen());
    } catch {
      // no session to read: nothing was shown
    }
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}

/**
 * The real gateway bin with its secret-groups API: tenant acme, one tenant admin, and the given
 * other subjects (no role on any group). Returns the gateway and a token per subject.
 */
export async function startGroupsGateway(
  others: string[] = [],
): Promise<{ gw: GatewayProcess; admin: string; tokens: Record<string, string> }> {
  const admin = value('admin-token');
  const tokens = Object.fromEntries(others.map((s) => [s, value('token')]));
  const entry = (subject: string, token: string, extra = '') =>
    `  - subject: '${subject}'\n    tokenSha256: '${createHash('sha256').update(token).digest('hex')}'\n${extra}`;
  const yaml = `tenant: acme\nsubjects:\n${entry('user:admin@example.com', admin, '    tenantAdmin: true\n')}${others.map((s) => entry(s, tokens[s] as string)).join('')}`;
  const config = join(mkdtempSync(join(tmpdir(), 'sgw-cli-gw-')), 'gateway.yaml');
  writeFileSync(config, yaml, { mode: 0o600 });
  return { gw: await startGateway({ env: { SGW_CONFIG: config } }), admin, tokens };
}

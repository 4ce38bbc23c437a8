import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { Command } from 'commander';
import { parse } from 'dotenv';
import { client } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';
import { parseRef, SCHEME, SecretResolver } from '../references.ts';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** The environment the child gets: ours, then the env file's lines over it. */
function baseEnv(envFile?: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  if (envFile) {
    let text: string;
    try {
      text = readFileSync(envFile, 'utf8');
    } catch (err) {
      throw new CliError(
        `cannot read ${envFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
        EXIT.usage,
      );
    }
    Object.assign(env, parse(text));
  }
  return env;
}

/** Replaces every tfy-secret:// value; every failure is reported (by reference, never value) before any child starts. */
async function resolveEnv(
  env: Record<string, string>,
  resolver: () => SecretResolver,
): Promise<Record<string, string>> {
  const names = Object.keys(env).filter((k) => env[k]?.startsWith(SCHEME));
  if (names.length === 0) return env;
  const r = resolver();
  const results = await Promise.allSettled(
    names.map(async (name) => {
      const text = env[name] as string;
      const ref = parseRef(text);
      if (!ref)
        throw new CliError(
          `${name}=${text}: not a reference of the form ${SCHEME}<tenant>:<group>:<key>`,
          EXIT.usage,
        );
      const secret = await r.secret(ref);
      if (secret.value === null || secret.value === undefined)
        throw new CliError(
          `permission denied for ${text}: the value is not readable with this token`,
          EXIT.denied,
        );
      return secret.value;
    }),
  );
  const failures = results.flatMap((res, i) =>
    res.status === 'rejected' ? [{ name: names[i], err: res.reason as unknown }] : [],
  );
  if (failures.length) {
    const first = failures[0]?.err;
    const lines = failures.map(
      (f) => `  ${f.name}: ${f.err instanceof CliError ? f.err.message : String(f.err)}`,
    );
    throw new CliError(
      `cannot resolve ${failures.length} reference(s); the command was not started:\n${lines.join('\n')}`,
      first instanceof CliError ? first.exitCode : EXIT.failure,
    );
  }
  const out = { ...env };
  results.forEach((res, i) => {
    if (res.status === 'fulfilled') out[names[i] as string] = res.value;
  });
  return out;
}

/** Runs the command; resolves with the exit code to pass on (128+n when killed by signal n). */
function exec(command: string, args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const s of FORWARDED) process.on(s, forward);
    const cleanup = () => {
      for (const s of FORWARDED) process.off(s, forward);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      reject(
        new CliError(
          `cannot start ${command}: ${err.code ?? err.message}`,
          err.code === 'ENOENT' ? 127 : 126,
        ),
      );
    });
    child.once('exit', (code, signal) => {
      cleanup();
      resolve(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1));
    });
  });
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a command with every tfy-secret:// reference in its environment resolved')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('--env-file <file>', 'also read KEY=value lines (references too) from this file')
    .addHelpText(
      'after',
      `
Every environment variable (and env-file line) whose value is ${SCHEME}<tenant>:<group>:<key> is
replaced with the secret's value in the command's environment only: nothing is printed or written.
If any reference cannot be resolved, the command is not started and each failing reference is named.
The command's exit code is passed through (128+n when it dies of signal n); SIGINT, SIGTERM, SIGHUP,
SIGQUIT, SIGUSR1 and SIGUSR2 are forwarded to it.

Example: DB_PASSWORD=${SCHEME}acme:my-app:DB_PASSWORD sgw run -- ./server`,
    )
    .action(async (argv: string[], options: { envFile?: string }, cmd: Command) => {
      const [command, ...args] = argv;
      if (!command) throw new CliError('sgw run needs a command: sgw run -- cmd args...', EXIT.usage);
      const env = await resolveEnv(baseEnv(options.envFile), () => new SecretResolver(client(cmd)));
      process.exitCode = await exec(command, args, env);
    });
}

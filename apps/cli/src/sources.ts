import { readFileSync } from 'node:fs';
import { parse } from 'dotenv';
import { CliError, EXIT } from './errors.ts';

/** Where secret values come from: the environment or files, never the command line. */
export interface SourceOptions {
  fromEnv?: string[];
  fromFile?: string[];
  fromDotenv?: string[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names people give environment variables; anything else after KEY= is probably the value itself. */
const CONVENTIONAL_ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

export const SAFE_VALUE_HELP = `Values on the command line end up in shell history and process listings.
Put the value in an environment variable or a file instead, for example:
  read -rs DB_PASSWORD && export DB_PASSWORD        # typed, not echoed
  sgw groups create my-app --from-env DB_PASSWORD=DB_PASSWORD
or --from-file DB_PASSWORD=./db-password.txt, or --from-dotenv ./secrets.env`;

export function inlineValueRefused(key: string): CliError {
  return new CliError(`refusing what looks like an inline value for ${key}.\n${SAFE_VALUE_HELP}`, EXIT.usage);
}

function splitPair(pair: string, flag: string): [string, string] {
  const at = pair.indexOf('=');
  // Without "=", the whole argument may be a value: do not repeat it.
  if (at <= 0)
    throw new CliError(`${flag} expects KEY=${flag === '--from-env' ? 'ENVVAR' : 'PATH'}`, EXIT.usage);
  return [pair.slice(0, at), pair.slice(at + 1)];
}

/** Reads every source into key -> value; a key given twice is an error. */
export function readSources(
  options: SourceOptions,
  env: NodeJS.ProcessEnv = process.env,
): Map<string, string> {
  const values = new Map<string, string>();
  const add = (key: string, value: string) => {
    if (!key.trim()) throw new CliError('a secret key must not be empty', EXIT.usage);
    if (values.has(key)) throw new CliError(`key ${key} is given more than once`, EXIT.usage);
    values.set(key, value);
  };
  for (const pair of options.fromEnv ?? []) {
    const [key, name] = splitPair(pair, '--from-env');
    const value = ENV_NAME.test(name) ? env[name] : undefined;
    if (value !== undefined) add(key, value);
    else if (CONVENTIONAL_ENV_NAME.test(name))
      throw new CliError(`environment variable ${name} (for ${key}) is not set`, EXIT.usage);
    else throw inlineValueRefused(key);
  }
  for (const pair of options.fromFile ?? []) {
    const [key, path] = splitPair(pair, '--from-file');
    add(key, readValueFile(key, path));
  }
  for (const file of options.fromDotenv ?? []) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new CliError(
        `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
        EXIT.usage,
      );
    }
    for (const [key, value] of Object.entries(parse(text))) add(key, value);
  }
  return values;
}

function readValueFile(key: string, path: string): string {
  try {
    // One trailing newline is what editors and `echo` add, not part of the secret.
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    // The path is not echoed: a mistyped inline value would otherwise be printed back.
    throw new CliError(
      `cannot read the file given for ${key} (${code}); if that was the value itself: ${SAFE_VALUE_HELP}`,
      EXIT.usage,
    );
  }
}

/** Extra positional arguments like KEY=value are refused with the explanation, never echoed. */
export function refuseStrayArguments(extra: string[]): void {
  const stray = extra[0];
  if (stray === undefined) return;
  const at = stray.indexOf('=');
  if (at > 0) throw inlineValueRefused(stray.slice(0, at));
  throw new CliError(
    `unexpected argument (${extra.length} extra); values are passed with --from-env, --from-file or --from-dotenv`,
    EXIT.usage,
  );
}

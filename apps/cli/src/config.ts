import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, EXIT } from './errors.ts';

export interface Connection {
  url: string;
  token: string;
}

interface StoredConfig {
  url?: string;
  token?: string;
}

/** SGW_CLI_CONFIG, else $XDG_CONFIG_HOME/sgw/config.json, else ~/.config/sgw/config.json. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SGW_CLI_CONFIG) return env.SGW_CLI_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'sgw', 'config.json');
}

function readStored(file: string, warn: (line: string) => void): StoredConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, EXIT.usage);
  }
  // The file holds a token: say so when others can read it, as ssh does for keys.
  if ((statSync(file).mode & 0o077) !== 0)
    warn(`warning: ${file} is readable by other users; run chmod 600 ${file}`);
  try {
    const parsed = JSON.parse(text) as StoredConfig;
    return {
      url: typeof parsed.url === 'string' ? parsed.url : undefined,
      token: typeof parsed.token === 'string' ? parsed.token : undefined,
    };
  } catch {
    throw new CliError(`${file} is not valid JSON; run sgw login again`, EXIT.usage);
  }
}

/** Flags win over SGW_URL / SGW_TOKEN, which win over the config file. */
export function resolveConnection(
  flags: { url?: string },
  env: NodeJS.ProcessEnv = process.env,
  warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Connection {
  const file = configPath(env);
  const stored = flags.url && env.SGW_TOKEN ? {} : readStored(file, warn);
  const url = flags.url ?? env.SGW_URL ?? stored.url;
  const token = env.SGW_TOKEN ?? stored.token;
  if (!url) throw new CliError('no gateway URL: pass --url, set SGW_URL, or run sgw login', EXIT.usage);
  if (!token) throw new CliError('no token: set SGW_TOKEN, or run sgw login', EXIT.usage);
  return { url: url.replace(/\/+$/, ''), token };
}

/** Writes the config file with mode 0600 (also when it existed with a looser mode). */
export function saveConnection(conn: Connection, env: NodeJS.ProcessEnv = process.env): string {
  const file = configPath(env);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify({ url: conn.url, token: conn.token }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

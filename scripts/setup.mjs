#!/usr/bin/env node
// One command from a machine with only Node and npm to an installed workspace:
// installs pnpm if it is missing, then the locked dependencies (better-sqlite3 builds from source
// when no prebuilt binary can be downloaded, against the running Node's own headers).
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PNPM = '12.21.0';
const run = (cmd, env = process.env) => execSync(cmd, { stdio: 'inherit', env });

let version = '';
try {
  version = execSync('pnpm --version', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {}
if (!version.startsWith('12.')) run(`npm install --global pnpm@${PNPM}`);

const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1' };
// Node's headers live in <prefix>/include/node; pointing node-gyp there avoids a download.
const prefix = dirname(dirname(process.execPath));
if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_version.h'))) {
  env.npm_config_nodedir = prefix;
}
run(`pnpm install --frozen-lockfile${process.env.CI ? ' --reporter=append-only' : ''}`, env);

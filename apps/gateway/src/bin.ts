import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { verifyAuditText } from './audit.ts';
import { sha256Hex } from './auth.ts';
import { validateBackend } from './backends.ts';
import { ConfigError, loadConfig, readConfigFile } from './config.ts';
import { startGateway } from './server.ts';

const USAGE = `usage:
  sgw-gateway [--config gateway.yaml]              start the gateway (or SGW_CONFIG=gateway.yaml)
  sgw-gateway config check [--config gateway.yaml] validate the configuration and exit
  sgw-gateway hash-key < key.txt                   print the sha256 to put in auth.keys[].sha256
  sgw-gateway audit verify <audit.log>             check an audit file's hash chain`;

function configFile(args: string[]): unknown {
  const i = args.indexOf('--config');
  const file = i >= 0 ? args[i + 1] : process.env.SGW_CONFIG;
  if (i >= 0 && !file) throw new ConfigError('--config needs a file name');
  return file ? readConfigFile(file) : {};
}

async function main(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args[0] === 'config' && args[1] === 'check') {
    const config = loadConfig(process.env, configFile(args.slice(2)));
    // The backend's settings too, as start would read them, but without connecting.
    const backend = await validateBackend(config.backend, process.env, {
      dataDir: resolve(config.dataDir),
      root: config.root,
      backendTimeoutMs: config.backendTimeoutMs,
    });
    process.stdout.write(
      `configuration is valid: backend ${config.backend}, ${config.auth.keys.length || 'a generated'} key(s), ${config.tls ? 'https' : 'http'} on ${config.host}:${config.port}\n${backend}\n`,
    );
    return 0;
  }
  if (args[0] === 'hash-key') {
    const key = readFileSync(0, 'utf8').trim();
    if (key.length < 16) throw new ConfigError('a key must be at least 16 characters');
    process.stdout.write(`${sha256Hex(key)}\n`);
    return 0;
  }
  if (args[0] === 'audit' && args[1] === 'verify' && args[2]) {
    const result = verifyAuditText(readFileSync(args[2], 'utf8'));
    if (result.ok) {
      process.stdout.write(`audit chain intact: ${result.lines} lines\n`);
      return 0;
    }
    process.stdout.write(`audit chain broken at line ${result.error?.line}: ${result.error?.reason}\n`);
    return 1;
  }
  if (args.length > 0 && args[0] !== '--config') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  // Signals are handled from the first moment, so a stop during start-up still drains and exits 0.
  const starting = startGateway(process.env, { file: configFile(args) });
  const stop = (signal: string) => {
    starting
      .then((gateway) => gateway.shutdown(signal))
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => void starting.then((gateway) => gateway.reloadTls()));
  await starting;
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`secret-gateway: ${message}\n`);
    process.exit(1);
  },
);

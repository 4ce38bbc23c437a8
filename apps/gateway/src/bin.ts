import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import type { Logger } from 'pino';
import { loadAuditKey, readCheckpoint } from './audit-chain.ts';
import { verifyAuditText } from './audit-verify.ts';
import { sha256Hex } from './auth.ts';
import { validateBackend } from './backends.ts';
import { ConfigError, keyProblem, loadConfig, readConfigFile } from './config.ts';
import { createLogger, drainAllOnExit } from './logger.ts';
import { installProcessGuards } from './process-guards.ts';
import { planIntegrations, startGateway } from './server.ts';

const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The YAML file from `--config`, else SGW_CONFIG, else nothing. */
function configFile(option: string | undefined): unknown {
  const file = option ?? process.env.SGW_CONFIG;
  return file ? readConfigFile(file) : {};
}

const configOption = [
  '--config <file>',
  'YAML configuration file (or SGW_CONFIG); the environment overrides it',
] as const;

/** `sgw-gateway`: start the gateway, or one of the operator's commands. */
function program(): Command {
  const cli = new Command('sgw-gateway')
    .description("Secret Gateway: TrueFoundry's Generic Secret Store API in front of your secret store")
    .version(VERSION, '-v, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)');

  cli
    .command('start', { isDefault: true })
    .description('start the gateway (the default command)')
    .option(...configOption)
    .action(async (options: { config?: string }) => start(configFile(options.config)));

  cli
    .command('config')
    .description('configuration commands')
    .command('check')
    .description('validate the configuration (file and environment) as start would, without starting')
    .option(...configOption)
    .action(async (options: { config?: string }) => {
      const config = loadConfig(process.env, configFile(options.config));
      // Every integration's settings too, as start would read them, but without connecting.
      const settings = {
        dataDir: resolve(config.dataDir),
        root: config.root,
        backendTimeoutMs: config.backendTimeoutMs,
      };
      const planned = planIntegrations(config, process.env);
      const described: string[] = [];
      for (const p of planned) {
        const text = await validateBackend(p.backend, p.env, settings);
        described.push(
          planned.length === 1 ? text : `integration ${p.id}${p.isDefault ? ' (default)' : ''}: ${text}`,
        );
      }
      const backend = planned.find((p) => p.isDefault)?.backend ?? config.backend;
      process.stdout.write(
        `configuration is valid: backend ${backend}, ${config.auth.keys.length || 'a generated'} key(s), ${config.tls ? 'https' : 'http'} on ${config.host}:${config.port}\n${described.join('\n')}\nsecret groups: tenant ${config.tenant}, ${config.subjects.length} subject(s)\ndata directory: ${resolve(config.dataDir)}\n`,
      );
    });

  cli
    .command('hash-key')
    .description('read a key (or Basic password) on stdin and print the sha256 to put in auth.keys[].sha256')
    .action(() => {
      const key = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
      const problem = keyProblem(key);
      if (problem) throw new ConfigError(`the key ${problem}`);
      process.stdout.write(`${sha256Hex(key)}\n`);
    });

  cli
    .command('audit')
    .description('audit trail commands')
    .command('verify')
    .argument('<file>', 'the audit file')
    .description("check an audit file's keyed chain and its checkpoint of the head")
    .option(
      '--key-file <file>',
      'the audit key (default: SGW_AUDIT_KEY, audit.keyFile or <dataDir>/audit.key)',
    )
    .option('--checkpoint <file>', 'the checkpoint (default: audit.checkpointFile or <file>.head)')
    .option(...configOption)
    .action((file: string, options: { keyFile?: string; checkpoint?: string; config?: string }) => {
      process.exitCode = auditVerify(file, options);
    });

  return cli;
}

/** `audit verify`: the key and checkpoint from the same settings the gateway uses. */
function auditVerify(
  file: string,
  options: { keyFile?: string; checkpoint?: string; config?: string },
): number {
  const config = loadConfig(process.env, configFile(options.config));
  const keyFile = options.keyFile ?? config.audit.keyFile ?? resolve(config.dataDir, 'audit.key');
  let key: Buffer;
  try {
    key = loadAuditKey({ base64: process.env.SGW_AUDIT_KEY, file: keyFile, create: false }).key;
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}: give --key-file or SGW_AUDIT_KEY`);
  }
  const checkpointFile = options.checkpoint ?? config.audit.checkpointFile ?? `${file}.head`;
  const result = verifyAuditText(readFileSync(file, 'utf8'), key, readCheckpoint(checkpointFile, key));
  if (result.ok) {
    process.stdout.write(`audit chain intact: ${result.lines} lines, checkpoint matches\n`);
    return 0;
  }
  for (const problem of result.problems) {
    process.stdout.write(`${problem.line ? `line ${problem.line}: ` : ''}${problem.reason}\n`);
  }
  process.stdout.write(`audit chain NOT intact: ${result.lines} lines, ${result.verified} verified\n`);
  return 1;
}

/** Starts the gateway; signals are handled from the first moment, so a stop during start-up still drains. */
async function start(file: unknown): Promise<void> {
  let logger = createLogger(
    process.env.SGW_LOG_LEVEL || 'info',
    undefined,
    process.env.SGW_LOG_FORMAT === 'pretty' ? 'pretty' : 'json',
  );
  installProcessGuards(() => logger);
  const starting = startGateway(process.env, { file });
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
  logger = (await starting).logger;
}

/**
 * A failed start is one JSON line, like every other line the gateway writes (commands print text).
 * What fails at start is configuration, files and the backend's settings: no request, no value.
 */
function startFailed(logger: Logger, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  drainAllOnExit();
  logger.fatal(
    { error: { name: error instanceof Error ? error.name : 'Error', message } },
    `start failed: ${message}`,
  );
  logger.flush();
}

const args = process.argv.slice(2);
const starting = args.length === 0 || args[0] === 'start' || args[0] === '--config';
const cli = program().exitOverride();
cli.parseAsync(process.argv).then(
  () => {
    if (!starting) process.exit(process.exitCode ?? 0);
  },
  (error: unknown) => {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    if (starting) startFailed(createLogger('info'), error);
    else process.stderr.write(`secret-gateway: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

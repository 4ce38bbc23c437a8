import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { SecretService } from '@secret-gateway/core';
import {
  GroupService,
  MemoryMetadataStore,
  type MetadataStore,
  SqliteMetadataStore,
} from '@secret-gateway/groups';
import type { Logger } from 'pino';
import { createApp } from './app.ts';
import { openAuditLog } from './audit.ts';
import { RefusalTally } from './audit-refusals.ts';
import { FailedAuthLimiter, KeyStore, resolveGeneratedKey } from './auth.ts';
import { createBackend, type Env, validateBackend } from './backends.ts';
import { compileTrust } from './client-address.ts';
import { ConfigError, cacheEnabled, type GatewayConfig, loadConfig } from './config.ts';
import { createHttpServer } from './http-server.ts';
import { type Integration, Integrations } from './integrations.ts';
import { createLogger } from './logger.ts';
import { GatewayMetrics } from './metrics.ts';
import { SubjectStore } from './subjects.ts';

export interface RunningGateway {
  url: string;
  server: Server | HttpsServer;
  /** The default integration's service. */
  service: SecretService;
  integrations: Integrations;
  groups: GroupService;
  config: GatewayConfig;
  logger: Logger;
  /** Re-reads the TLS certificate and key (SIGHUP); open connections are kept. */
  reloadTls: () => void;
  /** Stops accepting, drains in-flight requests (bounded), closes the backend. */
  shutdown: (reason?: string) => Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Parsed YAML of the config file, if one was given. */
  file?: unknown;
}

function tlsOptions(config: GatewayConfig) {
  const tls = config.tls;
  if (!tls) return undefined;
  return {
    cert: readFileSync(tls.cert),
    key: readFileSync(tls.key),
    ca: tls.clientCa ? readFileSync(tls.clientCa) : undefined,
    requestCert: tls.requireClientCert,
    rejectUnauthorized: tls.requireClientCert,
  };
}

export interface PlannedIntegration {
  id: string;
  backend: string;
  name: string;
  fqn?: string;
  isDefault: boolean;
  env: Env;
}

/**
 * The integrations to build: without `integrations` in the config, one (`default`) on SGW_BACKEND
 * and the process environment, as always. Otherwise each listed one; the default one also sees the
 * process environment (its settings win), the others only their settings, in which `${NAME}` is
 * replaced by that environment variable.
 */
export function planIntegrations(config: GatewayConfig, env: Env): PlannedIntegration[] {
  if (!config.integrations) {
    return [{ id: 'default', backend: config.backend, name: 'default', isDefault: true, env }];
  }
  const defaultId = (config.integrations.find((i) => i.default) ?? config.integrations[0])?.id;
  return config.integrations.map((i) => {
    const isDefault = i.id === defaultId;
    const own: Env = {};
    for (const [name, value] of Object.entries(i.settings)) {
      own[name] = String(value).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, v: string) => {
        const found = env[v];
        if (found === undefined) {
          throw new ConfigError(
            `invalid configuration:\n  integrations (${i.id}).settings.${name}: environment variable ${v} is not set`,
          );
        }
        return found;
      });
    }
    return {
      id: i.id,
      backend: i.backend,
      name: i.name ?? i.id,
      fqn: i.fqn,
      isDefault,
      env: isDefault ? { ...env, ...own } : own,
    };
  });
}

type MetadataPlan = { kind: 'memory' | 'sqlite' } | { kind: 'postgres'; url: string };

/**
 * Where group metadata lives: `<dataDir>/groups.db`, in memory for the memory backend (nothing else
 * is kept), or in Postgres: `auto` picks the default integration's database when it is on postgres,
 * so every replica sees the same groups. Checked before anything is made; throws ConfigError.
 */
async function planMetadataStore(
  config: GatewayConfig,
  defaultIntegration: PlannedIntegration,
): Promise<MetadataPlan> {
  const { store } = config.groups;
  const backend = defaultIntegration.backend;
  const kind = store !== 'auto' ? store : backend === 'memory' || backend === 'postgres' ? backend : 'sqlite';
  if (kind !== 'postgres') return { kind };
  // Loaded only when used, as backends.ts loads the adapters.
  const { settingsFromEnv } = await import('@secret-gateway/adapter-postgres');
  try {
    // The default integration's environment: SGW_POSTGRES_URL, else DATABASE_URL.
    return { kind, url: settingsFromEnv(defaultIntegration.env).url };
  } catch (error) {
    throw new ConfigError(`invalid configuration:\n  groups.store postgres: ${(error as Error).message}`);
  }
}

async function openMetadataStore(
  plan: MetadataPlan,
  dataDir: string,
  timeoutMs: number,
): Promise<MetadataStore> {
  if (plan.kind === 'memory') return new MemoryMetadataStore();
  if (plan.kind === 'postgres') {
    const { PostgresMetadataStore } = await import('@secret-gateway/adapter-postgres');
    return new PostgresMetadataStore({ url: plan.url, timeoutMs });
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return new SqliteMetadataStore(join(dataDir, 'groups.db'));
}

/** Builds everything from configuration and listens. Throws ConfigError on bad configuration. */
export async function startGateway(
  env: Env,
  optionsOrLogger: StartOptions | Logger = {},
): Promise<RunningGateway> {
  const options: StartOptions =
    typeof (optionsOrLogger as Logger).info === 'function'
      ? { logger: optionsOrLogger as Logger }
      : (optionsOrLogger as StartOptions);
  const config = loadConfig(env, options.file);
  const log = options.logger ?? createLogger(config.log.level, undefined, config.log.format);
  const dataDir = resolve(config.dataDir);
  // Said at every start: the default is relative to the working directory, and a start from another
  // folder would otherwise make a second store with new keys without a word.
  const dataDirFrom = env.SGW_DATA_DIR
    ? 'SGW_DATA_DIR'
    : (options.file as { dataDir?: unknown } | undefined)?.dataDir !== undefined
      ? 'the config file'
      : 'the default data/ of the installation';
  log.info({ dataDir, from: dataDirFrom, new: !existsSync(dataDir) }, 'data directory');

  const settings = { dataDir, root: config.root, backendTimeoutMs: config.backendTimeoutMs };
  // Every backend's settings are checked before any file is made: a typo leaves nothing behind.
  const planned = planIntegrations(config, env);
  for (const p of planned) {
    const store = await validateBackend(p.backend, p.env, settings);
    if (planned.length === 1) log.info({ backend: p.backend, store }, 'backend');
    else log.info({ integration: p.id, backend: p.backend, store, default: p.isDefault }, 'integration');
  }
  const metadataPlan = await planMetadataStore(
    config,
    planned.find((p) => p.isDefault) as PlannedIntegration,
  );

  const keyConfigs = [...config.auth.keys];
  if (keyConfigs.length === 0) {
    const generated = resolveGeneratedKey(dataDir);
    if (generated.generated)
      log.warn({ file: generated.file }, 'no API key configured: generated one; read it from this file');
    else log.info({ file: generated.file }, 'no API key configured: using the key stored in this file');
    keyConfigs.push({ name: 'generated', key: generated.key, operations: ['read', 'write', 'delete'] });
  }
  const keys = new KeyStore(config.auth.header, keyConfigs);

  const metrics = config.metrics.enabled ? new GatewayMetrics() : undefined;
  const audit = config.audit.file
    ? openAuditLog({
        target: config.audit.file === '-' ? '-' : resolve(config.audit.file),
        failClosed: config.audit.failClosed,
        keyBase64: env.SGW_AUDIT_KEY,
        keyFile: resolve(config.audit.keyFile ?? resolve(dataDir, 'audit.key')),
        checkpointFile: config.audit.checkpointFile && resolve(config.audit.checkpointFile),
        logger: log,
      })
    : undefined;
  // Refused unauthenticated requests: counted per address, one audit line each per interval.
  const refusals = audit ? new RefusalTally(audit) : undefined;
  const built: Integration[] = [];
  for (const p of planned) {
    const adapter = await createBackend(p.backend, p.env, {
      ...settings,
      warn: (message) => log.warn({ backend: p.backend, integration: p.id }, message),
    });
    const service = new SecretService(adapter, {
      root: config.root,
      maxValueBytes: config.limits.maxValueBytes,
      deadlineMs: config.backendTimeoutMs,
      onBackendCall: metrics?.observeBackend,
      onCacheEvent: metrics?.observeCache,
      cache: cacheEnabled(config, p.backend) ? config.cache : undefined,
    });
    const fqn = p.fqn ?? `${config.tenant}:${p.backend}:${p.id}:secret-store:${p.id}`;
    built.push({ id: p.id, backend: p.backend, name: p.name, fqn, service });
  }
  const defaultId = (planned.find((p) => p.isDefault) as PlannedIntegration).id;
  const integrations = new Integrations(built, defaultId, config.mounts, config.root);
  const service = integrations.default.service;
  const adapter = service.adapter;
  const metadata = await openMetadataStore(metadataPlan, dataDir, config.backendTimeoutMs);
  const groups = new GroupService({
    store: metadata,
    tenant: config.tenant,
    root: config.root,
    integrations,
    warn: (fields, message) => log.warn(fields, message),
  });
  await integrations.watch(metadata);
  const subjects = new SubjectStore(config);

  let accepting = true;
  const handler = createApp({
    integrations,
    groups,
    subjects,
    keys,
    logger: log,
    metrics,
    audit,
    refusals,
    readOnly: config.readOnly,
    limiter: new FailedAuthLimiter(config.auth.failedAuth),
    trust: compileTrust(config.auth.trustedProxies),
    bodyLimitBytes: config.bodyLimitBytes,
    isAccepting: () => accepting,
  });

  const server = createHttpServer(handler, config.limits, tlsOptions(config));
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  server.on(config.tls ? 'secureConnection' : 'connection', track);
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolveListen());
  });

  const { port } = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `${config.tls ? 'https' : 'http'}://${host}:${port}`;
  log.info(
    {
      url,
      backend: adapter.name,
      dataDir,
      keys: keys.names,
      subjects: subjects.size,
      tenant: config.tenant,
      integrations: integrations.all.map((i) => i.id),
      cache: service.cache !== undefined,
      readOnly: config.readOnly,
      audit: config.audit.file ?? null,
    },
    'listening',
  );

  const reloadTls = () => {
    if (!config.tls) return;
    try {
      const next = tlsOptions(config);
      (server as HttpsServer).setSecureContext(next as Parameters<HttpsServer['setSecureContext']>[0]);
      log.info('TLS certificate reloaded');
    } catch (error) {
      // Keep serving with the old certificate rather than going down.
      log.error(
        { error: { message: (error as Error).message } },
        'TLS reload failed; keeping the current certificate',
      );
    }
  };

  let closing: Promise<void> | undefined;
  const shutdown = (reason = 'shutdown') => {
    closing ??= (async () => {
      accepting = false;
      log.info({ reason }, 'draining');
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        log.warn({ open: sockets.size }, 'drain timed out: closing remaining connections');
        for (const socket of sockets) socket.destroy();
      }, config.shutdownTimeoutMs);
      await closed;
      clearTimeout(timer);
      await groups.close();
      await integrations.close();
      await metadata.close();
      await refusals?.close();
      await audit?.close();
      log.info('stopped');
      log.flush();
    })();
    return closing;
  };

  return { url, server, service, integrations, groups, config, logger: log, reloadTls, shutdown };
}

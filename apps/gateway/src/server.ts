import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { resolve } from 'node:path';
import { SecretService } from '@secret-gateway/core';
import type { Logger } from 'pino';
import { createApp } from './app.ts';
import { openAuditLog } from './audit.ts';
import { RefusalTally } from './audit-refusals.ts';
import { FailedAuthLimiter, KeyStore, resolveGeneratedKey } from './auth.ts';
import { createBackend, type Env, validateBackend } from './backends.ts';
import { compileTrust } from './client-address.ts';
import { cacheEnabled, type GatewayConfig, loadConfig } from './config.ts';
import { createHttpServer } from './http-server.ts';
import { createLogger } from './logger.ts';
import { GatewayMetrics } from './metrics.ts';

export interface RunningGateway {
  url: string;
  server: Server | HttpsServer;
  service: SecretService;
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
  // The backend's settings are checked before any file is made: a typo leaves nothing behind.
  const store = await validateBackend(config.backend, env, settings);
  log.info({ backend: config.backend, store }, 'backend');

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
  const adapter = await createBackend(config.backend, env, {
    ...settings,
    warn: (message) => log.warn({ backend: config.backend }, message),
  });
  const service = new SecretService(adapter, {
    root: config.root,
    maxValueBytes: config.limits.maxValueBytes,
    deadlineMs: config.backendTimeoutMs,
    onBackendCall: metrics?.observeBackend,
    onCacheEvent: metrics?.observeCache,
    cache: cacheEnabled(config) ? config.cache : undefined,
  });

  let accepting = true;
  const handler = createApp({
    service,
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
      await service.close();
      await refusals?.close();
      await audit?.close();
      log.info('stopped');
      log.flush();
    })();
    return closing;
  };

  return { url, server, service, config, logger: log, reloadTls, shutdown };
}

import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { resolve } from 'node:path';
import { SecretService } from '@secret-gateway/core';
import type { Logger } from 'pino';
import { createApp } from './app.ts';
import { ApiKeyVerifier, resolveApiKey } from './auth.ts';
import { createBackend, type Env } from './backends.ts';
import { cacheEnabled, type GatewayConfig, loadConfig } from './config.ts';
import { createExpressServer } from './http-server.ts';
import { createLogger } from './logger.ts';
import { GatewayMetrics } from './metrics.ts';

export interface RunningGateway {
  url: string;
  server: Server;
  service: SecretService;
  config: GatewayConfig;
  /** Stops accepting, drains in-flight requests (bounded), closes the backend. */
  shutdown: (reason?: string) => Promise<void>;
}

/** Builds everything from the environment and listens. Throws ConfigError on bad configuration. */
export async function startGateway(env: Env, logger?: Logger): Promise<RunningGateway> {
  const config = loadConfig(env);
  const log = logger ?? createLogger(config.SGW_LOG_LEVEL);
  const dataDir = resolve(config.SGW_DATA_DIR);
  const apiKey = resolveApiKey(config.SGW_API_KEY, dataDir);
  if (apiKey.generated)
    log.warn({ file: apiKey.file }, 'no SGW_API_KEY set: generated an API key; read it from this file');
  else if (apiKey.file) log.info({ file: apiKey.file }, 'using the API key stored in this file');

  const metrics = config.SGW_METRICS ? new GatewayMetrics() : undefined;
  const adapter = await createBackend(config.SGW_BACKEND, env, { dataDir });
  const service = new SecretService(adapter, {
    root: config.SGW_ROOT,
    maxValueBytes: config.SGW_MAX_VALUE_BYTES,
    deadlineMs: config.SGW_BACKEND_TIMEOUT_MS,
    onBackendCall: metrics?.observeBackend,
    onCacheEvent: metrics?.observeCache,
    cache: cacheEnabled(config)
      ? {
          ttlMs: config.SGW_CACHE_TTL_MS,
          negativeTtlMs: config.SGW_CACHE_NEGATIVE_TTL_MS,
          maxEntries: config.SGW_CACHE_MAX_ENTRIES,
          maxBytes: config.SGW_CACHE_MAX_BYTES,
          staleIfErrorMs: config.SGW_CACHE_STALE_IF_ERROR_MS,
        }
      : undefined,
  });

  let accepting = true;
  const app = createApp({
    service,
    auth: new ApiKeyVerifier(config.SGW_AUTH_HEADER, apiKey.key),
    logger: log,
    metrics,
    bodyLimitBytes: config.bodyLimitBytes,
    isAccepting: () => accepting,
  });

  const sockets = new Set<Socket>();
  const server = createExpressServer(app);
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolveListen());
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Slow clients cannot hold a connection open forever.
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;

  const { port } = server.address() as AddressInfo;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  const url = `http://${host}:${port}`;
  log.info({ url, backend: adapter.name, dataDir, cache: service.cache !== undefined }, 'listening');

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
      }, config.SGW_SHUTDOWN_TIMEOUT_MS);
      await closed;
      clearTimeout(timer);
      await service.close();
      log.info('stopped');
      log.flush();
    })();
    return closing;
  };

  return { url, server, service, config, shutdown };
}

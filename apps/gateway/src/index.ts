export { createApp } from './app.ts';
export { ApiKeyVerifier, resolveApiKey } from './auth.ts';
export { BACKENDS, createBackend } from './backends.ts';
export { ConfigError, loadConfig } from './config.ts';
export { sendThrown } from './http-errors.ts';
export { createLogger } from './logger.ts';
export { GatewayMetrics } from './metrics.ts';
export { buildOpenApi } from './openapi.ts';
export { startGateway } from './server.ts';

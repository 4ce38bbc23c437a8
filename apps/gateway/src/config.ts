import { z } from 'zod';

/**
 * Everything the gateway reads from its environment, validated at start-up. An invalid value stops
 * the process with a message naming the variable and what was expected.
 */
const intFrom = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .pipe(
      z.number().int().min(min, `${name} must be at least ${min}`).max(max, `${name} must be at most ${max}`),
    );

const boolFrom = (name: string) =>
  z
    .enum(['true', 'false', '1', '0'], { error: `${name} must be true or false` })
    .transform((v) => v === 'true' || v === '1');

export const envSchema = z.object({
  PORT: intFrom('PORT', 0, 65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  SGW_DATA_DIR: z.string().min(1).default('./data'),
  SGW_BACKEND: z.string().min(1).default('sqlite'),
  SGW_AUTH_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'SGW_AUTH_HEADER must be a valid HTTP header name')
    .default('X-API-Key'),
  SGW_API_KEY: z.string().min(16, 'SGW_API_KEY must be at least 16 characters').optional(),
  SGW_ROOT: z.string().min(1).default('tfy-secret'),
  SGW_MAX_VALUE_BYTES: intFrom('SGW_MAX_VALUE_BYTES', 1, 16 * 1024 * 1024).default(64 * 1024),
  SGW_BODY_LIMIT_BYTES: intFrom('SGW_BODY_LIMIT_BYTES', 1024, 128 * 1024 * 1024).optional(),
  SGW_BACKEND_TIMEOUT_MS: intFrom('SGW_BACKEND_TIMEOUT_MS', 10, 600_000).default(5000),
  SGW_SHUTDOWN_TIMEOUT_MS: intFrom('SGW_SHUTDOWN_TIMEOUT_MS', 0, 600_000).default(10_000),
  SGW_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SGW_METRICS: boolFrom('SGW_METRICS').default(true),
  SGW_CACHE: z.enum(['auto', 'on', 'off'], { error: 'SGW_CACHE must be auto, on or off' }).default('auto'),
  SGW_CACHE_TTL_MS: intFrom('SGW_CACHE_TTL_MS', 1, 3_600_000).default(10_000),
  SGW_CACHE_NEGATIVE_TTL_MS: intFrom('SGW_CACHE_NEGATIVE_TTL_MS', 0, 3_600_000).default(0),
  SGW_CACHE_MAX_ENTRIES: intFrom('SGW_CACHE_MAX_ENTRIES', 1, 10_000_000).default(10_000),
  SGW_CACHE_MAX_BYTES: intFrom('SGW_CACHE_MAX_BYTES', 1024, 8 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  SGW_CACHE_STALE_IF_ERROR_MS: intFrom('SGW_CACHE_STALE_IF_ERROR_MS', 0, 86_400_000).default(0),
});

/** Backends where a network round trip and a rate limit sit behind every read. */
const REMOTE_BACKENDS = new Set(['vault', 'aws', 'gcp', 'azure']);

/** `auto`: on for remote backends, off for the embedded store (a local read is as cheap as a cache hit). */
export function cacheEnabled(config: GatewayConfig): boolean {
  return (
    config.SGW_CACHE === 'on' || (config.SGW_CACHE === 'auto' && REMOTE_BACKENDS.has(config.SGW_BACKEND))
  );
}

export type GatewayConfig = z.output<typeof envSchema> & { bodyLimitBytes: number };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined>): GatewayConfig {
  // Empty strings count as unset, as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const config = parsed.data;
  // A JSON string can take up to 6 bytes per byte of value (\u escapes), plus the path and framing.
  const bodyLimitBytes = config.SGW_BODY_LIMIT_BYTES ?? config.SGW_MAX_VALUE_BYTES * 6 + 8192;
  return { ...config, bodyLimitBytes };
}

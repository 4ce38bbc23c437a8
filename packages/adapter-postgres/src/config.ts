import {
  decodeMasterKey,
  envBoolean,
  envInteger,
  type GatewaySettings,
  previousMasterKeys,
} from '@secret-gateway/core';

/** The Postgres store's settings as read from the environment, before anything connects. */
export interface PostgresSettings {
  /** SGW_POSTGRES_URL, else DATABASE_URL; SGW_POSTGRES_CA_FILE folded in as `sslrootcert`. */
  url: string;
  /** Which variable the URL came from, for messages. */
  urlSource: 'SGW_POSTGRES_URL' | 'DATABASE_URL';
  /** SGW_POSTGRES_POOL_MAX: connections per gateway process (default 10). */
  poolMax: number;
  /** SGW_POSTGRES_CACHE_TTL_MS: longest a cached value may be served unchecked when notifications may be lost. */
  listenStaleMs: number;
  /** SGW_POSTGRES_GROUP_COMMIT (default on): writes arriving together share one transaction and WAL flush. */
  groupCommit: boolean;
}

const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

/**
 * Reads SGW_POSTGRES_* without connecting; throws an Error naming the variable that is malformed.
 * SGW_POSTGRES_CA_FILE becomes the URL's `sslrootcert` (and `sslmode=verify-full` unless the URL
 * names a mode), so the driver has one source of TLS settings: it lets the URL override options.
 */
export function settingsFromEnv(
  env: Record<string, string | undefined>,
  _settings?: Pick<GatewaySettings, 'backendTimeoutMs'>,
): PostgresSettings {
  const urlSource = env.SGW_POSTGRES_URL ? 'SGW_POSTGRES_URL' : 'DATABASE_URL';
  const text = env[urlSource];
  if (!text) throw new Error('SGW_POSTGRES_URL (or DATABASE_URL) must be set to a postgres:// URL');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Never echo the text: it may hold the password.
    throw new Error(`${urlSource} is not a URL (expected postgres://user:password@host:5432/database)`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new Error(`${urlSource} must start with postgres:// or postgresql:// (got ${url.protocol}//)`);
  const mode = url.searchParams.get('sslmode');
  if (mode !== null && !SSL_MODES.includes(mode))
    throw new Error(
      `${urlSource} sslmode must be one of ${SSL_MODES.join(', ')} (got ${JSON.stringify(mode)})`,
    );
  const ca = env.SGW_POSTGRES_CA_FILE;
  if (ca) {
    if (url.searchParams.has('sslrootcert'))
      throw new Error(
        `set the CA either as SGW_POSTGRES_CA_FILE or as sslrootcert in ${urlSource}, not both`,
      );
    url.searchParams.set('sslrootcert', ca);
    if (mode === null) url.searchParams.set('sslmode', 'verify-full');
  }
  return {
    url: url.toString(),
    urlSource,
    poolMax: envInteger(env, 'SGW_POSTGRES_POOL_MAX', 1, 1000) ?? 10,
    listenStaleMs: envInteger(env, 'SGW_POSTGRES_CACHE_TTL_MS', 100, 3_600_000) ?? 5000,
    groupCommit: envBoolean(env, 'SGW_POSTGRES_GROUP_COMMIT', true),
  };
}

/** The master key: SGW_MASTER_KEY is required (every replica must hold the same key; none is generated). */
export function keysFromEnv(env: Record<string, string | undefined>): {
  current: Buffer;
  previous: Buffer[];
} {
  if (!env.SGW_MASTER_KEY)
    throw new Error(
      'SGW_MASTER_KEY must be set for the postgres backend (base64 of 32 bytes, the same on every replica): openssl rand -base64 32',
    );
  return {
    current: decodeMasterKey(env.SGW_MASTER_KEY, 'SGW_MASTER_KEY'),
    previous: previousMasterKeys(env),
  };
}

/** The URL without its password, for `config check` and logs. */
export function redactUrl(text: string): string {
  const url = new URL(text);
  if (url.password) url.password = '***';
  return url.toString();
}

/** What `config check` prints: where the database is and how TLS is set, never the password. */
export function describeSettings(settings: PostgresSettings): string {
  const url = new URL(settings.url);
  const tls = url.searchParams.get('sslmode') ?? 'driver default (no TLS)';
  return `postgres: ${url.hostname}:${url.port || 5432}${url.pathname} from ${settings.urlSource}, sslmode ${tls}, pool ${settings.poolMax}, group commit ${settings.groupCommit ? 'on' : 'off'}`;
}

import { join } from 'node:path';
import { envBoolean, envInteger, type GatewaySettings } from '@secret-gateway/core';

/** The embedded store's settings as read from the environment, before any file is opened or made. */
export interface SqliteSettings {
  /** SGW_SQLITE_FILE, default `<dataDir>/secrets.db`. */
  file: string;
  /** Where the master key comes from: `SGW_MASTER_KEY`, or the key file in the data directory. */
  keySource: string;
  cacheMiB?: number;
  mmapMiB?: number;
  prefetch: boolean;
  /** SGW_SQLITE_GROUP_COMMIT (default on): writes arriving together share one commit and fsync. */
  groupCommit: boolean;
}

/**
 * Reads SGW_SQLITE_* without touching the disk (no key is generated, no database opened); throws an
 * Error naming the variable that is malformed. The data directory comes from the gateway's settings.
 */
export function settingsFromEnv(
  env: Record<string, string | undefined>,
  settings: Pick<GatewaySettings, 'dataDir'>,
): SqliteSettings {
  return {
    file: env.SGW_SQLITE_FILE || join(settings.dataDir, 'secrets.db'),
    keySource: env.SGW_MASTER_KEY ? 'SGW_MASTER_KEY' : join(settings.dataDir, 'master.key'),
    cacheMiB: envInteger(env, 'SGW_SQLITE_CACHE_MIB', 1, 1_048_576),
    mmapMiB: envInteger(env, 'SGW_SQLITE_MMAP_MIB', 0, 1_048_576),
    prefetch: envBoolean(env, 'SGW_SQLITE_PREFETCH', true),
    groupCommit: envBoolean(env, 'SGW_SQLITE_GROUP_COMMIT', true),
  };
}

/** What `config check` prints: the database file and where its key comes from, never the key. */
export function describeSettings(settings: SqliteSettings): string {
  return `sqlite: ${settings.file}, master key from ${settings.keySource}`;
}

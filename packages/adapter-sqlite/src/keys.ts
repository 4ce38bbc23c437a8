import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeMasterKey, previousMasterKeys } from '@secret-gateway/core';
import { storeHoldsSecrets } from './schema.ts';

export interface LoadedKeys {
  current: Buffer;
  previous: Buffer[];
  /** Where the key came from, for the start-up log (never the key itself). */
  source: string;
}

/**
 * The master key comes from SGW_MASTER_KEY, or from `<dataDir>/master.key`, generated (mode 0600) on
 * first start. SGW_MASTER_KEY_PREVIOUS (comma-separated) keeps older keys readable during rotation.
 * A key is never generated beside `storeFile` when it holds secrets: they were written under another key.
 */
export function loadMasterKeys(
  env: Record<string, string | undefined>,
  dataDir: string,
  storeFile?: string,
): LoadedKeys {
  const previous = previousMasterKeys(env);
  if (env.SGW_MASTER_KEY)
    return {
      current: decodeMasterKey(env.SGW_MASTER_KEY, 'SGW_MASTER_KEY'),
      previous,
      source: 'SGW_MASTER_KEY',
    };
  const file = join(dataDir, 'master.key');
  if (!existsSync(file)) {
    if (storeFile !== undefined && storeHoldsSecrets(storeFile)) {
      throw new Error(
        `${file} is missing but the store ${storeFile} holds secrets encrypted under it: restore master.key from your backup, or set SGW_MASTER_KEY (older keys in SGW_MASTER_KEY_PREVIOUS) to the key they were written with; a new key would not open them`,
      );
    }
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process created it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  chmodSync(file, 0o600);
  return { current: decodeMasterKey(readFileSync(file, 'utf8'), file), previous, source: file };
}

/** Operator wording for a store that holds rows under keys this gateway was not given (ids only). */
export function missingKeysMessage(file: string, missing: string[], have: string[], source?: string): string {
  return (
    `the store ${file} holds secrets encrypted under key id(s) ${missing.join(', ')}, which this gateway does not have ` +
    `(it has ${have.join(', ')}${source ? ` from ${source}` : ''}): set SGW_MASTER_KEY to the key they were written with ` +
    '(keep older keys in SGW_MASTER_KEY_PREVIOUS, comma-separated), or restore the master.key file that belongs to this store'
  );
}

import { randomBytes } from 'node:crypto';
import { Keyring } from '@secret-gateway/core';
import { PostgresAdapter, type PostgresAdapterOptions } from '../src/index.ts';

export function newAdapter(url: string, options: Partial<PostgresAdapterOptions> = {}): PostgresAdapter {
  return new PostgresAdapter({ url, keyring: new Keyring(KEY), ...options });
}

/** One key for every adapter of a test run: they share the database, as replicas share SGW_MASTER_KEY. */
export const KEY = randomBytes(32);

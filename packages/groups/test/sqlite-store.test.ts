import * as vitest from 'vitest';
import { runMetadataStoreConformance, SqliteMetadataStore } from '../src/index.ts';
import { tempFile } from './helpers.ts';

runMetadataStoreConformance(vitest, {
  name: 'sqlite file',
  create: async () => new SqliteMetadataStore(tempFile()),
});
runMetadataStoreConformance(vitest, {
  name: 'sqlite :memory:',
  create: async () => new SqliteMetadataStore(':memory:'),
});

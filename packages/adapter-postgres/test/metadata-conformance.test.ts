import { runMetadataStoreConformance } from '@secret-gateway/groups';
import * as vitest from 'vitest';
import { PostgresMetadataStore } from '../src/index.ts';
import { useCluster } from './helpers.ts';

const cluster = useCluster();

// One database for the whole suite: each test uses tenants of its own.
runMetadataStoreConformance(vitest, {
  name: 'postgres',
  create: async () => {
    const store = new PostgresMetadataStore({ url: cluster().url });
    await store.ready;
    return store;
  },
});

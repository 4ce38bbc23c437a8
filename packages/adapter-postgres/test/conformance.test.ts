import { runAdapterConformance } from '@secret-gateway/conformance';
import * as vitest from 'vitest';
import { newAdapter, useCluster } from './helpers.ts';

const cluster = useCluster();

runAdapterConformance(vitest, {
  name: 'postgres',
  create: async () => {
    const adapter = newAdapter(cluster().url, { listen: false });
    await adapter.ready;
    return adapter;
  },
});

import { runAdapterConformance } from '@secret-gateway/conformance';
import * as vitest from 'vitest';
import { newAdapter, useCluster } from './helpers.ts';

const cluster = useCluster();

for (const groupCommit of [true, false]) {
  runAdapterConformance(vitest, {
    name: groupCommit ? 'postgres' : 'postgres (group commit off)',
    create: async () => {
      const adapter = newAdapter(cluster().url, { listen: false, groupCommit });
      await adapter.ready;
      return adapter;
    },
  });
}

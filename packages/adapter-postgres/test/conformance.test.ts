import { runAdapterConformance } from '@secret-gateway/conformance';
import * as vitest from 'vitest';
import { startTestCluster, type TestCluster } from '../src/testing/cluster.ts';
import { newAdapter } from './helpers.ts';

let cluster: TestCluster;
vitest.beforeAll(async () => {
  cluster = await startTestCluster();
}, 60_000);
vitest.afterAll(() => cluster?.destroy());

runAdapterConformance(vitest, {
  name: 'postgres',
  create: async () => {
    const adapter = newAdapter(cluster.url, { listen: false });
    await adapter.ready;
    return adapter;
  },
});

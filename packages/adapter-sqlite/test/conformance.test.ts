import { runAdapterConformance } from '@secret-gateway/conformance';
import * as vitest from 'vitest';
import { newAdapter } from './helpers.ts';

runAdapterConformance(vitest, { name: 'sqlite', create: () => newAdapter() });
// SGW_SQLITE_GROUP_COMMIT=0: one transaction per change, every call synchronous.
runAdapterConformance(vitest, {
  name: 'sqlite, group commit off',
  create: () => newAdapter(undefined, undefined, { groupCommit: false }),
});

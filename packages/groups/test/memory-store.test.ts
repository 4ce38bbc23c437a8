import * as vitest from 'vitest';
import { MemoryMetadataStore, runMetadataStoreConformance } from '../src/index.ts';

// The in-process store (the memory backend's) keeps the same promises as the SQLite one.
runMetadataStoreConformance(vitest, { name: 'memory', create: async () => new MemoryMetadataStore() });

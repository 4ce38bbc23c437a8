import { MemoryAdapter } from '@secret-gateway/adapter-memory';
import { runAdapterConformance } from '@secret-gateway/conformance';
import * as vitest from 'vitest';

runAdapterConformance(vitest, { name: 'memory', create: () => new MemoryAdapter() });

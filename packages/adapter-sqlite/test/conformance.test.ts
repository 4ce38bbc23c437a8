import { runAdapterConformance } from '@secret-gateway/conformance';
import * as vitest from 'vitest';
import { newAdapter } from './helpers.ts';

runAdapterConformance(vitest, { name: 'sqlite', create: () => newAdapter() });

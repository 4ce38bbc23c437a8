import { basics } from './basics.ts';
import { concurrency } from './concurrency.ts';
import { type ConformanceOptions, createContext, type Runner } from './context.ts';
import { deletes } from './deletes.ts';
import { health } from './health.ts';
import { names } from './names.ts';
import { values } from './values.ts';

export type { ConformanceOptions, Disabled, Runner } from './context.ts';
export { COLLIDING_NAMES } from './names.ts';
export { sampleValues } from './values.ts';

/**
 * Registers contract.md §3 as tests for one adapter:
 *
 * ```ts
 * import * as vitest from 'vitest';
 * import { runAdapterConformance } from '@secret-gateway/conformance';
 * runAdapterConformance(vitest, { name: 'memory', create: () => new MemoryAdapter() });
 * ```
 */
export function runAdapterConformance(runner: Runner, options: ConformanceOptions): void {
  runner.describe(`adapter conformance: ${options.name}`, () => {
    const context = createContext(runner, options);
    basics(context);
    deletes(context);
    values(context);
    names(context);
    concurrency(context);
    health(context);
  });
}

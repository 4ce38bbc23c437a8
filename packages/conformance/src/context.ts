import { randomBytes } from 'node:crypto';
import type { BackendAdapter } from '@secret-gateway/core';
import type * as Vitest from 'vitest';

/** The parts of vitest the suite uses; pass `import * as vitest from 'vitest'`. */
export type Runner = Pick<typeof Vitest, 'describe' | 'it' | 'expect' | 'beforeEach' | 'afterEach'>;

/** Features an adapter may switch off. Each value is the reason, shown in the test title. */
export interface Disabled {
  /** 20 concurrent writers on one path get 20 distinct versions. */
  concurrentWriters?: string;
  /** Paths near the 1,024-byte limit and 255-character segments. */
  longPaths?: string;
  /** `list(prefix)`, when the adapter advertises `capabilities.list`. */
  list?: string;
}

export interface ConformanceOptions {
  /** Shown in the describe block: `adapter conformance: <name>`. */
  name: string;
  /** Returns a fresh, connected adapter; called before every test and closed after it. */
  create: () => BackendAdapter | Promise<BackendAdapter>;
  /** Features switched off, each with its reason. None of this repository's adapters disables any. */
  disabled?: Disabled;
  /** Per-test timeout in ms for slow backends (default: the runner's). */
  timeoutMs?: number;
}

export interface SuiteContext {
  runner: Runner;
  options: ConformanceOptions;
  /** The adapter for the running test. */
  adapter: () => BackendAdapter;
  /** A path no other test (or suite sharing the backend) uses. */
  freshPath: (suffix?: string) => string;
  /**
   * Registers a test, skipped with its reason when the feature is disabled. `fn` gets `skip(reason)`,
   * for tests of a capability the running adapter does not declare: they show as skipped, not passed.
   */
  test: (
    title: string,
    fn: (skip: (reason: string) => never) => Promise<void>,
    feature?: keyof Disabled,
  ) => void;
}

export function createContext(runner: Runner, options: ConformanceOptions): SuiteContext {
  let current: BackendAdapter | undefined;
  runner.beforeEach(async () => {
    current = await options.create();
  });
  runner.afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return {
    runner,
    options,
    adapter: () => {
      if (!current) throw new Error('conformance: no adapter (create() failed?)');
      return current;
    },
    freshPath: (suffix = 'secret') => `tfy-secret/conformance/${randomBytes(6).toString('hex')}/${suffix}`,
    test: (title, fn, feature) => {
      const reason = feature ? options.disabled?.[feature] : undefined;
      runner.it.skipIf(reason !== undefined)(
        reason === undefined ? title : `${title} (disabled: ${reason})`,
        // The runner's own skip: the adapter exists only once the test runs (create() may need a
        // backend that beforeAll starts), and its declared capabilities are the one source of truth.
        (context) => fn((why) => context.skip(why)),
        options.timeoutMs,
      );
    },
  };
}

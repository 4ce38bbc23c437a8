import { randomBytes } from 'node:crypto';
import type { SecretGatewayError } from '@secret-gateway/core';
import type * as Vitest from 'vitest';
import { deletions } from './conformance/deletions.ts';
import { groups } from './conformance/groups.ts';
import { lifecycle } from './conformance/lifecycle.ts';
import { listing } from './conformance/listing.ts';
import { secrets } from './conformance/secrets.ts';
import { updates } from './conformance/updates.ts';
import type { MetadataStore, NewGroup } from './store.ts';

/** The parts of vitest the suite uses; pass `import * as vitest from 'vitest'`. */
export type Runner = Pick<typeof Vitest, 'describe' | 'it' | 'expect' | 'beforeEach' | 'afterEach'>;

export interface MetadataStoreConformanceOptions {
  /** Shown in the describe block: `metadata store conformance: <name>`. */
  name: string;
  /** A fresh, usable store; called before every test, closed after it. */
  create: () => Promise<MetadataStore>;
  /**
   * Runs after each test, once the store is closed (drop a schema, remove a temp dir). Tests use
   * a random tenant each, so a shared database needs no cleanup between them.
   */
  cleanup?: () => void | Promise<void>;
  /** Per-test timeout in ms for slow stores (default: the runner's). */
  timeoutMs?: number;
}

export interface SuiteContext {
  runner: Runner;
  /** The store of the running test. */
  store: () => MetadataStore;
  /** A tenant no other test uses, so suites can share a database. */
  freshTenant: () => string;
  /** A valid NewGroup in `tenant`, with `overrides` applied. */
  newGroup: (tenant: string, overrides?: Partial<NewGroup>) => NewGroup;
  test: (title: string, fn: () => Promise<void>) => void;
  /** Asserts `promise` rejects with an instance of `type` whose `code` is `code`; returns the error. */
  rejects: <E extends SecretGatewayError>(
    promise: Promise<unknown>,
    // biome-ignore lint/suspicious/noExplicitAny: any constructor of a typed error
    type: new (...args: any[]) => E,
    code: string,
  ) => Promise<E>;
}

/** ISO 8601, UTC, with milliseconds: what `Date.prototype.toISOString` gives. */
/** A new group with a random name, created by alice (its admin), no keys: tests override what they need. */
export function sampleGroup(tenant: string, overrides: Partial<NewGroup> = {}): NewGroup {
  return {
    tenant,
    name: `group-${randomBytes(4).toString('hex')}`,
    integrationId: 'default',
    collaborators: [{ subject: 'user:alice@example.com', roleId: 'secret-group-admin' }],
    manifest: null,
    createdBy: 'user:alice@example.com',
    secrets: [],
    ...overrides,
  };
}

export const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Registers the behaviour store.ts promises as tests for one MetadataStore:
 *
 * ```ts
 * import * as vitest from 'vitest';
 * import { runMetadataStoreConformance } from '@secret-gateway/groups';
 * runMetadataStoreConformance(vitest, { name: 'postgres', create: async () => new PostgresStore(url) });
 * ```
 */
export function runMetadataStoreConformance(runner: Runner, options: MetadataStoreConformanceOptions): void {
  runner.describe(`metadata store conformance: ${options.name}`, () => {
    const context = createContext(runner, options);
    groups(context);
    listing(context);
    updates(context);
    secrets(context);
    deletions(context);
    lifecycle(context);
  });
}

function createContext(runner: Runner, options: MetadataStoreConformanceOptions): SuiteContext {
  let current: MetadataStore | undefined;
  runner.beforeEach(async () => {
    current = await options.create();
  });
  runner.afterEach(async () => {
    await current?.close();
    current = undefined;
    await options.cleanup?.();
  });
  return {
    runner,
    store: () => {
      if (!current) throw new Error('conformance: no store (create() failed?)');
      return current;
    },
    freshTenant: () => `t${randomBytes(6).toString('hex')}`,
    newGroup: sampleGroup,
    test: (title, fn) => runner.it(title, fn, options.timeoutMs),
    rejects: async (promise, type, code) => {
      const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      runner.expect(error).toBeInstanceOf(type);
      runner.expect((error as { code?: unknown }).code).toBe(code);
      return error as never;
    },
  };
}

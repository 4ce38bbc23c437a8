import { ADAPTER_CONTRACT_VERSION, type BackendAdapter } from '@secret-gateway/core';
import { describe, expect, it } from 'vitest';
import { type Runner, runAdapterConformance } from '../src/index.ts';

/** An adapter that declares neither `list` nor `synchronous`; its calls are never reached. */
const bare = {
  contractVersion: ADAPTER_CONTRACT_VERSION,
  name: 'bare',
  capabilities: { maxValueBytes: 1024, maxPathBytes: 1024, atomicVersionsAcrossReplicas: true, list: false },
  close: async () => undefined,
} as unknown as BackendAdapter;

class Skipped extends Error {}

/** Registers the suite on a recording runner, then runs one of its tests as vitest would. */
async function runRegistered(titleStart: string): Promise<unknown> {
  const tests = new Map<string, (context: { skip: (note: string) => never }) => Promise<void>>();
  const before: Array<() => Promise<void>> = [];
  const runner = {
    describe: (_name: string, fn: () => void) => fn(),
    it: { skipIf: () => (title: string, fn: never) => tests.set(title, fn) },
    expect,
    beforeEach: (fn: () => Promise<void>) => before.push(fn),
    afterEach: () => undefined,
  } as unknown as Runner;
  runAdapterConformance(runner, { name: 'bare', create: () => bare });
  const [title, fn] = [...tests].find(([t]) => t.startsWith(titleStart)) ?? [];
  if (!title || !fn) throw new Error(`no test registered as "${titleStart}..."`);
  for (const hook of before) await hook();
  return fn({
    skip: (note: string) => {
      throw new Skipped(note);
    },
  }).then(
    () => 'passed',
    (error: unknown) => error,
  );
}

describe('capability tests for an adapter without the capability', () => {
  it('the synchronous test is skipped with its reason, not passed', async () => {
    const outcome = await runRegistered('an adapter that declares itself synchronous');
    expect(outcome).toBeInstanceOf(Skipped);
    expect((outcome as Error).message).toBe('the adapter does not declare capabilities.synchronous');
  });

  it('the list test is skipped with its reason, not passed', async () => {
    const outcome = await runRegistered('list(prefix)');
    expect(outcome).toBeInstanceOf(Skipped);
    expect((outcome as Error).message).toBe('the adapter does not declare capabilities.list');
  });
});

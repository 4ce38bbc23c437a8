import { type AwsEmulator, startAwsEmulator } from '@secret-gateway/emulators/aws';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versionToken } from '../src/index.ts';
import { adapterFor, randomPath, secretOf } from './helpers.ts';

// Version deletes against the emulator, in random sets and orders: the tombstone tags grow while
// deletes are scattered and shrink when they merge into ranges, and must decode to exactly the
// deleted set whatever encoding they had before.
let emu: AwsEmulator;
beforeAll(async () => {
  emu = await startAwsEmulator();
});
afterAll(() => emu.stop());

const value = (n: number) => `value-${n}`;

/** A secret with versions 1..count: the first written by the adapter, the rest put into the emulator's state. */
async function seeded(count: number): Promise<string> {
  const path = randomPath();
  await adapterFor(emu).write(path, value(1));
  const secret = secretOf(emu, path);
  const generation = secret?.tags.get('sgw-generation');
  if (!secret || !generation) throw new Error('no secret');
  for (let n = 2; n <= count; n++) emu.state.put(secret, versionToken(generation, n), value(n));
  return path;
}

describe('AWS version deletes in any order', () => {
  it('leave exactly the live versions readable, and the next write takes one above the highest ever written', async () => {
    const a = adapterFor(emu);
    const scenario = fc.integer({ min: 1, max: 220 }).chain((count) =>
      fc.tuple(
        fc.constant(count),
        fc.shuffledSubarray(
          Array.from({ length: count }, (_, i) => i + 1),
          { minLength: Math.floor(count / 3) },
        ),
      ),
    );
    await fc.assert(
      fc.asyncProperty(scenario, async ([count, deletes]) => {
        const path = await seeded(count);
        for (const n of deletes) expect(await a.deleteVersion(path, n), `delete ${n}`).toBe(true);
        if (deletes[0] !== undefined) expect(await a.deleteVersion(path, deletes[0])).toBe(false);
        const deleted = new Set(deletes);
        for (let n = 1; n <= count; n++) {
          const read = await a.read(path, n);
          expect(read, `version ${n}`).toEqual(deleted.has(n) ? null : { value: value(n), version: n });
        }
        let latest = count;
        while (latest > 0 && deleted.has(latest)) latest--;
        expect(await a.read(path, undefined)).toEqual(
          latest ? { value: value(latest), version: latest } : null,
        );
        expect(await a.write(path, 'next')).toBe(count + 1);
        expect(await a.read(path, undefined)).toEqual({ value: 'next', version: count + 1 });
      }),
      // No shrinking: a run that goes wrong can hold tombstone ranges of a million numbers.
      { numRuns: 25, endOnFailure: true },
    );
  }, 120_000);
});

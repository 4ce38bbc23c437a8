import { runAdapterConformance } from '@secret-gateway/conformance';
import { type AwsEmulator, startAwsEmulator } from '@secret-gateway/emulators/aws';
import * as vitest from 'vitest';
import { adapterFor } from './helpers.ts';

// contract.md §3 through the AWS SDK against the emulator, under both delete-all policies. The
// emulator keeps a force-deleted name busy for 100 ms, as AWS deletes asynchronously, so the
// "write after delete all starts at 1 at once" tests exercise the force policy's wait-and-retry.
let emu: AwsEmulator;
vitest.beforeAll(async () => {
  emu = await startAwsEmulator({ forceDeleteDelayMs: 100 });
});
vitest.afterAll(() => emu.stop());

runAdapterConformance(vitest, {
  name: 'aws (recovery window)',
  create: () => adapterFor(emu, 'recovery-window'),
});
runAdapterConformance(vitest, { name: 'aws (force delete)', create: () => adapterFor(emu, 'force') });

// The same suite against an AWS that behaves more like the real one: every request takes a few ms,
// and reads of metadata and of AWSCURRENT answer from the secret as it was 100 ms ago.
let stale: AwsEmulator;
vitest.beforeAll(async () => {
  stale = await startAwsEmulator({ forceDeleteDelayMs: 100, staleReadMs: 100 });
  stale.faults.setLatency(3);
});
vitest.afterAll(() => stale.stop());

runAdapterConformance(vitest, {
  name: 'aws (recovery window, stale reads, latency)',
  create: () => adapterFor(stale, 'recovery-window'),
});
runAdapterConformance(vitest, {
  name: 'aws (force delete, stale reads, latency)',
  create: () => adapterFor(stale, 'force'),
});

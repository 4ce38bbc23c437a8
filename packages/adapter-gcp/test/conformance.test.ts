import { runAdapterConformance } from '@secret-gateway/conformance';
import { type GcpEmulator, startGcpEmulator } from '@secret-gateway/emulators/gcp';
import * as vitest from 'vitest';
import { adapterFor } from './helpers.ts';

// contract.md §3 through the official SDK over gRPC against the emulator; nothing switched off.
let emu: GcpEmulator;
vitest.beforeAll(async () => {
  emu = await startGcpEmulator();
});
vitest.afterAll(() => emu.stop());

runAdapterConformance(vitest, { name: 'gcp', create: () => adapterFor(emu) });

// Issue 14: again with a standing latency on every RPC, so no ordering assumption hides behind an
// emulator that answers in microseconds. (Secret Manager is only partly strongly consistent, see
// docs/backends/gcp.md "Consistency": a stale-read mode for this emulator is still to do.)
let slow: GcpEmulator;
vitest.beforeAll(async () => {
  slow = await startGcpEmulator();
  slow.faults.setLatency(3);
});
vitest.afterAll(() => slow.stop());

runAdapterConformance(vitest, { name: 'gcp with 3 ms latency', create: () => adapterFor(slow) });

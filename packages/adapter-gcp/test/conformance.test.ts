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
// emulator that answers in microseconds.
let slow: GcpEmulator;
vitest.beforeAll(async () => {
  slow = await startGcpEmulator();
  slow.faults.setLatency(3);
});
vitest.afterAll(() => slow.stop());

runAdapterConformance(vitest, { name: 'gcp with 3 ms latency', create: () => adapterFor(slow) });

// And with reads 100 ms stale: Secret Manager is strongly consistent only for "add a version, then
// access that version by number" (docs/backends/gcp.md "Consistency"); latest, listings, and reads
// after a destroy or a delete-all lag behind. The adapter's own memory keeps one process consistent.
let stale: GcpEmulator;
vitest.beforeAll(async () => {
  stale = await startGcpEmulator({ staleReadMs: 100 });
  stale.faults.setLatency(3);
});
vitest.afterAll(() => stale.stop());

runAdapterConformance(vitest, {
  name: 'gcp with 3 ms latency and 100 ms stale reads',
  create: () => adapterFor(stale),
});

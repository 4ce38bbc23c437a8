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

import { runAdapterConformance } from '@secret-gateway/conformance';
import { startVaultEmulator, type VaultEmulator } from '@secret-gateway/emulators/vault';
import * as vitest from 'vitest';
import { VaultAdapter } from '../src/index.ts';

// Every rule of contract.md §3, through node-vault, against a Vault emulator with Vault's defaults
// (max_versions 10): nothing is switched off.
let emu: VaultEmulator;
vitest.beforeAll(async () => {
  emu = await startVaultEmulator();
});
vitest.afterAll(() => emu.stop());

runAdapterConformance(vitest, {
  name: 'vault',
  create: () => new VaultAdapter({ endpoint: emu.url, auth: { token: emu.token } }),
});

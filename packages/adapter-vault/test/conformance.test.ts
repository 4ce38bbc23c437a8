import { runAdapterConformance } from '@secret-gateway/conformance';
import { startVaultEmulator, type VaultEmulator } from '@secret-gateway/emulators/vault';
import * as vitest from 'vitest';
import { VaultAdapter } from '../src/index.ts';

// Every rule of contract.md §3, through node-vault, against a Vault emulator with Vault's defaults
// (max_versions 10): nothing is switched off.
let emu: VaultEmulator;
// The same against a standby whose reads trail the active node by 50 ms (OpenBao's default, Vault
// Enterprise performance standbys), with Vault's 412 when behind and no forwarding via header,
// and a standing latency, so ordering assumptions surface.
let standby: VaultEmulator;
vitest.beforeAll(async () => {
  emu = await startVaultEmulator();
  standby = await startVaultEmulator({ standby: { staleMs: 50, allowForwarding: false } });
  standby.faults.setLatency(3);
});
vitest.afterAll(async () => {
  await emu.stop();
  await standby.stop();
});

runAdapterConformance(vitest, {
  name: 'vault',
  create: () => new VaultAdapter({ endpoint: emu.url, auth: { token: emu.token } }),
});

runAdapterConformance(vitest, {
  name: 'vault (stale standby, 3 ms latency)',
  create: () => new VaultAdapter({ endpoint: standby.url, auth: { token: standby.token } }),
});

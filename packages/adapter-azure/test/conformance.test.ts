import { runAdapterConformance } from '@secret-gateway/conformance';
import { type AzureEmulator, startAzureEmulator } from '@secret-gateway/emulators/azure';
import * as vitest from 'vitest';
import { adapterFor } from './helpers.ts';

// contract.md §3 through @azure/keyvault-secrets against the emulator, once on a vault that allows
// purge and once under purge protection (delete-all leaves the secret soft-deleted; the next write
// recovers it into a new generation). Purge and recover windows are shortened to 50 ms.
// Key Vault is strongly consistent (reads follow writes), so the third run adds only a standing
// latency, with the vault-wide transaction quota on: no ordering may rest on instant answers.
let purgeable: AzureEmulator;
let protectedVault: AzureEmulator;
let slow: AzureEmulator;
vitest.beforeAll(async () => {
  purgeable = await startAzureEmulator({ purgeBusyMs: 50, recoverBusyMs: 50 });
  protectedVault = await startAzureEmulator({ purgeProtection: true, purgeBusyMs: 50, recoverBusyMs: 50 });
  slow = await startAzureEmulator({
    purgeBusyMs: 50,
    recoverBusyMs: 50,
    latencyMs: 3,
    transactionQuota: true,
  });
});
vitest.afterAll(async () => {
  await purgeable.stop();
  await protectedVault.stop();
  await slow.stop();
});

runAdapterConformance(vitest, { name: 'azure (purge allowed)', create: () => adapterFor(purgeable) });
runAdapterConformance(vitest, {
  name: 'azure (purge protection)',
  create: () => adapterFor(protectedVault),
});
runAdapterConformance(vitest, {
  name: 'azure (3 ms latency, transaction quota)',
  create: () => adapterFor(slow),
});

import type { AzureEmulator } from '@secret-gateway/emulators/azure';
import { AzureAdapter, type AzureAdapterOptions, staticTokenCredential } from '../src/index.ts';

/** An adapter on the emulator, over HTTPS with the emulator's certificate, as production would run. */
export function adapterFor(emu: AzureEmulator, options: Partial<AzureAdapterOptions> = {}): AzureAdapter {
  return new AzureAdapter({
    vaultUrl: emu.vaultUrl,
    credential: staticTokenCredential('test-token'),
    caPem: emu.certPem,
    disableChallengeResourceVerification: true,
    maxRetries: 0,
    pollIntervalMs: 10,
    ...options,
  });
}

import type { GcpEmulator } from '@secret-gateway/emulators/gcp';
import { GcpAdapter } from '../src/index.ts';

export function adapterFor(emu: GcpEmulator, timeoutMs = 5000): GcpAdapter {
  return new GcpAdapter({
    projectId: emu.project,
    endpoint: emu.url,
    insecure: true,
    accessToken: emu.token,
    timeoutMs,
  });
}

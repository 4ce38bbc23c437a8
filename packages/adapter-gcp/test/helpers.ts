import { randomUUID } from 'node:crypto';
import type { GcpEmulator } from '@secret-gateway/emulators/gcp';
import { GcpAdapter, secretId } from '../src/index.ts';

/** The adapter as `fromEnv` builds it for the emulator: gRPC, plain text, fixed token. */
export function adapterFor(emu: GcpEmulator, timeoutMs = 5000): GcpAdapter {
  return new GcpAdapter({
    projectId: emu.project,
    endpoint: emu.url,
    insecure: true,
    accessToken: emu.token,
    timeoutMs,
  });
}

/** A fresh path per test, so tests never share state. */
export const randomPath = (prefix = 'tfy-secret/t') => `${prefix}/${randomUUID().slice(0, 8)}`;

/** The emulator's record of the secret a path maps to. */
export const secretOf = (emu: GcpEmulator, path: string) => emu.state.secrets.get(secretId(path));

/** `projects/P/secrets/ID/versions/N` for the emulator's backdoor. */
export const versionNameOf = (emu: GcpEmulator, path: string, n: number | 'latest') =>
  `projects/${emu.project}/secrets/${secretId(path)}/versions/${n}`;

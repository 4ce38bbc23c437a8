import { randomUUID } from 'node:crypto';
import type { AwsEmulator } from '@secret-gateway/emulators/aws';
import { AwsAdapter, type DeletePolicy, secretName } from '../src/index.ts';

/** The adapter as `fromEnv` builds it for the emulator: endpoint override and static credentials. */
export function adapterFor(
  emu: AwsEmulator,
  deletePolicy: DeletePolicy = 'recovery-window',
  timeoutMs = 5000,
): AwsAdapter {
  return new AwsAdapter({
    region: emu.region,
    endpoint: emu.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    deletePolicy,
    timeoutMs,
  });
}

/** A fresh path per test, so tests never share state. */
export const randomPath = (prefix = 'tfy-secret/t') => `${prefix}/${randomUUID().slice(0, 8)}`;

/** The emulator's record of the secret a path maps to. */
export const secretOf = (emu: AwsEmulator, path: string) => emu.state.secrets.get(secretName(path));

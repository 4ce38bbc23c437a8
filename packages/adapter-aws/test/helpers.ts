import type { AwsEmulator } from '@secret-gateway/emulators/aws';
import { AwsAdapter, type DeletePolicy } from '../src/index.ts';

export function adapterFor(emu: AwsEmulator, deletePolicy: DeletePolicy = 'recovery-window'): AwsAdapter {
  return new AwsAdapter({
    region: emu.region,
    endpoint: emu.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    deletePolicy,
    maxAttempts: 1,
  });
}

import { type AwsEmulator, startAwsEmulator } from '@secret-gateway/emulators/aws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, runSeedCurlSequence, startGateway } from '../src/index.ts';

// The gateway process with SGW_BACKEND=aws and the standard AWS variables, against the emulator.
let emu: AwsEmulator;
const started: GatewayProcess[] = [];
beforeAll(async () => {
  emu = await startAwsEmulator({ forceDeleteDelayMs: 300 });
  // Real services are never instant: a small standing latency lets ordering assumptions surface.
  emu.faults.setLatency(2);
});
afterAll(async () => {
  for (const gw of started) await gw.stop();
  await emu.stop();
});

async function gateway(extra: Record<string, string> = {}) {
  const gw = await startGateway({
    env: {
      SGW_BACKEND: 'aws',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: emu.url,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      SGW_BACKEND_TIMEOUT_MS: '1500',
      SGW_CACHE: 'off',
      ...extra,
    },
  });
  started.push(gw);
  return gw;
}

describe('gateway on AWS Secrets Manager', () => {
  for (const policy of ['recovery-window', 'force']) {
    it(`serves the seed curl sequence, delete-then-recreate included (${policy})`, async () => {
      const gw = await gateway({ SGW_AWS_DELETE_POLICY: policy });
      await runSeedCurlSequence(gw, `tfy-secret/acme/${policy}/db-password`);
      expect(emu.state.secrets.get(`tfy-secret/acme/${policy}/db-password`)?.deletedDate).toBeUndefined();
    });
  }

  // A backend that takes 60 s would outlast the test's timeout: answering at all proves the deadline.
  it('answers 503 with Retry-After on throttling, 5xx, dropped connections and slowness, then recovers', async () => {
    const gw = await gateway();
    const get = () => fetch(`${gw.url}/secrets?path=tfy-secret`, { headers: { 'X-API-Key': gw.apiKey } });
    for (const fault of [{ throttle: true }, { status: 500 }, { drop: true }, { latencyMs: 60_000 }]) {
      emu.faults.set(fault);
      const res = await get();
      expect(res.status, JSON.stringify(fault)).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      emu.faults.clear();
    }
    expect((await get()).status).toBe(200);
  });
});

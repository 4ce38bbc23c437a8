// Issue 14: the uncached latest read on Azure at 2,000 versions, with the Key Vault emulator at a
// realistic latency: calls per read (counted by the emulator) and time per read.
// Usage: tsx bench/azure-versions.ts [--versions 2000] [--latency-ms 30] [--reads 10] [--adapter <index.ts>]
// (--adapter points at another copy of packages/adapter-azure/src, e.g. the code before the change).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startAzureEmulator } from '@secret-gateway/emulators/azure';

const { values } = parseArgs({
  options: {
    versions: { type: 'string', default: '2000' },
    'latency-ms': { type: 'string', default: '30' },
    reads: { type: 'string', default: '10' },
    adapter: {
      type: 'string',
      default: resolve(import.meta.dirname, '../packages/adapter-azure/src/index.ts'),
    },
  },
});
const versions = Number(values.versions);
const reads = Number(values.reads);
const azure = await import(resolve(values.adapter));

const emu = await startAzureEmulator();
const path = 'tfy-secret/bench/rotated';
// Seeded through the backdoor with the adapter's own tags: as if written once every 10 minutes.
for (let v = 1; v <= versions; v++)
  emu.state.set(azure.secretName(path), { value: `value-${v}`, tags: azure.versionTags(1, v) });
const adapter = new azure.AzureAdapter({
  vaultUrl: emu.vaultUrl,
  credential: azure.staticTokenCredential('bench'),
  caPem: emu.certPem,
  disableChallengeResourceVerification: true,
  maxRetries: 0,
  timeoutMs: 600_000,
});
await adapter.check(); // the SDK's token-less challenge request, once per client
emu.faults.setLatency(Number(values['latency-ms']));

const times: number[] = [];
const calls: number[] = [];
for (let i = 0; i < reads; i++) {
  emu.faults.resetCounts();
  const start = performance.now();
  const got = await adapter.read(path, undefined); // the adapter keeps no read cache of its own
  times.push(performance.now() - start);
  calls.push(emu.faults.count());
  if (got?.version !== versions) throw new Error(`read version ${got?.version}, expected ${versions}`);
}
await emu.stop();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log(
  JSON.stringify({
    adapter: values.adapter,
    versions,
    latencyMs: Number(values['latency-ms']),
    reads,
    callsPerRead: median(calls),
    medianMs: Math.round(median(times)),
    minMs: Math.round(Math.min(...times)),
    maxMs: Math.round(Math.max(...times)),
  }),
);

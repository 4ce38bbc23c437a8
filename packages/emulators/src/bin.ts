import type { CliFlags, EmulatorModule } from './types.ts';

const NAMES = ['vault', 'aws', 'gcp', 'azure'] as const;
const USAGE = `usage: sgw-emulator <${NAMES.join('|')}> [--port N] [--host H] [--latency-ms N] [emulator flags]
  vault:  --token T (default root)  --mount M (default secret)  --max-versions N (engine config; unset = Vault's 10)  --role-id R --secret-id S (AppRole)  --k8s-role R --k8s-jwt J (Kubernetes auth)  --token-ttl S (login token TTL, default 3600)  --stale-ms N (reads from a standby N ms behind)
  aws:    --region R (default us-east-1)  --recovery-window-days N (default 30)  --force-delete-delay-ms N (default 200)  --deprecated-version-age-ms N (default 86400000)  --version-quota  --stale-read-ms N (default 0)
  gcp:    --project P (default sgw-emulator)  --token T (default sgw-emulator-token)  --tls (self-signed; then a token is required)  --cert-file F  --allowed-locations a,b (org location policy)  --read-quota-per-minute N  --access-quota-per-minute N  --stale-read-ms N (default 0)
  azure:  --purge-protection  --soft-delete-days N (default 90)  --purge-busy-ms N --recover-busy-ms N (default 300)  --http (default https, self-signed)  --cert-file F`;

function parseFlags(args: string[]): CliFlags {
  const flags: CliFlags = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const next = args[i + 1];
    if (next === undefined || next.startsWith('--')) flags[arg.slice(2)] = true;
    else {
      flags[arg.slice(2)] = next;
      i++;
    }
  }
  return flags;
}

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || !(NAMES as readonly string[]).includes(name) || rest.includes('--help')) {
    console.error(USAGE);
    process.exit(name === undefined || rest.includes('--help') ? 0 : 2);
  }
  const flags = parseFlags(rest);
  const module = (await import(`./${name}/index.ts`)) as EmulatorModule;
  const handle = await module.startFromFlags(flags);
  // Every emulator: --latency-ms N adds that delay to every request (benchmarks, manual testing).
  if (typeof flags['latency-ms'] === 'string') handle.faults.setLatency(Number(flags['latency-ms']));
  const shutdown = () => {
    handle.stop().then(() => process.exit(0));
  };
  // Handlers first: whoever reads the line below may signal us the moment it arrives.
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  process.stdout.write(`${JSON.stringify({ emulator: name, ...handle.info, url: handle.url })}\n`);
}

main().catch((error) => {
  console.error(`sgw-emulator: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

import { ConfigError } from './config.ts';
import { startGateway } from './server.ts';

async function main(): Promise<void> {
  const gateway = await startGateway(process.env);
  const stop = (signal: string) => {
    gateway.shutdown(signal).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`secret-gateway: ${message}\n`);
  process.exit(1);
});

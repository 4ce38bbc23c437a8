import { Command, CommanderError, Option } from 'commander';
import { registerAuth } from './commands/auth.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerGroups } from './commands/groups.ts';
import { registerIntegrations } from './commands/integrations.ts';
import { registerRun } from './commands/run.ts';
import { registerSecrets } from './commands/secrets.ts';
import { CliError, EXIT } from './errors.ts';

const EXIT_HELP = `
Exit codes:
  0  success            3  aborted (declined, or no terminal and no --yes)
  1  failure (server, network, a failed doctor check)
  2  usage (bad arguments, inline value refused, not logged in)
  4  permission denied (401, 403)     5  not found (404)
  6  rejected by the server (400, 409, 422, 424)
  sgw run passes the command's own exit code through (128+n for signal n).`;

export function buildProgram(): Command {
  const program = new Command('sgw')
    .description(
      'Secret groups, the Generic Secret Store quick test, and tfy-secret:// references for programs',
    )
    .version('0.1.0')
    .option('--url <url>', 'the gateway URL (else SGW_URL, else the config file from sgw login)')
    .addOption(
      new Option('-o, --output <format>', 'table for people, json for scripts')
        .choices(['table', 'json'])
        .default('table'),
    )
    .option('-y, --yes', 'confirm changes without asking (for scripts)')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', EXIT_HELP)
    // Commander's own errors (unknown option, missing argument) become exit code 2.
    .exitOverride();
  registerAuth(program);
  registerGroups(program);
  registerSecrets(program);
  registerIntegrations(program);
  registerRun(program);
  registerDoctor(program);
  return program;
}

/** Runs the CLI; returns the exit code. Errors are one line on stderr, never a stack. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`sgw: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`sgw: unexpected error: ${(err as Error).message}\n`);
    return EXIT.failure;
  }
}

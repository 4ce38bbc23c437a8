import type { Command } from 'commander';
import { globals } from '../context.ts';
import { runDoctor } from '../doctor.ts';
import { CliError, EXIT } from '../errors.ts';
import { print, printJson, table } from '../output.ts';

export function registerDoctor(program: Command): void {
  program
    .command('doctor <url>')
    .description('run the Generic Secret Store quick test (seed 002) against any server and print pass/fail')
    .requiredOption('--header <name>', 'the Header Auth header name, e.g. X-API-Key or Authorization')
    .requiredOption('--value-from-env <var>', 'the environment variable holding the header value')
    .option('--root <path>', 'the root path', 'tfy-secret')
    .addHelpText(
      'after',
      '\nWrites, reads and deletes one test secret under <root>/sgw-doctor/. Exit code 1 when a check fails.',
    )
    .action(
      async (url: string, options: { header: string; valueFromEnv: string; root: string }, cmd: Command) => {
        const value = process.env[options.valueFromEnv];
        if (!value) throw new CliError(`environment variable ${options.valueFromEnv} is not set`, EXIT.usage);
        if (!/^https?:\/\//.test(url))
          throw new CliError('the URL must start with http:// or https://', EXIT.usage);
        const results = await runDoctor(url, { name: options.header, value }, options.root);
        if (globals(cmd).output === 'json') printJson(results);
        else {
          const mark = (ok: boolean | null) => (ok === null ? 'SKIP' : ok ? 'PASS' : 'FAIL');
          print(
            table(
              ['Check', 'Result', 'Detail'],
              results.map((r) => [r.check, mark(r.ok), r.detail]),
            ),
          );
        }
        if (results.some((r) => r.ok !== true)) process.exitCode = EXIT.failure;
      },
    );
}

import { password } from '@inquirer/prompts';
import type { Command } from 'commander';
import { ApiClient } from '../client.ts';
import { saveConnection } from '../config.ts';
import { client, globals } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';
import { note, print, printJson, table } from '../output.ts';

async function readToken(options: { tokenFromEnv?: string; tokenStdin?: boolean }): Promise<string> {
  if (options.tokenFromEnv) {
    const token = process.env[options.tokenFromEnv];
    if (!token) throw new CliError(`environment variable ${options.tokenFromEnv} is not set`, EXIT.usage);
    return token;
  }
  if (options.tokenStdin) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8').trim();
  }
  if (process.env.SGW_TOKEN) return process.env.SGW_TOKEN;
  if (!process.stdin.isTTY) {
    throw new CliError(
      'no token: pass --token-from-env VAR or --token-stdin (no terminal to ask on)',
      EXIT.usage,
    );
  }
  try {
    return await password({ message: 'Token', mask: '*' }, { output: process.stderr });
  } catch {
    throw new CliError('aborted; nothing was saved', EXIT.aborted);
  }
}

export function registerAuth(program: Command): void {
  program
    .command('login')
    .description(
      'save the gateway URL and a token in the config file (mode 0600), after checking them with whoami',
    )
    .option('--token-from-env <var>', 'read the token from this environment variable')
    .option('--token-stdin', 'read the token from standard input')
    .option('--no-verify', 'save without calling /whoami first')
    .addHelpText(
      'after',
      '\nThe token is never taken on the command line. Without a source, it is asked for (hidden) on the terminal.\nThe file is $SGW_CLI_CONFIG, else $XDG_CONFIG_HOME/sgw/config.json, else ~/.config/sgw/config.json.',
    )
    .action(
      async (options: { tokenFromEnv?: string; tokenStdin?: boolean; verify: boolean }, cmd: Command) => {
        const url = (globals(cmd).url ?? process.env.SGW_URL)?.replace(/\/+$/, '');
        if (!url) throw new CliError('sgw login needs --url (or SGW_URL)', EXIT.usage);
        const token = await readToken(options);
        if (!token) throw new CliError('the token is empty', EXIT.usage);
        if (options.verify) {
          const me = await new ApiClient({ url, token }).whoami();
          note(`logged in to ${url} as ${me.subject}`);
        }
        note(`saved to ${saveConnection({ url, token })}`);
      },
    );

  program
    .command('whoami')
    .description('show who the token belongs to')
    .action(async (_options: unknown, cmd: Command) => {
      const me = await client(cmd).whoami();
      if (globals(cmd).output === 'json') return printJson(me);
      print(
        table(
          ['Subject', 'Tenant', 'Tenant admin', 'Teams'],
          [
            [
              me.subject,
              me.tenantName ?? '',
              me.tenantAdmin ? 'yes' : 'no',
              (me.teams ?? []).map((t) => (typeof t === 'string' ? t : t.name)).join(', '),
            ],
          ],
        ),
      );
    });
}

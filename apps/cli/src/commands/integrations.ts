import type { Command } from 'commander';
import { client, globals } from '../context.ts';
import { print, printJson, table } from '../output.ts';

export function registerIntegrations(program: Command): void {
  program
    .command('integrations')
    .description('secret-store integrations')
    .command('list')
    .description(
      'provider accounts and their secret-store integrations (the ids groups create --integration takes)',
    )
    .action(async (_o: unknown, cmd: Command) => {
      const accounts = await client(cmd).providerAccounts();
      if (globals(cmd).output === 'json') return printJson(accounts);
      const rows = accounts.flatMap((a) =>
        a.integrations.map((i) => [a.name, a.provider ?? '-', i.name, i.id, i.type]),
      );
      print(table(['Provider account', 'Provider', 'Integration', 'ID', 'Type'], rows));
    });
}

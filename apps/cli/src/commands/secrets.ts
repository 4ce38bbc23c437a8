import type { Command } from 'commander';
import type { ApiClient } from '../client.ts';
import { confirmPlan } from '../confirm.ts';
import { client, globals } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';
import { note, print, printJson } from '../output.ts';
import { parseRef, SecretResolver } from '../references.ts';
import { secretSummary, secretsTable } from '../secrets-view.ts';
import type { Secret } from '../types.ts';

/** By id, or by fqn `tenant:group:key` (with or without tfy-secret://). */
function findSecret(api: ApiClient, ref: string): Promise<Secret> {
  const parsed = parseRef(ref);
  if (parsed) return new SecretResolver(api).secret(parsed);
  if (ref.includes(':')) throw new CliError('a secret is named by its id or by tenant:group:key', EXIT.usage);
  return api.secret(ref);
}

export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description('the secrets of a group: list, get, delete');

  secrets
    .command('list <group>')
    .description('the keys of a group (by id, or fqn tenant:group), values masked')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const api = client(cmd);
      const list = await api.groupSecretsWithVersions((await api.group(ref)).id);
      if (globals(cmd).output === 'json') return printJson(list.map(secretSummary));
      print(secretsTable(list));
    });

  secrets
    .command('get <secret>')
    .description('one secret (by id, or tenant:group:key), value masked unless --reveal')
    .option('--reveal', 'print the bare value, for piping into another program')
    .action(async (ref: string, options: { reveal?: boolean }, cmd: Command) => {
      const secret = await findSecret(client(cmd), ref);
      if (options.reveal) {
        if (secret.value === null || secret.value === undefined) {
          throw new CliError(
            `permission denied: your token may not read the value of ${secret.fqn}`,
            EXIT.denied,
          );
        }
        if (process.stdout.isTTY)
          note('warning: printing a secret value to the terminal (it may stay in scrollback)');
        // Bare value, no newline when piped: the reader gets exactly the secret.
        process.stdout.write(process.stdout.isTTY ? `${secret.value}\n` : secret.value);
        return;
      }
      if (globals(cmd).output === 'json') return printJson(secretSummary(secret));
      print(secretsTable([secret]));
    });

  secrets
    .command('delete <secret>')
    .description('delete one secret (by id, or tenant:group:key) with all its versions')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const api = client(cmd);
      const secret = await findSecret(api, ref);
      await confirmPlan(
        [`Delete secret ${secret.fqn} (id ${secret.id}) with all its versions:`, `  - ${secret.name}`],
        globals(cmd),
      );
      await api.deleteSecret(secret.id);
      note(`deleted ${secret.fqn}`);
    });
}

import type { Command } from 'commander';
import type { ApiClient } from '../client.ts';
import { confirmPlan } from '../confirm.ts';
import { client, globals } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';
import { note, print, printJson, table } from '../output.ts';
import { describePlan, planIsEmpty, planUpdate } from '../plan.ts';
import { secretSummary, secretsTable } from '../secrets-view.ts';
import { readSources, refuseStrayArguments, type SourceOptions } from '../sources.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function addSourceOptions(cmd: Command): Command {
  return cmd
    .option(
      '--from-env <KEY=ENVVAR>',
      'the value of KEY is the environment variable ENVVAR (repeatable)',
      collect,
    )
    .option(
      '--from-file <KEY=PATH>',
      'the value of KEY is the content of the file PATH (repeatable)',
      collect,
    )
    .option('--from-dotenv <file>', 'every KEY=value line of a .env file (repeatable)', collect)
    .addHelpText(
      'after',
      '\nValues are never taken on the command line: KEY=value is refused, as it would end up in shell history.',
    );
}

/** The one integration there is, when --integration is left out; otherwise ask for it. */
async function pickIntegration(api: ApiClient, given?: string): Promise<string> {
  if (given) return given;
  const ids = (await api.providerAccounts()).flatMap((a) =>
    a.integrations.filter((i) => i.type === 'secret-store').map((i) => i.id),
  );
  if (ids.length === 1 && ids[0]) return ids[0];
  throw new CliError(
    `--integration is required (${ids.length ? `one of: ${ids.join(', ')}` : 'no secret-store integration found'}); see sgw integrations list`,
    EXIT.usage,
  );
}

export function registerGroups(program: Command): void {
  const groups = program.command('groups').description('secret groups: list, show, create, update, delete');

  groups
    .command('list')
    .description('the secret groups you can see (Name, ID, Secrets)')
    .action(async (_o: unknown, cmd: Command) => {
      const list = await client(cmd).listGroups();
      const rows = list.map((g) => ({
        name: g.name,
        id: g.id,
        fqn: g.fqn,
        secrets: g.associatedSecrets.length,
      }));
      if (globals(cmd).output === 'json') return printJson(rows);
      print(
        table(
          ['Name', 'ID', 'Secrets'],
          rows.map((r) => [r.name, r.id, r.secrets]),
        ),
      );
    });

  groups
    .command('show <group>')
    .description('a group (by id, or fqn tenant:group) and its keys, values masked')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const api = client(cmd);
      const group = await api.group(ref);
      const secrets = await api.groupSecretsWithVersions(group.id);
      if (globals(cmd).output === 'json') {
        return printJson({
          id: group.id,
          fqn: group.fqn,
          name: group.name,
          integrationId: group.integrationId,
          updatedAt: group.updatedAt,
          secrets: secrets.map(secretSummary),
        });
      }
      print(
        `${group.fqn}  (id ${group.id}, integration ${group.integrationId ?? '-'}, updated ${group.updatedAt ?? '-'})`,
      );
      print(secretsTable(secrets));
    });

  addSourceOptions(
    groups
      .command('create <name> [extra...]')
      .description('create a group from environment variables or files')
      .option(
        '--integration <id>',
        'the secret-store integration (sgw integrations list); optional when there is only one',
      ),
  ).action(
    async (
      name: string,
      extra: string[],
      options: SourceOptions & { integration?: string },
      cmd: Command,
    ) => {
      refuseStrayArguments(extra);
      const values = readSources(options);
      const api = client(cmd);
      const integrationId = await pickIntegration(api, options.integration);
      const keys = [...values.keys()].sort();
      await confirmPlan(
        [
          `Create secret group ${name} on integration ${integrationId} with ${keys.length} key(s):`,
          ...keys.map((k) => `  + ${k}`),
        ],
        globals(cmd),
      );
      const group = await api.createGroup({
        name,
        integrationId,
        secrets: [...values].map(([key, value]) => ({ key, value })),
      });
      note(`created ${group.fqn} (id ${group.id})`);
      if (globals(cmd).output === 'json') printJson({ id: group.id, fqn: group.fqn, name: group.name });
    },
  );

  addSourceOptions(
    groups
      .command('update <group> [extra...]')
      .description(
        'set keys from environment variables or files; other keys are kept unless --delete or --prune',
      )
      .option('--delete <KEY>', 'delete this key (repeatable)', collect)
      .option('--prune', 'delete every key not given in this command'),
  ).action(
    async (
      ref: string,
      extra: string[],
      options: SourceOptions & { delete?: string[]; prune?: boolean },
      cmd: Command,
    ) => {
      refuseStrayArguments(extra);
      const values = readSources(options);
      const api = client(cmd);
      const group = await api.group(ref);
      const existing = new Map((await api.groupSecrets(group.id)).map((s) => [s.name, s.value]));
      const plan = planUpdate(existing, values, { remove: options.delete, prune: options.prune });
      if (planIsEmpty(plan)) {
        note(`nothing to change in ${group.fqn}`);
        return;
      }
      if (plan.body.length === 0)
        throw new CliError(
          'a group keeps at least one secret; to remove them all, use sgw groups delete',
          EXIT.usage,
        );
      await confirmPlan([`Update secret group ${group.fqn}:`, ...describePlan(plan)], globals(cmd));
      await api.updateGroup(group.id, plan.body);
      note(`updated ${group.fqn}`);
    },
  );

  groups
    .command('delete <group>')
    .description('delete a group and all its secrets')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const api = client(cmd);
      const group = await api.group(ref);
      const keys = group.associatedSecrets.map((s) => s.name).sort();
      await confirmPlan(
        [
          `Delete secret group ${group.fqn} (id ${group.id}) and its ${keys.length} key(s):`,
          ...keys.map((k) => `  - ${k}`),
        ],
        globals(cmd),
      );
      await api.deleteGroup(group.id);
      note(`deleted ${group.fqn}`);
    });
}

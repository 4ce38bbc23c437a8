import type { GatewayProcess } from '@secret-gateway/e2e';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliOutput, isolatedEnv, startGroupsGateway, Tmux, value } from './helpers.ts';

// Prompts and tables in a real terminal against the gateway bin: tmux runs sgw, send-keys answers,
// capture-pane reads.
let gw: GatewayProcess;
let admin: string;
let env: Record<string, string>;
const DB = value('terminal-db');
const terminals: Tmux[] = [];

/** The group's keys as the API has them, or undefined when there is no such group. */
async function keysOf(name: string): Promise<string[] | undefined> {
  const res = await fetch(`${gw.url}/api/svc/v1/secret-groups?fqn=acme:${name}`, {
    headers: { Authorization: `Bearer ${admin}` },
  });
  const body = (await res.json()) as { data: { associatedSecrets: { name: string }[] }[] };
  return body.data[0]?.associatedSecrets.map((s) => s.name).sort();
}

function terminal(args: string[], extraEnv: Record<string, string> = {}): Tmux {
  const t = new Tmux();
  terminals.push(t);
  t.start(args, { ...env, ...extraEnv });
  return t;
}

beforeAll(async () => {
  ({ gw, admin } = await startGroupsGateway());
  env = isolatedEnv({ SGW_URL: gw.url, SGW_TOKEN: admin, DB_PASSWORD: DB });
});
afterEach(() => {
  for (const t of terminals.splice(0)) t.kill();
});
afterAll(async () => {
  // Neither the terminals (but the --reveal one) nor the gateway's log show the value.
  for (const text of [...cliOutput, gw.output()]) expect(text.includes(DB)).toBe(false);
  await gw.stop();
});

describe('in a terminal', () => {
  it('asks before creating; "n" changes nothing, "y" creates', async () => {
    const no = terminal(['groups', 'create', 'web', '--from-env', 'DB_PASSWORD=DB_PASSWORD']);
    const asked = await no.waitFor(/Apply these changes\?/);
    expect(asked).toContain('Create secret group web on integration default with 1 key(s):');
    expect(asked).toContain('+ DB_PASSWORD');
    no.send('n', 'Enter');
    const declined = await no.waitFor(/EXIT:\d+/);
    expect(declined).toContain('aborted; nothing was changed');
    expect(declined).toContain('EXIT:3');
    expect(await keysOf('web')).toBeUndefined();

    const yes = terminal(['groups', 'create', 'web', '--from-env', 'DB_PASSWORD=DB_PASSWORD']);
    await yes.waitFor(/Apply these changes\?/);
    yes.send('y', 'Enter');
    const done = await yes.waitFor(/EXIT:\d+/);
    expect(done).toContain('created acme:web');
    expect(done).toContain('EXIT:0');
    expect(await keysOf('web')).toEqual(['DB_PASSWORD']);
  });

  it('shows the update plan, keys only, before asking', async () => {
    const t = terminal([
      'groups',
      'update',
      'acme:web',
      '--from-env',
      'OTHER=DB_PASSWORD',
      '--delete',
      'DB_PASSWORD',
    ]);
    const asked = await t.waitFor(/Apply these changes\?/);
    expect(asked).toContain('+ OTHER  (new key)');
    expect(asked).toContain('- DB_PASSWORD  (deleted, with all its versions)');
    t.send('C-c');
    const out = await t.waitFor(/EXIT:\d+/);
    expect(out).toContain('EXIT:3');
    expect(await keysOf('web')).toEqual(['DB_PASSWORD']);
  });

  it('refuses an inline value with the explanation', async () => {
    const t = terminal(['groups', 'create', 'web2', 'DB_PASSWORD=hunter2-typed']);
    const out = await t.waitFor(/EXIT:\d+/);
    expect(out).toContain('refusing what looks like an inline value for DB_PASSWORD');
    expect(out).toContain('read -rs DB_PASSWORD && export DB_PASSWORD');
    expect(out).toContain('EXIT:2');
    expect(out.split('\n').filter((l) => l.includes('hunter2-typed'))).toEqual([]);
  });

  it('draws the groups table and the masked group', async () => {
    const list = await terminal(['groups', 'list']).waitFor(/EXIT:\d+/);
    expect(list).toMatch(/│ Name\s+│ ID\s+│ Secrets │/);
    expect(list).toMatch(/│ web\s+│ \S+\s+│ 1\s+│/);
    const show = await terminal(['groups', 'show', 'acme:web']).waitFor(/EXIT:\d+/);
    expect(show).toMatch(/│ DB_PASSWORD │ \S+\s+│ term\*\*\*\s+│ 1\s+│/);
  });

  it('--reveal on a terminal prints the value with a warning on stderr', async () => {
    const t = new Tmux();
    t.start(['secrets', 'get', 'acme:web:DB_PASSWORD', '--reveal'], env);
    const out = await t.waitFor(/EXIT:\d+/);
    t.kill(false);
    expect(out).toContain('warning: printing a secret value to the terminal');
    expect(out).toContain(DB);
  });
});

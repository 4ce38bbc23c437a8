import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApi, startFakeApi } from './fake-api.ts';
import { cliOutput, isolatedEnv, sgw, value } from './helpers.ts';

// The group and secret commands, the real bin over real HTTP, stdin not a terminal.
let api: FakeApi;
let env: Record<string, string>;
const DB = value('dbpassword');
const KEY = value('apikey');
const ROTATED = value('rotated');
const revealed: string[] = [];

beforeAll(async () => {
  api = await startFakeApi();
  env = isolatedEnv({
    SGW_URL: api.url,
    SGW_TOKEN: api.tokens.admin,
    DB_PASSWORD: DB,
    API_KEY: KEY,
    NEW_DB: ROTATED,
  });
});

afterAll(async () => {
  // No value in anything sgw printed (but the --reveal output) nor in the server's request log.
  for (const v of [DB, KEY, ROTATED]) {
    for (const text of [...cliOutput, ...api.requests]) expect(text.includes(v)).toBe(false);
  }
  await api.close();
});

const groupByName = (name: string) => [...api.groups.values()].find((g) => g.name === name);

describe('login and whoami', () => {
  it('saves the URL and token to a 0600 file, checked with whoami, and uses it', async () => {
    const bare = isolatedEnv({ TOKEN_VAR: api.tokens.admin });
    const login = await sgw(['--url', api.url, 'login', '--token-from-env', 'TOKEN_VAR'], bare);
    expect(login.code).toBe(0);
    expect(login.stderr).toContain('logged in to');
    const file = join(bare.XDG_CONFIG_HOME as string, 'sgw', 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(login.stdout + login.stderr).not.toContain(api.tokens.admin);
    const who = await sgw(['whoami', '-o', 'json'], { ...bare, TOKEN_VAR: '' });
    expect(who.code).toBe(0);
    expect(JSON.parse(who.stdout)).toMatchObject({
      subject: 'user:admin@example.com',
      tenantName: 'acme',
      tenantAdmin: true,
    });
  });

  it('tightens an existing looser config file to 0600, and warns when reading a loose one', async () => {
    const bare = isolatedEnv({ T: api.tokens.admin });
    const file = join(bare.XDG_CONFIG_HOME as string, 'sgw', 'config.json');
    mkdirSync(join(bare.XDG_CONFIG_HOME as string, 'sgw'), { recursive: true });
    writeFileSync(file, '{}', { mode: 0o644 });
    chmodSync(file, 0o644);
    expect((await sgw(['--url', api.url, 'login', '--token-from-env', 'T'], bare)).code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    chmodSync(file, 0o644);
    const who = await sgw(['whoami'], { ...bare, T: '' });
    expect(who.code).toBe(0);
    expect(who.stderr).toContain(`warning: ${file} is readable by other users; run chmod 600`);
  });

  it('refuses a bad token at login (exit 4) and saves nothing', async () => {
    const bare = isolatedEnv({ T: 'wrong' });
    const r = await sgw(['--url', api.url, 'login', '--token-from-env', 'T'], bare);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('401');
    expect(() => statSync(join(bare.XDG_CONFIG_HOME as string, 'sgw', 'config.json'))).toThrow();
  });

  it('says how to log in when nothing is configured (exit 2)', async () => {
    const r = await sgw(['groups', 'list'], isolatedEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no gateway URL: pass --url, set SGW_URL, or run sgw login');
  });
});

describe('groups', () => {
  it('refuses to create without a terminal and without --yes, and sends nothing', async () => {
    const before = api.requests.length;
    const r = await sgw(['groups', 'create', 'app', '--from-env', 'DB_PASSWORD=DB_PASSWORD'], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Create secret group app on integration default with 1 key(s):');
    expect(r.stderr).toContain('refusing to ask for confirmation without a terminal: pass --yes');
    expect(api.requests.slice(before).filter((x) => x.startsWith('POST'))).toEqual([]);
  });

  it('refuses inline values with an explanation, without repeating them', async () => {
    for (const args of [
      ['groups', 'create', 'app', '--from-env', `DB_PASSWORD=${'hunter2-' + 'inline'}`],
      ['groups', 'create', 'app', `DB_PASSWORD=hunter2-inline`],
      ['groups', 'update', 'acme:app', '--from-file', 'DB_PASSWORD=hunter2-inline'],
    ]) {
      const r = await sgw(['--yes', ...args], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /refusing what looks like an inline value for DB_PASSWORD|cannot read the file given for DB_PASSWORD/,
      );
      expect(r.stderr).toContain('shell history and process listings');
      expect(r.stderr).not.toContain('hunter2-inline');
    }
  });

  it('creates from env vars, a file and a dotenv file with --yes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgw-src-'));
    writeFileSync(join(dir, 'token.txt'), `${KEY}-file\n`);
    writeFileSync(join(dir, 'more.env'), `EXTRA=${KEY}-dotenv\n`);
    const r = await sgw(
      [
        '--yes',
        'groups',
        'create',
        'app',
        '--from-env',
        'DB_PASSWORD=DB_PASSWORD',
        '--from-env',
        'API_KEY=API_KEY',
        '--from-file',
        `FILE_TOKEN=${join(dir, 'token.txt')}`,
        '--from-dotenv',
        join(dir, 'more.env'),
      ],
      env,
    );
    expect(r.stderr).toContain('created acme:app');
    expect(r.code).toBe(0);
    const g = groupByName('app');
    const stored = Object.fromEntries((g?.secrets ?? []).map((s) => [s.key, s.versions[0]?.value]));
    expect(stored).toEqual({
      DB_PASSWORD: DB,
      API_KEY: KEY,
      FILE_TOKEN: `${KEY}-file`,
      EXTRA: `${KEY}-dotenv`,
    });
  });

  it('lists groups as a table and as JSON', async () => {
    const t = await sgw(['groups', 'list'], env);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/Name\s+│\s+ID\s+│\s+Secrets/);
    expect(t.stdout).toMatch(new RegExp(`app\\s+│\\s+${groupByName('app')?.id}\\s+│\\s+4`));
    const j = await sgw(['groups', 'list', '-o', 'json'], env);
    expect(JSON.parse(j.stdout)).toEqual([
      { name: 'app', id: groupByName('app')?.id, fqn: 'acme:app', secrets: 4 },
    ]);
  });

  it('shows a group masked: first 4 characters and *** (table and JSON)', async () => {
    const t = await sgw(['groups', 'show', 'acme:app'], env);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain(`${DB.slice(0, 4)}***`);
    expect(t.stdout).toMatch(/DB_PASSWORD\s+│\s+s-\w+\s+│\s+dbpa\*\*\*\s+│\s+1/);
    const j = await sgw(['groups', 'show', groupByName('app')?.id as string, '-o', 'json'], env);
    const shown = JSON.parse(j.stdout) as { secrets: { key: string; value: string; version: number }[] };
    expect(shown.secrets.find((s) => s.key === 'API_KEY')).toMatchObject({ value: 'apik***', version: 1 });
  });

  it('update: says what is added, changed, deleted and kept, then applies exactly that', async () => {
    const r = await sgw(
      [
        '--yes',
        'groups',
        'update',
        'acme:app',
        '--from-env',
        'DB_PASSWORD=NEW_DB',
        '--from-env',
        'NEW_KEY=API_KEY',
        '--delete',
        'EXTRA',
      ],
      env,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('+ NEW_KEY  (new key)');
    expect(r.stderr).toContain('~ DB_PASSWORD  (new value, new version)');
    expect(r.stderr).toContain('- EXTRA  (deleted, with all its versions)');
    expect(r.stderr).toContain('kept as they are: API_KEY, FILE_TOKEN');
    const g = groupByName('app');
    const latest = Object.fromEntries((g?.secrets ?? []).map((s) => [s.key, s.versions.at(-1)]));
    expect(Object.keys(latest).sort()).toEqual(['API_KEY', 'DB_PASSWORD', 'FILE_TOKEN', 'NEW_KEY']);
    expect(latest.DB_PASSWORD).toMatchObject({ version: 2, value: ROTATED });
    expect(latest.API_KEY).toMatchObject({ version: 1, value: KEY });
  });

  it('update --prune deletes every key not given; the same value makes no new version', async () => {
    const r = await sgw(
      [
        '--yes',
        'groups',
        'update',
        'acme:app',
        '--from-env',
        'DB_PASSWORD=NEW_DB',
        '--from-env',
        'API_KEY=API_KEY',
        '--prune',
      ],
      env,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('- FILE_TOKEN  (deleted');
    expect(r.stderr).toContain('- NEW_KEY  (deleted');
    expect(r.stderr).toContain('= API_KEY  (same value, unchanged)');
    const g = groupByName('app');
    expect(g?.secrets.map((s) => `${s.key}@${s.versions.at(-1)?.version}`).sort()).toEqual([
      'API_KEY@1',
      'DB_PASSWORD@2',
    ]);
  });

  it('update refuses to delete the last key, and a key that does not exist', async () => {
    const last = await sgw(['--yes', 'groups', 'update', 'acme:app', '--prune'], env);
    expect(last.code).toBe(2);
    expect(last.stderr).toContain('a group keeps at least one secret');
    const missing = await sgw(['--yes', 'groups', 'update', 'acme:app', '--delete', 'NOPE'], env);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('cannot delete NOPE: the group has no such key');
  });

  it('reports a duplicate name as rejected (exit 6) with the server message', async () => {
    const r = await sgw(['--yes', 'groups', 'create', 'app', '--from-env', 'A=API_KEY'], env);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('409 Secret group with this name already exists');
  });
});

describe('secrets', () => {
  it('get is masked; --reveal prints the bare value with no newline when piped', async () => {
    const masked = await sgw(['secrets', 'get', 'acme:app:DB_PASSWORD'], env);
    expect(masked.stdout).toContain('rota***');
    const r = await sgw(['secrets', 'get', 'tfy-secret://acme:app:DB_PASSWORD', '--reveal'], env, {
      record: false,
    });
    revealed.push(r.stdout);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(ROTATED);
    expect(r.stderr).toBe('');
  });

  it('a viewer sees (hidden) and --reveal is denied (exit 4)', async () => {
    const viewer = { ...env, SGW_TOKEN: api.tokens.viewer };
    const list = await sgw(['secrets', 'list', 'acme:app'], viewer);
    expect(list.stdout).toContain('(hidden)');
    const r = await sgw(['secrets', 'get', 'acme:app:API_KEY', '--reveal'], viewer);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
  });

  it('secrets list -o json masks values; delete needs confirmation and then deletes', async () => {
    const j = await sgw(['secrets', 'list', 'acme:app', '-o', 'json'], env);
    expect(
      (JSON.parse(j.stdout) as { key: string; value: string }[]).map((s) => `${s.key}=${s.value}`).sort(),
    ).toEqual(['API_KEY=apik***', 'DB_PASSWORD=rota***']);
    const no = await sgw(['secrets', 'delete', 'acme:app:API_KEY'], env);
    expect(no.code).toBe(3);
    expect(groupByName('app')?.secrets.map((s) => s.key)).toContain('API_KEY');
    const yes = await sgw(['-y', 'secrets', 'delete', 'acme:app:API_KEY'], env);
    expect(yes.code).toBe(0);
    expect(groupByName('app')?.secrets.map((s) => s.key)).toEqual(['DB_PASSWORD']);
  });

  it('integrations list shows the integration ids', async () => {
    const r = await sgw(['integrations', 'list'], env);
    expect(r.stdout).toMatch(/gateway\s+│\s+sqlite\s+│\s+default\s+│\s+default\s+│\s+secret-store/);
  });

  it('groups delete lists the keys, then deletes with --yes; a missing group is exit 5', async () => {
    const r = await sgw(['-y', 'groups', 'delete', 'acme:app'], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('- DB_PASSWORD');
    expect(groupByName('app')).toBeUndefined();
    const gone = await sgw(['groups', 'show', 'acme:app'], env);
    expect(gone.code).toBe(5);
  });
});

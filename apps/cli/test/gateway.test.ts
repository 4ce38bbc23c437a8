import { createHash } from 'node:crypto';
import type { GatewayProcess } from '@secret-gateway/e2e';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOutput, isolatedEnv, markerRun, sgw, startGroupsGateway, value } from './helpers.ts';

// The seed-003 workflow with the real gateway bin: its secret-groups API, a config file with subjects.

let gw: GatewayProcess;
let env: Record<string, string>;
let TOKEN: string;
let BOB: string;
const DB = value('gw-db');
const KEY = value('gw-api');
const ROTATED = value('gw-rotated');

describe('against the gateway', () => {
  beforeAll(async () => {
    const started = await startGroupsGateway(['user:bob@example.com']);
    gw = started.gw;
    TOKEN = started.admin;
    BOB = started.tokens['user:bob@example.com'] as string;
    env = isolatedEnv({
      SGW_URL: gw.url,
      SGW_TOKEN: TOKEN,
      DB_PASSWORD: DB,
      API_KEY: KEY,
      NEW_DB: ROTATED,
    });
  });

  afterAll(async () => {
    // No value (nor the token) in sgw's output and errors, nor in the gateway's log.
    for (const v of [DB, KEY, ROTATED, TOKEN, BOB]) {
      for (const text of [...cliOutput, gw.output()]) expect(text.includes(v)).toBe(false);
    }
    await gw.stop();
  });

  it('whoami and integrations list', async () => {
    const who = await sgw(['whoami', '-o', 'json'], env);
    expect(who.code).toBe(0);
    expect(JSON.parse(who.stdout)).toMatchObject({ subject: 'user:admin@example.com', tenantName: 'acme' });
    const integrations = await sgw(['integrations', 'list'], env);
    expect(integrations.code).toBe(0);
    expect(integrations.stdout).toContain('default');
  });

  it('create from env vars, show masked, rotate one key, run with references, delete', async () => {
    const create = await sgw(
      [
        '-y',
        'groups',
        'create',
        'my-app',
        '--integration',
        'default',
        '--from-env',
        'DB_PASSWORD=DB_PASSWORD',
        '--from-env',
        'API_KEY=API_KEY',
      ],
      env,
    );
    expect(create.stderr).toContain('created acme:my-app');
    expect(create.code).toBe(0);

    const show = await sgw(['groups', 'show', 'acme:my-app'], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('gw-d***');
    expect(show.stdout).toContain('gw-a***');

    const rotate = await sgw(
      ['-y', 'groups', 'update', 'acme:my-app', '--from-env', 'DB_PASSWORD=NEW_DB'],
      env,
    );
    expect(rotate.code).toBe(0);
    expect(rotate.stderr).toContain('kept as they are: API_KEY');
    const shown = JSON.parse((await sgw(['secrets', 'list', 'acme:my-app', '-o', 'json'], env)).stdout) as {
      key: string;
      value: string;
      version: number;
    }[];
    expect(shown.map((s) => `${s.key}:${s.value}:${s.version}`).sort()).toEqual([
      'API_KEY:gw-a***:1',
      'DB_PASSWORD:gw-r***:2',
    ]);

    const child = `const h=require('node:crypto').createHash('sha256');h.update(process.env.DB_PASSWORD+'\\n'+process.env.API_KEY);console.log(h.digest('hex'))`;
    const run = await sgw(['run', '--', process.execPath, '-e', child], {
      ...env,
      DB_PASSWORD: 'tfy-secret://acme:my-app:DB_PASSWORD',
      API_KEY: 'tfy-secret://acme:my-app:API_KEY',
    });
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(createHash('sha256').update(`${ROTATED}\n${KEY}`).digest('hex'));

    // bob has no role on the group: to him it looks missing (the gateway's rule); the child never starts.
    const refused = markerRun();
    const denied = await sgw(refused.argv, {
      ...env,
      SGW_TOKEN: BOB,
      DB_PASSWORD: 'tfy-secret://acme:my-app:DB_PASSWORD',
    });
    expect(denied.stderr).toContain(
      'DB_PASSWORD: tfy-secret://acme:my-app:DB_PASSWORD: no secret group acme:my-app (or this token has no role on it)',
    );
    expect(denied.code).toBe(5);
    expect(refused.started()).toBe(false);

    const reveal = await sgw(['secrets', 'get', 'acme:my-app:API_KEY', '--reveal'], env, { record: false });
    expect(reveal.stdout).toBe(KEY);

    const del = await sgw(['-y', 'groups', 'delete', 'acme:my-app'], env);
    expect(del.code).toBe(0);
    expect((await sgw(['groups', 'show', 'acme:my-app'], env)).code).toBe(5);
  });
});

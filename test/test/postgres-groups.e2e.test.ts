import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCluster, type TestCluster } from '@secret-gateway/adapter-postgres/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, startGateway } from '../src/index.ts';

// Two gateway processes, each with its own data directory, on one Postgres database: with
// `groups.store` left at `auto`, group metadata lives in that database, so a group created through
// one replica is listed and read, values included, through the other.
const ADMIN_TOKEN = `admin-${randomBytes(12).toString('hex')}`;
let cluster: TestCluster;
const gateways: GatewayProcess[] = [];
const values: string[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
  const env = {
    SGW_BACKEND: 'postgres',
    SGW_POSTGRES_URL: await cluster.createDatabase('groups'),
    SGW_MASTER_KEY: randomBytes(32).toString('base64'),
    SGW_ADMIN_TOKEN: ADMIN_TOKEN,
  };
  gateways.push(...(await Promise.all([startGateway({ env }), startGateway({ env })])));
}, 90_000);

afterAll(async () => {
  await Promise.all(gateways.map((gw) => gw.stop()));
  cluster?.destroy();
  for (const gw of gateways) for (const v of values) expect(gw.output().includes(v)).toBe(false);
});

async function api(gw: GatewayProcess, method: string, path: string, body?: unknown) {
  const res = await fetch(`${gw.url}/api/svc/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
  return { status: res.status, body: (await res.json()) as any };
}

describe('secret groups on two gateway replicas sharing one Postgres database', () => {
  it('a group created through one replica is listed and readable, values included, through the other', async () => {
    const [a, b] = gateways as [GatewayProcess, GatewayProcess];
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const token = `tok-${randomBytes(8).toString('hex')}`;
    values.push(password, token);
    const created = await api(a, 'POST', '/secret-groups', {
      name: 'shared-app',
      integrationId: 'default',
      secrets: [
        { key: 'DB_PASSWORD', value: password },
        { key: 'API_TOKEN', value: token },
      ],
    });
    expect(created.status).toBe(200);
    const id = created.body.data.id as string;

    const listed = await api(b, 'GET', '/secret-groups');
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((g: { id: string; name: string }) => [g.id, g.name])).toEqual([
      [id, 'shared-app'],
    ]);
    const group = await api(b, 'GET', `/secret-groups/${id}`);
    expect(group.status).toBe(200);
    expect(group.body.data.associatedSecrets.map((s: { name: string }) => s.name)).toEqual([
      'API_TOKEN',
      'DB_PASSWORD',
    ]);
    const secrets = await api(b, 'POST', '/secrets', { secretGroupId: id });
    expect(secrets.status).toBe(200);
    expect(secrets.body.data.map((s: { name: string; value: string }) => [s.name, s.value])).toEqual([
      ['API_TOKEN', token],
      ['DB_PASSWORD', password],
    ]);
    const one = secrets.body.data.find((s: { name: string }) => s.name === 'DB_PASSWORD');
    const read = await api(b, 'GET', `/secrets/${one.id}`);
    expect(read.body.data).toMatchObject({ name: 'DB_PASSWORD', value: password });

    // And back: deleted through the other replica, the first one no longer has it.
    expect((await api(b, 'DELETE', `/secret-groups/${id}`)).status).toBe(200);
    expect((await api(a, 'GET', `/secret-groups/${id}`)).status).toBe(404);
    expect((await api(a, 'GET', '/secret-groups')).body.data).toEqual([]);
  });

  it('SGW_GROUPS_STORE=postgres without a database URL stops the start with a clear message, making nothing', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'sgw-pg-groups-')), 'data');
    const error = await startGateway({ dataDir, env: { SGW_GROUPS_STORE: 'postgres' } }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/exited with [1-9]/);
    expect(error?.message).toMatch(
      /groups\.store postgres: SGW_POSTGRES_URL \(or DATABASE_URL\) must be set/,
    );
    // Checked before the data directory, a generated key or groups.db is made.
    expect(() => readdirSync(dataDir)).toThrow(/ENOENT/);
  });

  it('a gateway started while the database is down listens, answers 503, and serves once it is back', async () => {
    const url = await cluster.createDatabase('late');
    await cluster.stop();
    let gw: GatewayProcess | undefined;
    try {
      gw = await startGateway({
        env: {
          SGW_BACKEND: 'postgres',
          SGW_POSTGRES_URL: url,
          SGW_MASTER_KEY: randomBytes(32).toString('base64'),
          SGW_ADMIN_TOKEN: ADMIN_TOKEN,
        },
      });
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
      expect((await api(gw, 'GET', '/secret-groups')).status).toBe(503);
    } finally {
      await cluster.start();
    }
    const up = gw as GatewayProcess;
    gateways.push(up);
    await expect.poll(async () => (await fetch(`${up.url}/readyz`)).status, { timeout: 20_000 }).toBe(200);
    const created = await api(up, 'POST', '/secret-groups', {
      name: 'late-app',
      integrationId: 'default',
      secrets: [{ key: 'K', value: 'late-value' }],
    });
    expect(created.status).toBe(200);
  });
});

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiAs, expectSchema, groupsConfig } from './groups-helpers.ts';
import { checkNoValueInLogs, secretValue, startTestGateway, type TestGateway } from './helpers.ts';

// The secret-groups API (issue 16) against a started gateway on the embedded store: every endpoint
// and error case, every answer checked against seed 004's schemas, and the round trip through the
// Generic Secret Store contract that TrueFoundry reads.
let gw: TestGateway;
const logs: string[] = [];
const auditFile = join(mkdtempSync(join(tmpdir(), 'sgw-groups-')), 'audit.log');
checkNoValueInLogs(() => [readFileSync(auditFile, 'utf8')]);

beforeAll(async () => {
  gw = await startTestGateway({ SGW_AUDIT_FILE: auditFile }, groupsConfig(), logs);
});
afterAll(async () => {
  await gw?.shutdown();
});

const admin = () => apiAs(gw.url, 'admin');
const path = (group: string, key: string) => `tfy-secret/acme/${group}/${key}`;

async function readContract(p: string, version?: number) {
  const res = await gw.get(`path=${p}${version === undefined ? '' : `&version=${version}`}`);
  return { status: res.status, body: (await res.json()) as { value?: string; version?: number } };
}

async function createGroup(name: string, secrets: Array<{ key: string; value: string }>, who = 'admin') {
  const res = await apiAs(gw.url, who).call('POST', '/secret-groups', {
    name,
    integrationId: 'default',
    secrets,
  });
  expect(res.status).toBe(200);
  expectSchema('GetSecretGroupResponse', res.body);
  return res.body.data as { id: string; fqn: string; associatedSecrets: Array<{ id: string; name: string }> };
}

describe('seed 000: create by manifest, add secrets, search by fqn', () => {
  it('runs the three calls verbatim', async () => {
    const created = await admin().call('PUT', '/secret-groups', {
      manifest: {
        name: 'my-tenant',
        type: 'secret-group',
        integration_fqn: 'acme:sqlite:default:secret-store:default',
        collaborators: [
          { role_id: 'secret-group-admin', subject: 'user:admin@example.com' },
          { role_id: 'secret-group-editor', subject: 'team:tenant-secret-access' },
        ],
        ownedBy: { account: 'root-account' },
      },
    });
    expect(created.status).toBe(200);
    expectSchema('GetSecretGroupResponse', created.body);
    const group = created.body.data;
    expect(group).toMatchObject({ name: 'my-tenant', fqn: 'acme:my-tenant', tenantName: 'acme' });
    expect(group.manifest.ownedBy).toEqual({ account: 'root-account' });

    const db = secretValue('db');
    const key = secretValue('key');
    const added = await admin().call('PUT', `/secret-groups/${group.id}`, {
      secrets: [
        { key: 'DATABASE_PASSWORD', value: db },
        { key: 'API_KEY', value: key },
      ],
    });
    expect(added.status).toBe(200);
    expectSchema('GetSecretGroupResponse', added.body);

    const found = await admin().call('GET', '/secret-groups?fqn=acme:my-tenant');
    expect(found.status).toBe(200);
    expect(found.body.data).toHaveLength(1);
    for (const g of found.body.data) expectSchema('SecretGroup', g);
    expect(found.body.data[0].associatedSecrets.map((s: { name: string }) => s.name).sort()).toEqual([
      'API_KEY',
      'DATABASE_PASSWORD',
    ]);
    // What TrueFoundry reads for tfy-secret://acme:my-tenant:DATABASE_PASSWORD.
    expect((await readContract(path('my-tenant', 'DATABASE_PASSWORD'))).body).toMatchObject({
      value: db,
      version: 1,
    });

    // Applying the manifest again updates the group, it does not make a second one.
    const again = await admin().call('PUT', '/secret-groups', {
      manifest: { ...group.manifest, collaborators: [{ role_id: 'secret-group-viewer', subject: 'team:x' }] },
    });
    expect(again.status).toBe(200);
    expect(again.body.data.id).toBe(group.id);
    expect(again.body.data.manifest.collaborators).toEqual([
      { role_id: 'secret-group-viewer', subject: 'team:x' },
    ]);
  });

  it('a manifest naming an unknown integration is 424; a wrong type is 422', async () => {
    const unknown = await admin().call('PUT', '/secret-groups', {
      manifest: {
        name: 'x1',
        type: 'secret-group',
        integration_fqn: 'internal:aws:aws-1',
        collaborators: [],
      },
    });
    expect(unknown.status).toBe(424);
    const wrong = await admin().call('PUT', '/secret-groups', {
      manifest: { name: 'x1', type: 'service', integration_fqn: 'default', collaborators: [] },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.message).toMatch(/manifest\.type/);
  });
});

describe('POST /secret-groups', () => {
  it('creates with secrets; the name is then taken (409)', async () => {
    const v = secretValue();
    const group = await createGroup('payments', [{ key: 'STRIPE_KEY', value: v }]);
    expect(group.associatedSecrets.map((s) => s.name)).toEqual(['STRIPE_KEY']);
    const dup = await admin().call('POST', '/secret-groups', {
      name: 'payments',
      integrationId: 'default',
      secrets: [{ key: 'OTHER', value: secretValue() }],
    });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('already_exists');
    // The refused create wrote nothing over the existing group's values.
    expect((await readContract(path('payments', 'STRIPE_KEY'))).body).toMatchObject({ value: v, version: 1 });
    expect((await readContract(path('payments', 'OTHER'))).status).toBe(404);
  });

  it.each([
    ['no name', { integrationId: 'default', secrets: [] }, /name/],
    ['no integrationId', { name: 'n1', secrets: [] }, /integrationId/],
    ['no secrets', { name: 'n1', integrationId: 'default' }, /secrets/],
    ['a secret without value', { name: 'n1', integrationId: 'default', secrets: [{ key: 'A' }] }, /value/],
    ['a bad key', { name: 'n1', integrationId: 'default', secrets: [{ key: 'a/b', value: 'x' }] }, /a\/b/],
    ['a bad name', { name: 'n 1', integrationId: 'default', secrets: [] }, /name/],
    [
      'a key twice',
      {
        name: 'n1',
        integrationId: 'default',
        secrets: [
          { key: 'A', value: 'x' },
          { key: 'A', value: 'y' },
        ],
      },
      /more than once/,
    ],
  ])('%s: 422', async (_name, body, message) => {
    const res = await admin().call('POST', '/secret-groups', body);
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('unprocessable');
    expect(res.body.message).toMatch(message);
  });

  it('an unknown integration: 424', async () => {
    const res = await admin().call('POST', '/secret-groups', {
      name: 'n2',
      integrationId: 'nope',
      secrets: [],
    });
    expect(res.status).toBe(424);
    expect(res.body.message).toMatch(/no secret store integration found: nope/);
  });

  it('a body that is not JSON: 400', async () => {
    const res = await fetch(`${gw.url}/api/svc/v1/secret-groups`, {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + (await import('./groups-helpers.ts')).TOKENS.admin },
      body: '{nope',
    });
    expect(res.status).toBe(400);
  });
});

describe('PUT /secret-groups/{id}: replace the secrets', () => {
  it('omitted keys are deleted, a key without value keeps it, only changed values get a version', async () => {
    const [a, b, c] = [secretValue('a'), secretValue('b'), secretValue('c')];
    const group = await createGroup('rotate', [
      { key: 'A', value: a },
      { key: 'B', value: b },
      { key: 'C', value: c },
    ]);
    const a2 = secretValue('a2');
    const res = await admin().call('PUT', `/secret-groups/${group.id}`, {
      secrets: [{ key: 'A', value: a2 }, { key: 'B' }, { key: 'D', value: c }],
    });
    expect(res.status).toBe(200);
    expectSchema('GetSecretGroupResponse', res.body);
    expect(res.body.data.associatedSecrets.map((s: { name: string }) => s.name).sort()).toEqual([
      'A',
      'B',
      'D',
    ]);
    expect((await readContract(path('rotate', 'A'))).body).toMatchObject({ value: a2, version: 2 });
    expect((await readContract(path('rotate', 'A'), 1)).body).toMatchObject({ value: a, version: 1 });
    expect((await readContract(path('rotate', 'B'))).body).toMatchObject({ value: b, version: 1 });
    expect((await readContract(path('rotate', 'C'))).status).toBe(404);
    expect((await readContract(path('rotate', 'D'))).body).toMatchObject({ value: c, version: 1 });

    // The same values again: no new version anywhere.
    const same = await admin().call('PUT', `/secret-groups/${group.id}`, {
      secrets: [{ key: 'A', value: a2 }, { key: 'B', value: b }, { key: 'D' }],
    });
    expect(same.status).toBe(200);
    expect((await readContract(path('rotate', 'A'))).body.version).toBe(2);
    expect((await readContract(path('rotate', 'B'))).body.version).toBe(1);
  });

  it('zero secrets: 422 "at least one secret"; a new key without value: 422; nothing changes', async () => {
    const v = secretValue();
    const group = await createGroup('keepme', [{ key: 'K', value: v }]);
    const empty = await admin().call('PUT', `/secret-groups/${group.id}`, { secrets: [] });
    expect(empty.status).toBe(422);
    expect(empty.body.message).toMatch(/at least one secret/);
    const missing = await admin().call('PUT', `/secret-groups/${group.id}`, { secrets: [{ key: 'NEW' }] });
    expect(missing.status).toBe(422);
    expect(missing.body.message).toMatch(/NEW is new to the group and needs a value/);
    expect((await readContract(path('keepme', 'K'))).body).toMatchObject({ value: v, version: 1 });
    const after = await admin().call('GET', `/secret-groups/${group.id}`);
    expect(after.body.data.associatedSecrets.map((s: { name: string }) => s.name)).toEqual(['K']);
  });

  it('an unknown id: 404 for a tenant admin', async () => {
    const res = await admin().call('PUT', '/secret-groups/sg_nope', { secrets: [{ key: 'A', value: 'x' }] });
    expect(res.status).toBe(404);
  });
});

describe('listing', () => {
  it('pages through groups sorted by name with the total', async () => {
    for (const n of ['list-a', 'list-b', 'list-c', 'list-d', 'list-e']) await createGroup(n, []);
    const all = await admin().call('GET', '/secret-groups?limit=1000');
    const names = all.body.data.map((g: { name: string }) => g.name);
    expect(names).toEqual([...names].sort());
    const page = await admin().call('GET', '/secret-groups?limit=2&offset=1');
    expect(page.status).toBe(200);
    expect(page.body.pagination).toEqual({ total: all.body.data.length, offset: 1, limit: 2 });
    expect(page.body.data.map((g: { name: string }) => g.name)).toEqual(names.slice(1, 3));
    for (const g of page.body.data) expectSchema('SecretGroup', g);
    expect((await admin().call('GET', '/secret-groups?limit=0')).status).toBe(422);
    expect((await admin().call('GET', '/secret-groups?fqn=other:list-a')).body.data).toEqual([]);
  });

  it("POST /secrets lists a group's secrets with values; GET /secrets/{id} has the versions", async () => {
    const [v1, v2] = [secretValue('v1'), secretValue('v2')];
    const group = await createGroup('versions', [
      { key: 'TOKEN', value: v1 },
      { key: 'OTHER', value: v1 },
    ]);
    await admin().call('PUT', `/secret-groups/${group.id}`, {
      secrets: [{ key: 'TOKEN', value: v2 }, { key: 'OTHER' }],
    });
    const list = await admin().call('POST', '/secrets', { secretGroupId: group.id, limit: 1, offset: 1 });
    expect(list.status).toBe(200);
    expect(list.body.pagination).toEqual({ total: 2, offset: 1, limit: 1 });
    expect(list.body.data).toHaveLength(1);
    expectSchema('Secret', list.body.data[0]);
    expect(list.body.data[0]).toMatchObject({ name: 'TOKEN', value: v2, fqn: 'acme:versions:TOKEN' });

    const one = await admin().call('GET', `/secrets/${list.body.data[0].id}`);
    expect(one.status).toBe(200);
    expectSchema('Secret', one.body.data);
    expect(one.body.data.value).toBe(v2);
    expect(
      one.body.data.secretVersions.map((v: { version: number; value: string }) => [v.version, v.value]),
    ).toEqual([
      [2, v2],
      [1, v1],
    ]);
    expect((await admin().call('POST', '/secrets', { limit: 1 })).status).toBe(422);
  });

  it('DELETE /secrets/{id} removes the key and every version of its value', async () => {
    const group = await createGroup('delone', [
      { key: 'X', value: secretValue() },
      { key: 'Y', value: secretValue() },
    ]);
    const x = group.associatedSecrets.find((s) => s.name === 'X') as { id: string };
    const res = await admin().call('DELETE', `/secrets/${x.id}`);
    expect(res.status).toBe(200);
    expect((await readContract(path('delone', 'X'))).status).toBe(404);
    expect((await admin().call('GET', `/secrets/${x.id}`)).status).toBe(404);
    const after = await admin().call('GET', `/secret-groups/${group.id}`);
    expect(after.body.data.associatedSecrets.map((s: { name: string }) => s.name)).toEqual(['Y']);
  });

  it('DELETE /secret-groups/{id} removes the group and its values', async () => {
    const group = await createGroup('gone', [{ key: 'Z', value: secretValue() }]);
    expect((await admin().call('DELETE', `/secret-groups/${group.id}`)).status).toBe(200);
    expect((await admin().call('GET', `/secret-groups/${group.id}`)).status).toBe(404);
    expect((await readContract(path('gone', 'Z'))).status).toBe(404);
    expect((await admin().call('GET', '/secret-groups?fqn=acme:gone')).body.data).toEqual([]);
    // The name is free again.
    await createGroup('gone', []);
  });

  it('provider accounts list the integrations; whoami names the caller', async () => {
    const res = await admin().call('GET', '/provider-accounts?type=secret-store');
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(1);
    expect(res.body.data[0].integrations[0]).toMatchObject({
      id: 'default',
      type: 'secret-store',
      fqn: 'acme:sqlite:default:secret-store:default',
    });
    const me = await apiAs(gw.url, 'bob').call('GET', '/whoami');
    expect(me.body.data).toMatchObject({
      subject: 'user:bob@example.com',
      tenantAdmin: false,
      teams: ['platform'],
    });
  });
});

describe('the two APIs show the same secrets', () => {
  it('a PUT /secrets under a group adds the key; its versions show; DELETE /secrets removes it', async () => {
    const group = await createGroup('cross', [{ key: 'FIRST', value: secretValue() }]);
    const v = secretValue('cross');
    expect((await gw.put(path('cross', 'SECOND'), v)).status).toBe(200);
    expect((await gw.put(path('cross', 'SECOND'), `${v}-2`)).status).toBe(200);
    const after = await admin().call('GET', `/secret-groups/${group.id}`);
    const second = after.body.data.associatedSecrets.find((s: { name: string }) => s.name === 'SECOND');
    expect(second).toBeDefined();
    const read = await admin().call('GET', `/secrets/${second.id}`);
    expect(read.body.data.value).toBe(`${v}-2`);
    expect(read.body.data.secretVersions.map((x: { version: number }) => x.version)).toEqual([2, 1]);
    expect((await gw.del({ path: path('cross', 'SECOND') })).status).toBe(200);
    const gone = await admin().call('GET', `/secret-groups/${group.id}`);
    expect(gone.body.data.associatedSecrets.map((s: { name: string }) => s.name)).toEqual(['FIRST']);
  });
});

describe('authentication', () => {
  it('no token or a wrong one: 401; an API key of /secrets: 403', async () => {
    expect((await apiAs(gw.url, undefined).call('GET', '/secret-groups')).status).toBe(401);
    expect((await apiAs(gw.url, 'not-a-token').call('GET', '/secret-groups')).status).toBe(401);
    const res = await fetch(`${gw.url}/api/svc/v1/secret-groups`, { headers: gw.headers });
    expect(res.status).toBe(403);
    // And a subject's token does not open /secrets.
    const { TOKENS } = await import('./groups-helpers.ts');
    const viaSubject = await fetch(`${gw.url}/secrets?path=${path('cross', 'FIRST')}`, {
      headers: { 'X-API-Key': TOKENS.admin },
    });
    expect(viaSubject.status).toBe(401);
  });

  it('every change is audited with the subject, never a value', async () => {
    const v = secretValue('audited');
    const group = await createGroup('audited', [{ key: 'A', value: v }], 'alice');
    // Audit lines are written in batches: wait for this one.
    const lines = await vi.waitFor(() => {
      const found = readFileSync(auditFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"op":"group_create"') && l.includes('audited'));
      expect(found.length).toBeGreaterThan(0);
      return found;
    });
    expect(lines.at(-1)).toContain('"key":"user:alice@example.com"');
    expect(lines.at(-1)).toContain('"path":"tfy-secret/acme/audited"');
    expect(logs.some((l) => l.includes(v))).toBe(false);
    expect(group.id).toMatch(/^sg_/);
  });
});

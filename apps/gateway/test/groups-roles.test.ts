import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiAs, expectSchema, groupsConfig, type Person } from './groups-helpers.ts';
import { checkNoValueInLogs, secretValue, startTestGateway, type TestGateway } from './helpers.ts';

// Seed 001's roles, each role x each operation, on a fresh group per case: alice is admin, bob
// editor through team platform, carol viewer, dave has no role, admin is a tenant admin.
let gw: TestGateway;
checkNoValueInLogs();

beforeAll(async () => {
  gw = await startTestGateway({}, groupsConfig());
});
afterAll(async () => {
  await gw?.shutdown();
});

let n = 0;
async function freshGroup() {
  const value = secretValue('role');
  const res = await apiAs(gw.url, 'admin').call('POST', '/secret-groups', {
    name: `roles-${++n}`,
    integrationId: 'default',
    secrets: [
      { key: 'K', value },
      { key: 'L', value: secretValue('other') },
    ],
  });
  expect(res.status).toBe(200);
  const group = res.body.data;
  const applied = await apiAs(gw.url, 'admin').call('PUT', '/secret-groups', {
    manifest: {
      ...group.manifest,
      collaborators: [
        { role_id: 'secret-group-admin', subject: 'user:alice@example.com' },
        { role_id: 'secret-group-editor', subject: 'team:platform' },
        { role_id: 'secret-group-viewer', subject: 'user:carol@example.com' },
      ],
    },
  });
  expect(applied.status).toBe(200);
  const secretId = group.associatedSecrets.find((s: { name: string }) => s.name === 'K').id as string;
  return {
    id: group.id as string,
    name: group.name as string,
    manifest: applied.body.data.manifest,
    secretId,
    value,
  };
}

type Op = (who: Person, g: Awaited<ReturnType<typeof freshGroup>>) => Promise<{ status: number; body: any }>;

const OPS: Record<string, Op> = {
  'get group': (who, g) => apiAs(gw.url, who).call('GET', `/secret-groups/${g.id}`),
  'list secrets': (who, g) => apiAs(gw.url, who).call('POST', '/secrets', { secretGroupId: g.id }),
  'get secret': (who, g) => apiAs(gw.url, who).call('GET', `/secrets/${g.secretId}`),
  'update secrets': (who, g) =>
    apiAs(gw.url, who).call('PUT', `/secret-groups/${g.id}`, {
      secrets: [{ key: 'K', value: secretValue('new') }, { key: 'L' }],
    }),
  'delete secret': (who, g) => apiAs(gw.url, who).call('DELETE', `/secrets/${g.secretId}`),
  'change collaborators': (who, g) =>
    apiAs(gw.url, who).call('PUT', '/secret-groups', {
      manifest: {
        ...g.manifest,
        collaborators: [{ role_id: 'secret-group-admin', subject: 'user:dave@example.com' }],
      },
    }),
  'delete group': (who, g) => apiAs(gw.url, who).call('DELETE', `/secret-groups/${g.id}`),
};

// 200 = allowed, 403 = "permission denied".
const MATRIX: Record<string, Record<Person, 200 | 403>> = {
  'get group': { admin: 200, alice: 200, bob: 200, carol: 200, dave: 403 },
  'list secrets': { admin: 200, alice: 200, bob: 200, carol: 200, dave: 403 },
  'get secret': { admin: 200, alice: 200, bob: 200, carol: 200, dave: 403 },
  'update secrets': { admin: 200, alice: 200, bob: 200, carol: 403, dave: 403 },
  'delete secret': { admin: 200, alice: 200, bob: 200, carol: 403, dave: 403 },
  'change collaborators': { admin: 200, alice: 200, bob: 403, carol: 403, dave: 403 },
  'delete group': { admin: 200, alice: 200, bob: 403, carol: 403, dave: 403 },
};

const cases = Object.entries(MATRIX).flatMap(([op, row]) =>
  Object.entries(row).map(([who, status]) => [op, who as Person, status] as const),
);

describe('role matrix', () => {
  it.each(cases)('%s as %s: %i', async (op, who, status) => {
    const g = await freshGroup();
    const res = await (OPS[op] as Op)(who, g);
    expect(res.status).toBe(status);
    if (status === 403) {
      expect(res.body).toMatchObject({ code: 'forbidden', message: 'permission denied' });
      // Refused changes changed nothing.
      const check = await apiAs(gw.url, 'admin').call('GET', `/secrets/${g.secretId}`);
      expect(check.body.data.value).toBe(g.value);
    }
  });

  it('a viewer sees keys and metadata, never a value; an editor sees values', async () => {
    const g = await freshGroup();
    const asViewer = await apiAs(gw.url, 'carol').call('GET', `/secrets/${g.secretId}`);
    expectSchema('Secret', asViewer.body.data);
    expect(asViewer.body.data.value).toBeNull();
    expect(asViewer.body.data.secretVersions.every((v: { value: unknown }) => v.value === null)).toBe(true);
    const list = await apiAs(gw.url, 'carol').call('POST', '/secrets', { secretGroupId: g.id });
    expect(list.body.data.map((s: { value: unknown }) => s.value)).toEqual([null, null]);
    const asEditor = await apiAs(gw.url, 'bob').call('GET', `/secrets/${g.secretId}`);
    expect(asEditor.body.data.value).toBe(g.value);
  });

  it('without a role a group cannot be told from a missing one: both 403', async () => {
    const g = await freshGroup();
    const existing = await apiAs(gw.url, 'dave').call('GET', `/secret-groups/${g.id}`);
    const missing = await apiAs(gw.url, 'dave').call('GET', '/secret-groups/sg_doesnotexist');
    expect([existing.status, missing.status]).toEqual([403, 403]);
    expect(existing.body.message).toBe(missing.body.message);
    const missingSecret = await apiAs(gw.url, 'dave').call('GET', '/secrets/sec_doesnotexist');
    expect(missingSecret.status).toBe(403);
  });

  it('lists show only the groups a subject has a role on; the creator is admin', async () => {
    const g = await freshGroup();
    const mine = await apiAs(gw.url, 'dave').call('POST', '/secret-groups', {
      name: 'daves-own',
      integrationId: 'default',
      secrets: [{ key: 'D', value: secretValue() }],
    });
    expect(mine.status).toBe(200);
    expect(mine.body.data.manifest.collaborators).toEqual([
      { role_id: 'secret-group-admin', subject: 'serviceaccount:dave' },
    ]);
    const seen = await apiAs(gw.url, 'dave').call('GET', '/secret-groups?limit=1000');
    expect(seen.body.data.map((x: { name: string }) => x.name)).toEqual(['daves-own']);
    const bobSees = await apiAs(gw.url, 'bob').call('GET', '/secret-groups?limit=1000');
    expect(bobSees.body.data.map((x: { name: string }) => x.name)).toContain(g.name);
    expect(bobSees.body.data.map((x: { name: string }) => x.name)).not.toContain('daves-own');
    const all = await apiAs(gw.url, 'admin').call('GET', '/secret-groups?limit=1000');
    // A tenant admin sees every group: each made here, less the two the delete-group cases removed.
    expect(all.body.pagination.total).toBe(n + 1 - 2);
  });
});

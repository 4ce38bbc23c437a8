import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVaultEmulator, type VaultEmulator } from '@secret-gateway/emulators/vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, startGateway } from '../src/index.ts';

// Secret groups on two integrations at once (the embedded store and Vault on its emulator), with
// the real gateway bin: routing of /secrets by group prefix and by static mount, and a backend
// failure halfway through a group update leaving the group exactly as it was.
const ADMIN_TOKEN = `admin-${randomBytes(12).toString('hex')}`;
const VAULT_TOKEN = `vault-${randomBytes(8).toString('hex')}`;
let emu: VaultEmulator;
let gw: GatewayProcess;
let gatewayEnv: { dataDir: string; env: Record<string, string> };
const values: string[] = [];
const value = (label: string) => {
  const v = `${label}-${randomBytes(8).toString('hex')}`;
  values.push(v);
  return v;
};

beforeAll(async () => {
  emu = await startVaultEmulator();
  emu.tokens.grant(VAULT_TOKEN, [
    { path: 'secret/data/tfy-secret/*', capabilities: ['create', 'read', 'update'] },
    { path: 'secret/metadata/tfy-secret/*', capabilities: ['create', 'read', 'update', 'delete'] },
    { path: 'secret/destroy/tfy-secret/*', capabilities: ['update'] },
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'sgw-groups-e2e-'));
  // YAML is a superset of JSON.
  const config = join(dir, 'gateway.yaml');
  writeFileSync(
    config,
    JSON.stringify({
      tenant: 'acme',
      subjects: [
        {
          subject: 'user:admin@example.com',
          tokenSha256: createHash('sha256').update(ADMIN_TOKEN).digest('hex'),
          tenantAdmin: true,
        },
      ],
      integrations: [
        { id: 'embedded', backend: 'sqlite', default: true },
        // The token comes from the environment, not the file.
        {
          id: 'vault',
          backend: 'vault',
          settings: { VAULT_ADDR: emu.url, VAULT_TOKEN: '${E2E_VAULT_TOKEN}' },
        },
      ],
      mounts: [{ prefix: 'tfy-secret/legacy', integration: 'vault' }],
    }),
  );
  gatewayEnv = { dataDir: dir, env: { SGW_CONFIG: config, E2E_VAULT_TOKEN: VAULT_TOKEN, SGW_CACHE: 'off' } };
  gw = await startGateway(gatewayEnv);
});

afterAll(async () => {
  await gw?.stop();
  await emu?.stop();
  // No value reached the gateway's output.
  for (const v of values) expect(gw.output().includes(v)).toBe(false);
});

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${gw.url}/api/svc/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function contract(method: 'GET' | 'PUT', path: string, v?: string) {
  const res =
    method === 'GET'
      ? await fetch(`${gw.url}/secrets?path=${path}`, { headers: { [gw.headerName]: gw.apiKey } })
      : await fetch(`${gw.url}/secrets`, {
          method: 'PUT',
          headers: { [gw.headerName]: gw.apiKey, 'Content-Type': 'application/json' },
          body: JSON.stringify({ path, value: v }),
        });
  return { status: res.status, body: (await res.json()) as { value?: string; version?: number } };
}

/** What Vault itself holds at a gateway path (the emulator's backdoor), or undefined. */
const inVault = (path: string) => emu.state.secrets.get(path);

describe('two integrations', () => {
  it('lists both, checks both in /readyz', async () => {
    const accounts = await api('GET', '/provider-accounts?type=secret-store');
    expect(accounts.body.data.map((a: { id: string }) => a.id)).toEqual(['embedded', 'vault']);
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { integrations: unknown }).integrations).toEqual({
      embedded: { backend: 'sqlite', status: 'ready' },
      vault: { backend: 'vault', status: 'ready' },
    });
  });

  it("a group's values live on its integration, and /secrets reads them there", async () => {
    const onVault = value('v');
    const onDisk = value('d');
    const a = await api('POST', '/secret-groups', {
      name: 'on-vault',
      integrationId: 'vault',
      secrets: [{ key: 'K', value: onVault }],
    });
    const b = await api('POST', '/secret-groups', {
      name: 'on-disk',
      integrationId: 'embedded',
      secrets: [{ key: 'K', value: onDisk }],
    });
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(inVault('tfy-secret/acme/on-vault/K')).toBeDefined();
    expect(inVault('tfy-secret/acme/on-disk/K')).toBeUndefined();
    expect((await contract('GET', 'tfy-secret/acme/on-vault/K')).body).toMatchObject({
      value: onVault,
      version: 1,
    });
    expect((await contract('GET', 'tfy-secret/acme/on-disk/K')).body).toMatchObject({
      value: onDisk,
      version: 1,
    });
    // A write through /secrets under the Vault group goes to Vault and joins the group.
    expect((await contract('PUT', 'tfy-secret/acme/on-vault/NEW', value('n'))).status).toBe(200);
    expect(inVault('tfy-secret/acme/on-vault/NEW')).toBeDefined();
    const group = await api('GET', `/secret-groups/${a.body.data.id}`);
    expect(group.body.data.associatedSecrets.map((s: { name: string }) => s.name)).toEqual(['K', 'NEW']);
  });

  it('paths under a static mount go to its integration, others to the default', async () => {
    expect((await contract('PUT', 'tfy-secret/legacy/app/TOKEN', value('l'))).status).toBe(200);
    expect(inVault('tfy-secret/legacy/app/TOKEN')).toBeDefined();
    expect((await contract('PUT', 'tfy-secret/other/app/TOKEN', value('o'))).status).toBe(200);
    expect(inVault('tfy-secret/other/app/TOKEN')).toBeUndefined();
    expect((await contract('GET', 'tfy-secret/other/app/TOKEN')).status).toBe(200);
  });
});

describe('a backend failure halfway through a group update', () => {
  it('leaves every value and the key set as they were; the same update succeeds once the backend is back', async () => {
    const [a1, b1, c1] = [value('a1'), value('b1'), value('c1')];
    const created = await api('POST', '/secret-groups', {
      name: 'halfway',
      integrationId: 'vault',
      secrets: [
        { key: 'A', value: a1 },
        { key: 'B', value: b1 },
        { key: 'C', value: c1 },
      ],
    });
    expect(created.status).toBe(200);
    const id = created.body.data.id;
    const [a2, b2, d1] = [value('a2'), value('b2'), value('d1')];
    // The write of the new key D fails (every attempt); A and B's writes succeed first or alongside.
    emu.faults.set({ status: 500, match: '/data/tfy-secret/acme/halfway/D' });
    const update = {
      secrets: [
        { key: 'A', value: a2 },
        { key: 'B', value: b2 },
        { key: 'D', value: d1 },
      ],
    };
    const failed = await api('PUT', `/secret-groups/${id}`, update);
    expect(failed.status).toBe(503);
    expect(emu.faults.injected).toBeGreaterThan(0);
    emu.faults.clear();

    // As it was: the same latest values and versions, C still there, D absent, the same keys.
    expect((await contract('GET', 'tfy-secret/acme/halfway/A')).body).toMatchObject({
      value: a1,
      version: 1,
    });
    expect((await contract('GET', 'tfy-secret/acme/halfway/B')).body).toMatchObject({
      value: b1,
      version: 1,
    });
    expect((await contract('GET', 'tfy-secret/acme/halfway/C')).body).toMatchObject({
      value: c1,
      version: 1,
    });
    expect((await contract('GET', 'tfy-secret/acme/halfway/D')).status).toBe(404);
    const same = await api('GET', `/secret-groups/${id}`);
    expect(same.body.data.associatedSecrets.map((s: { name: string }) => s.name)).toEqual(['A', 'B', 'C']);

    const retried = await api('PUT', `/secret-groups/${id}`, update);
    expect(retried.status).toBe(200);
    expect(retried.body.data.associatedSecrets.map((s: { name: string }) => s.name)).toEqual(['A', 'B', 'D']);
    expect((await contract('GET', 'tfy-secret/acme/halfway/A')).body.value).toBe(a2);
    expect((await contract('GET', 'tfy-secret/acme/halfway/C')).status).toBe(404);
    expect((await contract('GET', 'tfy-secret/acme/halfway/D')).body).toMatchObject({
      value: d1,
      version: 1,
    });
  });
});

describe('a value whose delete fails', () => {
  it('stays queued in the metadata store and is deleted after a restart', async () => {
    const created = await api('POST', '/secret-groups', {
      name: 'leftover',
      integrationId: 'vault',
      secrets: [
        { key: 'A', value: value('a') },
        { key: 'B', value: value('b') },
      ],
    });
    expect(created.status).toBe(200);
    // Every delete of B's metadata fails while the fault is set.
    emu.faults.set({ status: 500, match: 'DELETE /v1/secret/metadata/tfy-secret/acme/leftover/B' });
    const update = await api('PUT', `/secret-groups/${created.body.data.id}`, { secrets: [{ key: 'A' }] });
    expect(update.status).toBe(200);
    expect(update.body.data.associatedSecrets.map((s: { name: string }) => s.name)).toEqual(['A']);
    // The delete failed: B's value is still in Vault, though B left the group.
    expect(inVault('tfy-secret/acme/leftover/B')).toBeDefined();
    expect(await gw.stop()).toBe(0);
    emu.faults.clear();
    gw = await startGateway({ ...gatewayEnv, apiKey: gw.apiKey });
    await expect.poll(() => inVault('tfy-secret/acme/leftover/B'), { timeout: 20_000 }).toBeUndefined();
    expect(inVault('tfy-secret/acme/leftover/A')).toBeDefined();
  });
});

describe('restart', () => {
  it('groups, their keys and their routing survive a restart on the same data directory', async () => {
    const before = await api('GET', '/secret-groups?limit=1000');
    expect(before.body.data.length).toBeGreaterThan(0);
    const output = gw.output();
    expect(await gw.stop()).toBe(0);
    gw = await startGateway({ ...gatewayEnv, apiKey: gw.apiKey });
    const after = await api('GET', '/secret-groups?limit=1000');
    expect(after.body).toEqual(before.body);
    // The Vault group's path still routes to Vault after the index is rebuilt from the store.
    expect((await contract('GET', 'tfy-secret/acme/on-vault/K')).status).toBe(200);
    for (const v of values) expect(output.includes(v)).toBe(false);
  });
});

import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/auth.ts';
import { loadConfig } from '../src/config.ts';
import { checkNoValueInLogs, errorOf, secretValue, startTestGateway, type TestGateway } from './helpers.ts';

// Scoped keys: each operation x in scope / out of scope, a read-only gateway, rotation, 401 vs 403.
const KEYS = {
  admin: 'admin-key-0123456789abcdef',
  reader: 'reader-key-0123456789abcdef',
  writer: 'writer-key-0123456789abcdef',
  deleter: 'deleter-key-0123456789abcdef',
};
const file = {
  auth: {
    keys: [
      { name: 'admin', sha256: sha256Hex(KEYS.admin) },
      {
        name: 'reader',
        sha256: sha256Hex(KEYS.reader),
        operations: ['read'],
        prefixes: ['tfy-secret/acme/'],
      },
      {
        name: 'writer',
        sha256: sha256Hex(KEYS.writer),
        operations: ['write'],
        prefixes: ['tfy-secret/acme/'],
      },
      {
        name: 'deleter',
        sha256: sha256Hex(KEYS.deleter),
        operations: ['delete'],
        prefixes: ['tfy-secret/acme/'],
      },
    ],
  },
};

checkNoValueInLogs();
let gw: TestGateway;
let readOnly: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ SGW_API_KEY: '' }, file);
  readOnly = await startTestGateway({ SGW_API_KEY: '', SGW_READ_ONLY: 'true' }, file);
});
afterAll(async () => {
  await gw.shutdown();
  await readOnly.shutdown();
});

const IN = 'tfy-secret/acme/prod/db';
const OUT = 'tfy-secret/other/prod/db';

function as(target: TestGateway, key: string) {
  const headers = { 'X-API-Key': key, 'Content-Type': 'application/json' };
  return {
    read: (path: string) => fetch(`${target.url}/secrets?path=${path}`, { headers }),
    write: (path: string) =>
      fetch(`${target.url}/secrets`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ path, value: secretValue() }),
      }),
    delete: (path: string) =>
      fetch(`${target.url}/secrets`, {
        method: 'DELETE',
        headers,
        body: JSON.stringify({ path, version: 1 }),
      }),
  };
}

describe('scoped keys', () => {
  const ops = ['read', 'write', 'delete'] as const;
  for (const role of ['reader', 'writer', 'deleter'] as const) {
    for (const op of ops) {
      const allowed = role.startsWith(op.slice(0, 4));
      it(`${role} ${op} in scope: ${allowed ? 'allowed' : '403'}; out of scope: 403`, async () => {
        for (const path of [IN, OUT]) {
          await as(gw, KEYS.admin).write(path);
          const res = await as(gw, KEYS[role])[op](path);
          if (allowed && path === IN) {
            expect(res.status).toBe(200);
          } else {
            expect(res.status).toBe(403);
            expect(await errorOf(res)).toEqual({
              statusCode: 403,
              code: 'forbidden',
              message: `key ${role} may not ${op} ${path}`,
            });
          }
        }
      });
    }
  }

  it('a key scoped to a prefix cannot reach a sibling that shares the prefix text', async () => {
    await as(gw, KEYS.admin).write('tfy-secret/acme-evil/x');
    expect((await as(gw, KEYS.reader).read('tfy-secret/acme-evil/x')).status).toBe(403);
  });

  it('any key that may read passes the connectivity check; a write-only key does not', async () => {
    expect((await as(gw, KEYS.reader).read('tfy-secret')).status).toBe(200);
    expect((await as(gw, KEYS.writer).read('tfy-secret')).status).toBe(403);
  });

  it('a missing or wrong key is 401, a valid key out of scope is 403', async () => {
    expect((await as(gw, 'not-a-key-0123456789').read(IN)).status).toBe(401);
    expect((await fetch(`${gw.url}/secrets?path=${IN}`)).status).toBe(401);
    expect((await as(gw, KEYS.reader).read(OUT)).status).toBe(403);
  });
});

describe('read-only gateway', () => {
  it('refuses every write and delete with 403, whatever the key, and still serves reads', async () => {
    for (const key of [KEYS.admin, KEYS.writer, KEYS.deleter]) {
      const write = await as(readOnly, key).write(IN);
      expect(write.status).toBe(403);
      expect((await errorOf(write)).message).toBe('this gateway is read-only');
      expect((await as(readOnly, key).delete(IN)).status).toBe(403);
    }
    expect((await as(readOnly, KEYS.reader).read(IN)).status).toBe(404);
    expect((await as(readOnly, KEYS.admin).read('tfy-secret')).status).toBe(200);
  });
});

describe('rotation', () => {
  it('two keys are valid at once; after the old one is removed it is refused', async () => {
    const oldKey = 'old-key-0123456789abcdef';
    const newKey = 'new-key-0123456789abcdef';
    const both = await startTestGateway(
      { SGW_API_KEY: '' },
      {
        auth: {
          keys: [
            { name: 'old', sha256: sha256Hex(oldKey) },
            { name: 'new', sha256: sha256Hex(newKey) },
          ],
        },
      },
    );
    try {
      expect((await as(both, oldKey).write(IN)).status).toBe(200);
      expect((await as(both, newKey).read(IN)).status).toBe(200);
    } finally {
      await both.shutdown();
    }
    const rotated = await startTestGateway(
      { SGW_API_KEY: '' },
      { auth: { keys: [{ name: 'new', sha256: sha256Hex(newKey) }] } },
    );
    try {
      expect((await as(rotated, oldKey).read(IN)).status).toBe(401);
      expect((await as(rotated, newKey).read('tfy-secret')).status).toBe(200);
    } finally {
      await rotated.shutdown();
    }
  });
});

describe('keys in configuration', () => {
  it('the file holds hashes only: a plain key there is refused at start-up', () => {
    expect(() =>
      loadConfig({}, { auth: { keys: [{ name: 'plain', key: 'plain-key-0123456789' }] } }),
    ).toThrow(/plain keys are not accepted in the file; use sha256/);
  });

  it('a malformed hash or an unknown operation names the field', () => {
    expect(() => loadConfig({}, { auth: { keys: [{ name: 'k', sha256: 'abc' }] } })).toThrow(
      /auth\.keys\.0\.sha256: must be the lower-case hex SHA-256/,
    );
    expect(() =>
      loadConfig(
        {},
        { auth: { keys: [{ name: 'k', sha256: sha256Hex('x'.repeat(20)), operations: ['admin'] }] } },
      ),
    ).toThrow(/auth\.keys\.0\.operations\.0/);
  });

  it('SGW_API_KEY from the environment adds a full-scope key named env', () => {
    const config = loadConfig({ SGW_API_KEY: 'e'.repeat(20) });
    expect(config.auth.keys).toEqual([
      { name: 'env', key: 'e'.repeat(20), operations: ['read', 'write', 'delete'] },
    ]);
  });
});

describe('several keys on one keep-alive connection', () => {
  /** GET requests down a single socket, one after another; each answer says whether the socket was reused. */
  async function onOneSocket(target: TestGateway, keys: string[]): Promise<Array<[number, boolean]>> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const answers: Array<[number, boolean]> = [];
    try {
      for (const key of keys) {
        answers.push(
          await new Promise((resolve, reject) => {
            const req = request(`${target.url}/secrets?path=${IN}`, { agent, headers: { 'X-API-Key': key } });
            req.on('response', (res) => {
              res.resume();
              res.on('end', () => resolve([res.statusCode ?? 0, req.reusedSocket]));
            });
            req.on('error', reject);
            req.end();
          }),
        );
      }
    } finally {
      agent.destroy();
    }
    return answers;
  }

  it('each request is judged by the key it carries, not by the one before it on the connection', async () => {
    expect((await as(gw, KEYS.admin).write(IN)).status).toBe(200);
    const sequence = [
      KEYS.admin,
      KEYS.writer,
      `${KEYS.admin}x`,
      KEYS.admin.slice(0, -1),
      KEYS.reader,
      KEYS.admin,
    ];
    const answers = await onOneSocket(gw, sequence);
    // admin reads, writer may not read (403), near-misses of the admin key are refused (401).
    expect(answers.map(([status]) => status)).toEqual([200, 403, 401, 401, 200, 200]);
    expect(answers.slice(1).every(([, reused]) => reused)).toBe(true);
  });
});

// The secret-groups API scenarios of `pnpm bench` (group g): 10,000 groups listed a page at a time,
// one group of 50 secrets read with its keys, and that group's 50 values read in one call. Kept out
// of run.mjs so the runner stays about the GET/PUT contract; run.mjs passes its helpers in.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const GROUPS = 10_000;
export const BIG_GROUP_SECRETS = 50;
const PAGE = 100;
const SEED_CONCURRENCY = 32;
// Not a secret: a bench-only tenant admin of a throwaway data dir (SGW_ADMIN_TOKEN needs >= 16 chars).
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
const TENANT = 'bench';

async function call(base, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/**
 * Seeds through the API itself (so the values are on the backend and the metadata is what the
 * gateway writes): GROUPS groups of 2 keys each, created 32 at a time, and one group `big` of 50.
 * The data dir is cached between runs, like the 1M store of (c).
 */
async function seed(base) {
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < GROUPS) {
      const i = next++;
      await call(base, 'POST', '/api/svc/v1/secret-groups', {
        name: `g${String(i).padStart(5, '0')}`,
        integrationId: 'default',
        secrets: [
          { key: 'DATABASE_URL', value: `postgres://db-${i}.internal/app` },
          { key: 'API_TOKEN', value: `token-${i}-${'x'.repeat(24)}` },
        ],
      });
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
  await call(base, 'POST', '/api/svc/v1/secret-groups', {
    name: 'big',
    integrationId: 'default',
    secrets: Array.from({ length: BIG_GROUP_SECRETS }, (_, k) => ({
      key: `KEY_${String(k).padStart(2, '0')}`,
      value: `value-${k}-${'x'.repeat(24)}`,
    })),
  });
  return (Date.now() - started) / 1000;
}

/**
 * Starts a gateway on the cached groups data dir (seeding it first when missing) and measures
 * (g-list), (g-read) and (g-values) with `measure` (rounds alternating with (a), as every scenario).
 */
// A page of 100 groups takes milliseconds (100 groups' rows, keys and ~100 KB of JSON), so wrk's
// 2 s timeout would be hit at 32 connections on a loaded machine: each g scenario allows 10 s.
export async function groupScenarios({ cacheDir, port, gatewayBin, startServer, measure, wrkScript, sleep }) {
  const dir = join(cacheDir, `groups-${GROUPS}`);
  const keyFile = join(dir, 'key');
  const seeded = existsSync(join(dir, 'seeded'));
  if (!seeded) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(keyFile, randomBytes(32).toString('base64'));
  }
  const base = `http://127.0.0.1:${port}`;
  const child = await startServer(
    'gateway (groups)',
    ['node', gatewayBin],
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      SGW_API_KEY: 'bench-key-0123456789abcdef',
      SGW_MASTER_KEY: readFileSync(keyFile, 'utf8'),
      SGW_DATA_DIR: dir,
      SGW_ADMIN_TOKEN: ADMIN_TOKEN,
      SGW_TENANT: TENANT,
    },
    base,
  );
  let seedSeconds;
  if (!seeded) {
    console.error(`seeding ${GROUPS} secret groups through the API (cached in ${dir})...`);
    seedSeconds = await seed(base);
    writeFileSync(join(dir, 'seeded'), `${new Date().toISOString()}\n`);
    console.error(`seeded in ${seedSeconds.toFixed(1)} s`);
  }
  const found = await call(base, 'GET', `/api/svc/v1/secret-groups?fqn=${TENANT}:big`);
  const bigId = found.data[0]?.id;
  if (!bigId) throw new Error('the bench group "big" is missing from the cached data dir');
  const auth = `["Authorization"] = "Bearer ${ADMIN_TOKEN}"`;
  const pages = Math.ceil(GROUPS / PAGE);
  const listScript = wrkScript(
    'groups-list',
    `math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/svc/v1/secret-groups?limit=${PAGE}&offset=" .. (math.random(0, ${pages - 1}) * ${PAGE}), { ${auth} })
end`,
  );
  const valuesScript = wrkScript(
    'groups-values',
    `request = function()
  return wrk.format("POST", "/api/svc/v1/secrets", { ${auth}, ["Content-Type"] = "application/json" },
    '{"secretGroupId":"${bigId}","limit":${BIG_GROUP_SECRETS},"offset":0}')
end`,
  );
  const readScript = wrkScript(
    'groups-read',
    `request = function()
  return wrk.format("GET", "/api/svc/v1/secret-groups/${bigId}", { ${auth} })
end`,
  );
  measure(
    'g-list',
    `groups: list of ${GROUPS.toLocaleString('en')}, ${PAGE} a page`,
    base,
    { script: listScript, header: false, timeout: '10s' },
    child,
  );
  measure(
    'g-read',
    `groups: GET a group of ${BIG_GROUP_SECRETS} keys`,
    base,
    { script: readScript, header: false, timeout: '10s' },
    child,
  );
  measure(
    'g-values',
    `groups: POST /secrets, ${BIG_GROUP_SECRETS} values`,
    base,
    { script: valuesScript, header: false, timeout: '10s' },
    child,
  );
  child.kill();
  await sleep(300);
  return { seedSeconds };
}

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmulatorHandle } from '@secret-gateway/emulators';
import { type AwsEmulator, startAwsEmulator } from '@secret-gateway/emulators/aws';
import { type AzureEmulator, startAzureEmulator } from '@secret-gateway/emulators/azure';
import { type GcpEmulator, startGcpEmulator } from '@secret-gateway/emulators/gcp';
import { startVaultEmulator, type VaultEmulator } from '@secret-gateway/emulators/vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, startGateway } from '../src/index.ts';

// The fault matrix of issue 13: for each backend on its emulator, wrong credentials, denied, slow
// and unreachable (last: the emulator is stopped). One gateway per backend; the emulator is
// reconfigured between cases. In every case: /readyz 503 naming the backend and the cause, the
// root check non-200, real requests 502/503 with a generic body, the cause in the log, and the
// process alive.
const TIMEOUT_MS = 400;
const COMMON = { SGW_BACKEND_TIMEOUT_MS: String(TIMEOUT_MS), SGW_CACHE: 'off' };
/** The gateway's generic answers to a failed backend call: a reason word and the request id, no backend text. */
const GENERIC =
  /^the backend (is unavailable \((timeout|unreachable|throttled|server_error|busy)\); retry later|refused or failed the request; the gateway's log has the cause) \(request id [^)\s]+\)$/;

interface Case {
  name: string;
  apply: () => unknown;
  clear?: () => void;
  /** What /readyz's message must say after `<backend> backend not ready: `. */
  cause: RegExp;
  /** Read and write: 502 for a refusal, 503 for an outage. */
  status: 502 | 503;
}

const auth = (gw: GatewayProcess) => ({ [gw.headerName]: gw.apiKey });

async function readyz(gw: GatewayProcess) {
  const res = await fetch(`${gw.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { code?: string; message?: string } };
}

/** Waits for /readyz 200 again after a fault is cleared (checks are not cached, so this is quick). */
async function readyAgain(gw: GatewayProcess) {
  for (let i = 0; i < 50; i++) {
    if ((await readyz(gw)).status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready again:\n${gw.output().slice(-2000)}`);
}

async function expectFault(gw: () => GatewayProcess, backend: string, c: Case) {
  const g = gw();
  const logBefore = g.output().length;
  const ready = await readyz(g);
  expect(ready.status).toBe(503);
  expect(ready.body.code).toBe('backend_unavailable');
  expect(ready.body.message).toMatch(new RegExp(`^${backend} backend not ready: `));
  expect(ready.body.message).toMatch(c.cause);

  const root = await fetch(`${g.url}/secrets?path=tfy-secret`, { headers: auth(g) });
  expect(root.status).not.toBe(200);
  expect(((await root.json()) as { message: string }).message).toMatch(c.cause);

  const path = `tfy-secret/faults/${backend}`;
  const answers = [
    await fetch(`${g.url}/secrets?path=${path}`, { headers: auth(g) }),
    await fetch(`${g.url}/secrets`, {
      method: 'PUT',
      headers: { ...auth(g), 'Content-Type': 'application/json' },
      body: JSON.stringify({ path, value: 'matrix-value-do-not-log' }),
    }),
  ];
  for (const res of answers) {
    const requestId = res.headers.get('x-request-id');
    expect(res.status).toBe(c.status);
    const body = (await res.json()) as { message: string };
    expect(body.message).toMatch(GENERIC);
    if (requestId) expect(body.message).toContain(requestId);
  }

  // The operator's log has the cause: readiness's "not ready" line and the failed calls' warn lines.
  const log = g.output().slice(logBefore);
  const lines = log
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
  const causes = lines.map((l) => String(l.cause ?? '')).join('\n');
  expect(causes).toMatch(c.cause);
  const failed = lines.filter((l) => l.msg === 'backend call failed');
  expect(failed.length).toBeGreaterThanOrEqual(2);
  const errs = failed.map((l) => (l.error ?? {}) as { code?: string; backend?: string; operation?: string });
  expect(errs.every((e) => e.code?.startsWith('backend_'))).toBe(true);
  // Every cause names its backend and operation: the adapter's mapping, or core's deadline.
  expect(errs.every((e) => e.backend === backend && typeof e.operation === 'string')).toBe(true);
  expect(log).not.toContain('matrix-value-do-not-log');

  expect(g.child.exitCode).toBeNull();
  expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
}

/** Runs the cases in order on one gateway; each but the last is cleared and readiness comes back. */
function matrix(backend: string, gw: () => GatewayProcess, emu: () => EmulatorHandle, cases: () => Case[]) {
  const names = ['wrong credentials', 'denied', 'slow', 'unreachable'];
  it.each(names)(`${backend}: %s`, async (name) => {
    const c = cases().find((x) => x.name === name) as Case;
    await readyAgain(gw());
    await c.apply();
    try {
      await expectFault(gw, backend, c);
    } finally {
      c.clear?.();
      emu().faults.clear();
    }
    if (name !== 'unreachable') await readyAgain(gw());
  });
}

const slow = (emu: () => EmulatorHandle): Case => ({
  name: 'slow',
  apply: () => emu().faults.set({ latencyMs: TIMEOUT_MS * 10 }),
  cause: /did not answer check within 400 ms|deadline|timed out/,
  status: 503,
});
const unreachable = (emu: () => EmulatorHandle, cause: RegExp): Case => ({
  name: 'unreachable',
  apply: () => emu().stop(),
  cause,
  status: 503,
});

describe('fault matrix: vault', () => {
  let emu: VaultEmulator;
  let gw: GatewayProcess;
  const FULL = [
    { path: 'secret/data/tfy-secret/*', capabilities: ['create', 'read', 'update'] },
    { path: 'secret/metadata/tfy-secret/*', capabilities: ['create', 'read', 'update', 'delete'] },
    { path: 'secret/destroy/tfy-secret/*', capabilities: ['update'] },
  ];
  beforeAll(async () => {
    emu = await startVaultEmulator();
    emu.tokens.grant('gw-token', FULL);
    gw = await startGateway({
      env: { ...COMMON, SGW_BACKEND: 'vault', VAULT_ADDR: emu.url, VAULT_TOKEN: 'gw-token' },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await emu?.stop().catch(() => undefined);
  });
  matrix(
    'vault',
    () => gw,
    () => emu,
    () => [
      {
        name: 'wrong credentials',
        apply: () => emu.tokens.revoke('gw-token'),
        clear: () => emu.tokens.grant('gw-token', FULL),
        cause: /Vault denied check capabilities \(403\): check the token and its policy/,
        status: 502,
      },
      {
        name: 'denied',
        apply: () =>
          emu.tokens.grant('gw-token', [{ path: 'secret/metadata/tfy-secret/*', capabilities: ['list'] }]),
        clear: () => emu.tokens.grant('gw-token', FULL),
        cause:
          /Vault denies create, read, update on secret\/data\/tfy-secret\/\*.*: check the token's policy/,
        status: 502,
      },
      slow(() => emu),
      unreachable(() => emu, /Vault health check: not reachable \(ECONNREFUSED\)/),
    ],
  );
});

describe('fault matrix: aws', () => {
  let emu: AwsEmulator;
  let gw: GatewayProcess;
  beforeAll(async () => {
    emu = await startAwsEmulator();
    gw = await startGateway({
      env: {
        ...COMMON,
        SGW_BACKEND: 'aws',
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: emu.url,
        AWS_ACCESS_KEY_ID: 'AKIAGATEWAY',
        AWS_SECRET_ACCESS_KEY: 'test',
      },
    });
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    await emu?.stop().catch(() => undefined);
  });
  matrix(
    'aws',
    () => gw,
    () => emu,
    () => [
      {
        name: 'wrong credentials',
        apply: () => emu.state.accessKeyIds.add('AKIASOMEONEELSE'),
        clear: () => emu.state.accessKeyIds.clear(),
        cause: /AWS refused the credentials for describe \(UnrecognizedClientException\)/,
        status: 502,
      },
      {
        name: 'denied',
        apply: () => {
          for (const op of ['DescribeSecret', 'GetSecretValue', 'PutSecretValue', 'CreateSecret'])
            emu.state.denied.add(op);
        },
        clear: () => emu.state.denied.clear(),
        cause: /AWS denied secretsmanager:DescribeSecret on tfy-secret\/@sgw-health: check the IAM policy/,
        status: 502,
      },
      slow(() => emu),
      unreachable(() => emu, /AWS describe: not reachable/),
    ],
  );
});

describe('fault matrix: gcp', () => {
  let emu: GcpEmulator;
  let gw: GatewayProcess;
  let noAdc: GatewayProcess;
  const gcpEnv = () => ({
    ...COMMON,
    SGW_BACKEND: 'gcp',
    GOOGLE_CLOUD_PROJECT: emu.project,
    SGW_GCP_ENDPOINT: emu.url,
  });
  beforeAll(async () => {
    emu = await startGcpEmulator();
    [gw, noAdc] = await Promise.all([
      startGateway({ env: { ...gcpEnv(), SGW_GCP_INSECURE: 'true', SGW_GCP_ACCESS_TOKEN: emu.token } }),
      // TLS and no access token: the SDK looks for Application Default Credentials, and finds none.
      startGateway({ env: { ...gcpEnv(), GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/key.json' } }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([gw?.stop(), noAdc?.stop()]);
    await emu?.stop().catch(() => undefined);
  });

  it('gcp: wrong credentials (no usable ADC): not ready with the cause, and the process survives', async () => {
    await expectFault(() => noAdc, 'gcp', {
      name: 'wrong credentials',
      apply: () => undefined,
      cause: /GCP credentials not found: set GOOGLE_APPLICATION_CREDENTIALS/,
      status: 502,
    });
    // Again: every call settles, none ends the process.
    expect((await readyz(noAdc)).status).toBe(503);
    expect(noAdc.child.exitCode).toBeNull();
  });

  describe('on the emulator', () => {
    const denied = ['GetSecret', 'AccessSecretVersion', 'AddSecretVersion', 'CreateSecret'];
    const cases = (): Case[] => [
      {
        name: 'wrong credentials',
        // A project the credentials cannot see answers PERMISSION_DENIED, as GCP does.
        apply: () => {
          for (const m of denied) emu.denied.add(m);
        },
        clear: () => emu.denied.clear(),
        // After a first full probe, readiness probes with AccessSecretVersion only (its own quota).
        cause: /GCP denied secretmanager\.(secrets\.get|versions\.access) in project/,
        status: 502,
      },
      {
        name: 'denied',
        apply: () => {
          for (const m of ['AccessSecretVersion', 'AddSecretVersion', 'CreateSecret']) emu.denied.add(m);
        },
        clear: () => emu.denied.clear(),
        cause: /GCP denied secretmanager\.versions\.access in project .*: check GOOGLE_CLOUD_PROJECT/,
        status: 502,
      },
      slow(() => emu),
      unreachable(
        () => emu,
        /GCP (GetSecret|AccessSecretVersion): unavailable \(UNAVAILABLE\)|did not answer/,
      ),
    ];
    matrix(
      'gcp',
      () => gw,
      () => emu,
      cases,
    );
  });
});

describe('fault matrix: azure', () => {
  let emu: AzureEmulator;
  let gw: GatewayProcess;
  beforeAll(async () => {
    emu = await startAzureEmulator();
    const caFile = join(mkdtempSync(join(tmpdir(), 'sgw-faults-')), 'ca.pem');
    writeFileSync(caFile, emu.certPem ?? '');
    gw = await startGateway({
      env: {
        ...COMMON,
        SGW_BACKEND: 'azure',
        AZURE_KEYVAULT_URL: emu.vaultUrl,
        SGW_AZURE_ACCESS_TOKEN: 'gw-token',
        SGW_AZURE_CA_FILE: caFile,
        SGW_AZURE_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: 'true',
        SGW_AZURE_MAX_RETRIES: '0',
      },
    });
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    await emu?.stop().catch(() => undefined);
  });
  matrix(
    'azure',
    () => gw,
    () => emu,
    () => [
      {
        name: 'wrong credentials',
        apply: () => emu.tokens.accepted.add('another-token'),
        clear: () => emu.tokens.accepted.clear(),
        cause: /Azure Key Vault check get: 401 Unauthorized: Key Vault refused the identity's token/,
        status: 502,
      },
      {
        name: 'denied',
        apply: () => emu.tokens.denied.add('gw-token'),
        clear: () => emu.tokens.denied.clear(),
        cause: /Azure Key Vault check get: 403 Forbidden: check the identity's role/,
        status: 502,
      },
      slow(() => emu),
      unreachable(() => emu, /Azure Key Vault check get: not reachable \(E[A-Z]+\)/),
    ],
  );
});

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, runSeedCurlSequence } from '../../test/src/index.ts';

// The image users build from docker/Dockerfile, built here with buildah (no Docker engine on these
// machines) and run the way a container runtime runs it: its own mount and PID namespaces, the
// image's user, entrypoint and environment, a read-only root filesystem and /data as a volume.
// `pnpm test:docker`; needs root, buildah and debootstrap (.ci/run installs them).

const ROOT = resolve(import.meta.dirname, '../..');
const TAG = 'localhost/secret-gateway:test';
const buildah = (...args: string[]) =>
  execFileSync('buildah', ['--storage-driver', 'vfs', ...args], { encoding: 'utf8' }).trim();

interface ImageConfig {
  User: string;
  Entrypoint: string[];
  Env: string[];
  Healthcheck?: { Test: string[] };
  Volumes?: Record<string, unknown>;
  StopSignal?: string;
}

interface Mounted {
  config: ImageConfig;
  container: string;
  rootfs: string;
}

/** Builds a target of docker/Dockerfile (the last stage unless named) and mounts a container of it. */
function buildAndMount(tag: string, target?: string): Mounted {
  execFileSync('bash', ['docker/build-image.sh', tag, ...(target ? [target] : [])], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  const inspected = JSON.parse(buildah('inspect', '--type', 'image', tag)) as {
    Docker: { config: ImageConfig };
  };
  const container = buildah('from', tag);
  return { config: inspected.Docker.config, container, rootfs: buildah('mount', container) };
}

let image: Mounted;
let config: ImageConfig;
let rootfs: string;
let sizeBytes: number;

beforeAll(() => {
  image = buildAndMount(TAG);
  ({ config, rootfs } = image);
  sizeBytes =
    Number(buildah('images', '--format', '{{.Size}}', '--noheading', TAG).replace(/[^\d.]/g, '')) * 1e6;
  console.log(`image ${TAG}: ${buildah('images', '--format', '{{.Size}}', '--noheading', TAG)}`);
}, 1_800_000);

afterAll(() => {
  if (image) buildah('rm', image.container);
});

interface Running {
  child: ChildProcess;
  output: () => string;
  /** The process's own pid (PID 1 in its namespace). */
  pid: () => number;
  exited: Promise<number | null>;
}

/**
 * Runs an image's entrypoint (with `args`) as its user in new mount and PID namespaces, with the
 * image's root re-mounted read-only, `data` (if given) bound at /data read-write, and /proc for the
 * namespace. The network is the host's, as two containers sharing one network namespace.
 */
function runImage(
  data: string | undefined,
  env: Record<string, string>,
  of: Mounted = image,
  args: string[] = [],
): Running {
  const imageEnv = of.config.Env.map((e) => e.split('=', 1)[0] as string).filter((k) => !(k in env));
  const pairs = [
    ...of.config.Env.filter((e) => imageEnv.includes(e.split('=', 1)[0] as string)),
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
  ];
  // The image's USER, resolved in the image's own /etc/passwd.
  const id = (flag: string) =>
    execFileSync('chroot', [of.rootfs, 'id', flag, of.config.User], { encoding: 'utf8' }).trim();
  const [uid, gid] = [id('-u'), id('-g')];
  const script = [
    'set -e',
    `R=${of.rootfs}`,
    'mount --bind "$R" "$R"',
    'mount -o remount,bind,ro "$R"',
    ...(data ? [`mount --bind ${data} "$R/data"`] : []),
    'mount -t proc proc "$R/proc"',
    'mount --rbind /dev "$R/dev"',
    // Proof for the test: nothing on the root can be written.
    '(touch "$R/.probe" 2>/dev/null && echo ROOT_WRITABLE) || echo ROOT_READ_ONLY',
    `exec chroot --userspec=${uid}:${gid} "$R" /usr/bin/env -i ${pairs.map((p) => `'${p}'`).join(' ')} ${[...of.config.Entrypoint, ...args].join(' ')}`,
  ].join('\n');
  const child = spawn('unshare', ['--mount', '--pid', '--fork', '--', 'sh', '-c', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const pid = () => Number(execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim());
  return { child, output: () => out, pid, exited };
}

async function waitHealthy(url: string, running: Running): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (running.child.exitCode !== null) throw new Error(`the gateway exited:\n${running.output()}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no /healthz:\n${running.output()}`);
}

describe('the image', () => {
  it('runs as a non-root user, with a health check, /data as a volume and the bin as entrypoint', () => {
    expect(config.User).toBe('node');
    expect(config.Entrypoint).toEqual(['node', '/app/bin/sgw-gateway.mjs']);
    expect(config.Healthcheck?.Test.join(' ')).toContain('/healthz');
    expect(Object.keys(config.Volumes ?? {})).toEqual(['/data']);
    expect(config.Env).toContain('SGW_DATA_DIR=/data');
    expect(sizeBytes).toBeGreaterThan(0);
  });

  it('has no compiler, no package manager cache and no dev dependency', () => {
    const found = execFileSync(
      'chroot',
      [
        rootfs,
        'sh',
        '-c',
        'for t in gcc g++ cc make python3 pnpm; do command -v $t; done; ls -d /root/.npm /root/.cache /root/.local/share/pnpm 2>/dev/null; true',
      ],
      { encoding: 'utf8' },
    );
    expect(found.trim()).toBe('');
    const store = execFileSync('ls', [join(rootfs, 'app/node_modules/.pnpm')], { encoding: 'utf8' });
    for (const dev of ['vitest', 'typescript', '@biomejs', 'supertest', 'fast-check']) {
      expect(store, dev).not.toMatch(new RegExp(`^${dev.replace('/', '\\/')}[@+]`, 'm'));
    }
  });

  it('serves the contract on a read-only root, stops on SIGTERM, and keeps its secrets across a restart on the same volume', async () => {
    const data = mkdtempSync(join(tmpdir(), 'sgw-image-data-'));
    chownSync(data, 1000, 1000);
    const port = 18000 + Math.floor(Math.random() * 1000);
    const url = `http://127.0.0.1:${port}`;
    const key = `image-key-${Math.random().toString(36).slice(2)}-0123456789`;
    const env = { PORT: String(port), SGW_API_KEY: key, SGW_SHUTDOWN_TIMEOUT_MS: '5000' };
    const headers = { 'X-API-Key': key, 'Content-Type': 'application/json' };
    const path = 'tfy-secret/acme/prod/db-password';

    const first = runImage(data, env);
    await waitHealthy(url, first);
    expect(first.output()).toContain('ROOT_READ_ONLY');
    // Non-root, as PID 1 of its namespace.
    const status = readFileSync(`/proc/${first.pid()}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+1000\s/m);
    expect(readFileSync(`/proc/${first.pid()}/status`, 'utf8')).toMatch(/^NSpid:\s+\d+\s+1$/m);

    // The seed's curl sequence: the root check, create, read, delete.
    const root = await fetch(`${url}/secrets?path=tfy-secret`, { headers });
    expect(await root.json()).toEqual({ path: 'tfy-secret', value: '' });
    const put = await fetch(`${url}/secrets`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ path, value: 'my-secret-value' }),
    });
    expect(await put.json()).toEqual({ path, version: 1 });
    const get = await fetch(`${url}/secrets?path=${path}`, { headers });
    expect(await get.json()).toEqual({ path, version: 1, value: 'my-secret-value' });
    const del = await fetch(`${url}/secrets`, { method: 'DELETE', headers, body: JSON.stringify({ path }) });
    expect(del.status).toBe(200);
    expect((await fetch(`${url}/secrets?path=${path}`, { headers })).status).toBe(404);
    const kept = await fetch(`${url}/secrets`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ path: 'tfy-secret/acme/prod/kept', value: 'survives' }),
    });
    expect(kept.status).toBe(200);

    // SIGTERM to the gateway (PID 1): it drains and exits 0 within its shutdown timeout.
    process.kill(first.pid(), 'SIGTERM');
    const code = await Promise.race([
      first.exited,
      new Promise((r) => setTimeout(() => r('still running'), 15_000)),
    ]);
    expect(code).toBe(0);
    expect(first.output()).toContain('"msg":"stopped"');

    const second = runImage(data, env);
    try {
      await waitHealthy(url, second);
      const back = await fetch(`${url}/secrets?path=tfy-secret/acme/prod/kept`, { headers });
      expect(await back.json()).toEqual({ path: 'tfy-secret/acme/prod/kept', version: 1, value: 'survives' });
    } finally {
      process.kill(second.pid(), 'SIGTERM');
      await second.exited;
    }
  }, 120_000);
});

describe('the emulators target', () => {
  let emulators: Mounted;
  beforeAll(() => {
    emulators = buildAndMount('localhost/secret-gateway-emulators:test', 'emulators');
  }, 1_800_000);
  afterAll(() => {
    if (emulators) buildah('rm', emulators.container);
  });

  it('runs an emulator as a non-root user on a read-only root, and the gateway image serves the contract against it', async () => {
    expect(emulators.config.User).toBe('node');
    expect(emulators.config.Entrypoint).toEqual(['node', '/emulators/bin/sgw-emulator.mjs']);
    const port = 19000 + Math.floor(Math.random() * 1000);
    // The aws profile of docker/compose.yaml, on a free port.
    const emu = runImage(undefined, {}, emulators, ['aws', '--port', String(port), '--region', 'us-east-1']);
    try {
      for (let i = 0; i < 300 && !emu.output().includes('"emulator":"aws"'); i++) {
        if (emu.child.exitCode !== null) throw new Error(`the emulator exited:\n${emu.output()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(emu.output()).toContain('ROOT_READ_ONLY');
      expect(readFileSync(`/proc/${emu.pid()}/status`, 'utf8')).toMatch(/^Uid:\s+1000\s/m);

      const data = mkdtempSync(join(tmpdir(), 'sgw-image-data-'));
      chownSync(data, 1000, 1000);
      const gwPort = port + 1000;
      const key = `image-key-${Math.random().toString(36).slice(2)}-0123456789`;
      const gw = runImage(data, {
        PORT: String(gwPort),
        SGW_API_KEY: key,
        SGW_BACKEND: 'aws',
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${port}`,
        AWS_ACCESS_KEY_ID: 'emulator',
        AWS_SECRET_ACCESS_KEY: 'emulator',
      });
      try {
        const url = `http://127.0.0.1:${gwPort}`;
        await waitHealthy(url, gw);
        expect((await fetch(`${url}/readyz`)).status).toBe(200);
        await runSeedCurlSequence(
          { url, apiKey: key, headerName: 'X-API-Key' } as GatewayProcess,
          'tfy-secret/acme/image/db-password',
        );
      } finally {
        process.kill(gw.pid(), 'SIGTERM');
        await gw.exited;
      }
    } finally {
      process.kill(emu.pid(), 'SIGTERM');
      await emu.exited;
    }
  }, 120_000);
});

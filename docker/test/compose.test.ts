import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { runSeedCurlSequence, startGateway } from '../../test/src/index.ts';

// docker/compose.yaml's emulator profiles, proven without a Docker engine: for each profile, the
// emulator service's command runs with the emulators' bin (the emulators image's entrypoint), its
// health check passes, and the gateway service's environment (env_file + environment, as compose
// merges them) passes `sgw-gateway config check` and then serves the seed curl sequence against it.
// Only the ports (free ones instead of the fixed ones) and the shared /certs volume are rewritten.

const ROOT = resolve(import.meta.dirname, '../..');
const GATEWAY_BIN = join(ROOT, 'apps/gateway/bin/sgw-gateway.mjs');
const EMULATOR_BIN = join(ROOT, 'packages/emulators/bin/sgw-emulator.mjs');
// yaml is the gateway's own dependency (config files); the repository root does not list it.
const { parse } = createRequire(join(ROOT, 'apps/gateway/package.json'))('yaml') as {
  parse: (text: string, options?: { merge?: boolean }) => unknown;
};
const run = promisify(execFile);

interface Service {
  image?: string;
  build?: { target?: string };
  profiles?: string[];
  command?: string[];
  ports?: string[];
  volumes?: string[];
  env_file?: string;
  environment?: Record<string, string>;
  network_mode?: string;
  read_only?: boolean;
  cap_drop?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
const compose = parse(readFileSync(join(ROOT, 'docker/compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;

/** An env file as compose reads it (KEY=VALUE lines, # comments); the example stands in for gateway.env. */
function envFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1] as string] = match[2] as string;
  }
  return env;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise((r) => server.close(r));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const children: ChildProcess[] = [];
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGTERM');
});

/** Starts the emulators' bin with `args` and waits for its JSON start line. */
async function startEmulator(args: string[]): Promise<{ url: string }> {
  const child = spawn(process.execPath, [EMULATOR_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolveLine, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"emulator"'));
      if (line) resolveLine(JSON.parse(line) as { url: string });
    });
    child.once('exit', (code) => reject(new Error(`emulator ${args[0]} exited with ${code}:\n${out}`)));
  });
}

describe('docker/compose.yaml', () => {
  it('runs the gateway on the embedded store by default: a named volume, the env file, read-only, no capabilities', () => {
    const gateway = services.gateway as Service;
    expect(gateway.profiles).toBeUndefined();
    expect(gateway.env_file).toBe('gateway.env');
    expect(gateway.volumes).toEqual(['gateway-data:/data']);
    expect(gateway.read_only).toBe(true);
    expect(gateway.cap_drop).toEqual(['ALL']);
    expect(gateway.environment?.SGW_BACKEND).toBeUndefined();
    expect(Object.keys(compose.volumes)).toContain('gateway-data');
  });

  for (const profile of ['vault', 'aws', 'gcp', 'azure']) {
    it(`profile ${profile}: the emulator command starts it and the gateway's environment passes config check and serves the contract`, async () => {
      const emulator = services[profile] as Service;
      const gateway = services[`gateway-${profile}`] as Service;
      expect(emulator.profiles).toEqual([profile]);
      expect(gateway.profiles).toEqual([profile]);
      expect(emulator.build?.target).toBe('emulators');
      expect(gateway.network_mode).toBe(`service:${profile}`);
      expect(gateway.depends_on?.[profile]?.condition).toBe('service_healthy');
      expect(gateway.read_only).toBe(true);
      expect(emulator.read_only).toBe(true);
      expect(emulator.command?.[0]).toBe(profile);

      // Compose's fixed port becomes a free one; the shared /certs volume a temporary folder.
      const command = emulator.command ?? [];
      const fixedPort = command[command.indexOf('--port') + 1] as string;
      const port = String(await freePort());
      const certs = mkdtempSync(join(tmpdir(), 'sgw-compose-certs-'));
      const rewrite = (s: string) =>
        s.replaceAll(`127.0.0.1:${fixedPort}`, `127.0.0.1:${port}`).replace(/^\/certs/, certs);
      const args = command.map((a) => (a === fixedPort ? port : rewrite(a)));
      await startEmulator(args);

      // The emulator's health check, as compose would run it (after `CMD node`).
      const health = emulator.healthcheck?.test ?? [];
      expect(health.slice(0, 2)).toEqual(['CMD', 'node']);
      await run(
        process.execPath,
        health.slice(2).map((a) => (a === fixedPort ? port : rewrite(a))),
      );

      const env = Object.fromEntries(
        Object.entries({ ...envFile(join(ROOT, 'docker/gateway.env.example')), ...gateway.environment }).map(
          ([k, v]) => [k, rewrite(String(v))],
        ),
      );
      const dataDir = mkdtempSync(join(tmpdir(), 'sgw-compose-data-'));
      const check = await run(process.execPath, [GATEWAY_BIN, 'config', 'check'], {
        env: { PATH: process.env.PATH, SGW_DATA_DIR: dataDir, ...env },
      });
      expect(check.stdout).toContain(`configuration is valid: backend ${profile}`);

      const gw = await startGateway({ env, apiKey: env.SGW_API_KEY, dataDir });
      stops.push(gw.stop);
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
      await runSeedCurlSequence(gw, `tfy-secret/compose/${profile}/db-password`);
    }, 120_000);
  }
});

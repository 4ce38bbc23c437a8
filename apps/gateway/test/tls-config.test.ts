import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect } from 'node:tls';
import { MemoryAdapter } from '@secret-gateway/adapter-memory';
import type { GatewaySettings } from '@secret-gateway/core';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/auth.ts';
import { BACKENDS } from '../src/backends.ts';
import { cacheEnabled, loadConfig } from '../src/config.ts';
import { checkNoValueInLogs, secretValue, startTestGateway } from './helpers.ts';

checkNoValueInLogs();
const BIN = resolve(import.meta.dirname, '../bin/sgw-gateway.mjs');

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makePki(dir: string, serverName = 'server') {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=sgw-test-ca',
  );
  for (const [name, ext] of [
    [serverName, 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    );
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  }
  return (f: string) => join(dir, f);
}

function httpsGet(
  url: string,
  options: { ca: Buffer; key?: Buffer; cert?: Buffer; headers?: Record<string, string> },
) {
  return new Promise<{ status: number; body: string }>((resolveRes, reject) => {
    const req = request(url, { ...options, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolveRes({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function peerCertificateSerial(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolveSerial, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca }, () => {
      resolveSerial(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgw-tls-'));
  const f = makePki(dir);
  const ca = readFileSync(f('ca.crt'));

  it('serves the API over HTTPS', async () => {
    const gw = await startTestGateway({ SGW_TLS_CERT: f('server.crt'), SGW_TLS_KEY: f('server.key') });
    try {
      expect(gw.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const value = secretValue('tls');
      const put = await new Promise<number>((resolvePut, reject) => {
        const req = request(
          `${gw.url}/secrets`,
          { method: 'PUT', ca, headers: { ...gw.headers, 'Content-Type': 'application/json' } },
          (res) => {
            res.resume();
            resolvePut(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ path: 'tfy-secret/tls/a', value }));
      });
      expect(put).toBe(200);
      const got = await httpsGet(`${gw.url}/secrets?path=tfy-secret/tls/a`, { ca, headers: gw.headers });
      expect(JSON.parse(got.body)).toEqual({ path: 'tfy-secret/tls/a', version: 1, value });
      await expect(httpsGet(`${gw.url}/healthz`, { ca: readFileSync(f('client.crt')) })).rejects.toThrow();
    } finally {
      await gw.shutdown();
    }
  });

  it('with client certificates required, refuses a client without one and serves one with it', async () => {
    const gw = await startTestGateway({
      SGW_TLS_CERT: f('server.crt'),
      SGW_TLS_KEY: f('server.key'),
      SGW_TLS_CLIENT_CA: f('ca.crt'),
      SGW_TLS_REQUIRE_CLIENT_CERT: 'true',
    });
    try {
      await expect(httpsGet(`${gw.url}/healthz`, { ca })).rejects.toThrow();
      const ok = await httpsGet(`${gw.url}/secrets?path=tfy-secret`, {
        ca,
        key: readFileSync(f('client.key')),
        cert: readFileSync(f('client.crt')),
        headers: gw.headers,
      });
      expect(ok.status).toBe(200);
    } finally {
      await gw.shutdown();
    }
  });

  it('reloads the certificate (what SIGHUP triggers) without dropping the listener', async () => {
    const live = mkdtempSync(join(tmpdir(), 'sgw-tls-live-'));
    const g = makePki(live);
    const gw = await startTestGateway({ SGW_TLS_CERT: g('server.crt'), SGW_TLS_KEY: g('server.key') });
    try {
      const liveCa = readFileSync(g('ca.crt'));
      const port = Number(new URL(gw.url).port);
      const before = await peerCertificateSerial(port, liveCa);
      // Issue a new server certificate from the same CA over the files the gateway reads.
      execFileSync(
        'openssl',
        [
          'x509',
          '-req',
          '-in',
          'server.csr',
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-out',
          'server.crt',
          '-days',
          '3',
          '-extfile',
          'server.ext',
        ],
        { cwd: live, stdio: 'pipe' },
      );
      gw.reloadTls();
      const after = await peerCertificateSerial(port, liveCa);
      expect(after).not.toBe(before);
      expect((await httpsGet(`${gw.url}/healthz`, { ca: liveCa })).status).toBe(200);
    } finally {
      await gw.shutdown();
    }
  });
});

describe('configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgw-config-'));

  it('the read cache is on by default for every durable backend, off for memory, and obeys SGW_CACHE', () => {
    for (const backend of ['sqlite', 'vault', 'aws', 'gcp', 'azure']) {
      expect(cacheEnabled(loadConfig({ SGW_BACKEND: backend }))).toBe(true);
      expect(cacheEnabled(loadConfig({ SGW_BACKEND: backend, SGW_CACHE: 'off' }))).toBe(false);
    }
    expect(cacheEnabled(loadConfig({ SGW_BACKEND: 'memory' }))).toBe(false);
    expect(cacheEnabled(loadConfig({ SGW_BACKEND: 'memory', SGW_CACHE: 'on' }))).toBe(true);
  });

  it('environment variables override the file', () => {
    const config = loadConfig(
      { PORT: '9001', SGW_CACHE: 'on' },
      { port: 7000, backend: 'memory', cache: { ttlMs: 50 } },
    );
    expect(config.port).toBe(9001);
    expect(config.backend).toBe('memory');
    expect(config.cache).toMatchObject({ mode: 'on', ttlMs: 50 });
  });

  it.each([
    [{ port: 'x' }, {}, /port \(PORT\): Invalid input: expected number/],
    [{ cache: { mode: 'sometimes' } }, {}, /cache\.mode \(SGW_CACHE\)/],
    [{ portt: 1 }, {}, /Unrecognized key: "portt"/],
    [{ tls: { cert: 'a', key: 'b', requireClientCert: true } }, {}, /tls: requireClientCert needs clientCa/],
    [{}, { SGW_MAX_VALUE_BYTES: '64k' }, /SGW_MAX_VALUE_BYTES: must be a whole number \(got "64k"\)/],
    [{}, { SGW_READ_ONLY: 'yes' }, /SGW_READ_ONLY: must be true, false, 1 or 0/],
    [[], {}, /config file: must be a YAML mapping/],
  ])('names the field and what was expected: %j %j', (file, env, message) => {
    expect(() => loadConfig(env as Record<string, string>, file)).toThrow(message);
  });

  it('the root and backend deadline set only in the file reach the adapter, typed', async () => {
    let seen: GatewaySettings | undefined;
    BACKENDS.probe = {
      check: async () => 'probe',
      create: async (_env, settings) => {
        seen = settings;
        return new MemoryAdapter();
      },
    };
    try {
      const gw = await startTestGateway(
        { SGW_BACKEND: 'probe' },
        { root: 'acme-root', backendTimeoutMs: 1234 },
      );
      await gw.shutdown();
      expect(seen).toMatchObject({ root: 'acme-root', backendTimeoutMs: 1234 });
      // The environment still wins over the file, for the adapter as for the gateway.
      const env = await startTestGateway(
        { SGW_BACKEND: 'probe', SGW_BACKEND_TIMEOUT_MS: '4321' },
        { backendTimeoutMs: 1234 },
      );
      await env.shutdown();
      expect(seen).toMatchObject({ root: 'tfy-secret', backendTimeoutMs: 4321 });
    } finally {
      delete BACKENDS.probe;
    }
  });

  // Spawning the bin compiles the sources (tsx): seconds on a busy machine.
  it('`sgw-gateway config check` validates a YAML file without starting', { timeout: 60_000 }, () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      'port: 9000\nbackend: memory\nauth:\n  keys:\n    - name: tf\n      sha256: "' +
        'a'.repeat(64) +
        '"\n      prefixes: [tfy-secret/acme/]\n',
    );
    const ok = spawnSync(process.execPath, [BIN, 'config', 'check', '--config', good], {
      encoding: 'utf8',
      env: { ...process.env, SGW_API_KEY: '' },
    });
    expect(ok.stdout).toBe(
      'configuration is valid: backend memory, 1 key(s), http on 0.0.0.0:9000\n' +
        'memory: in this process only, nothing is kept across restarts\n' +
        'secret groups: tenant default, 0 subject(s)\n' +
        `data directory: ${resolve(import.meta.dirname, '../../../data')}\n`,
    );
    expect(ok.status).toBe(0);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'port: 99999\n');
    const res = spawnSync(process.execPath, [BIN, 'config', 'check', '--config', bad], { encoding: 'utf8' });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('port (PORT): Too big: expected number to be <=65535');
  });

  it('`sgw-gateway hash-key` prints the SHA-256 to put in the file', { timeout: 60_000 }, () => {
    const out = execFileSync(process.execPath, [BIN, 'hash-key'], {
      input: 'my-very-secret-api-key\n',
      encoding: 'utf8',
    });
    expect(out).toBe(`${sha256Hex('my-very-secret-api-key')}\n`);
  });
});

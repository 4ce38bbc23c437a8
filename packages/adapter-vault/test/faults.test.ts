import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretService } from '@secret-gateway/core';
import { startVaultEmulator, type VaultEmulator } from '@secret-gateway/emulators/vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultAdapter } from '../src/index.ts';

let emu: VaultEmulator;
let service: SecretService;
const path = `tfy-secret/faults/${Date.now()}`;
beforeAll(async () => {
  emu = await startVaultEmulator();
  service = new SecretService(new VaultAdapter({ endpoint: emu.url, auth: { token: emu.token } }), {
    deadlineMs: 300,
  });
  await service.put(path, 'value');
});
afterAll(() => emu.stop());

/** A loopback server that records requests and answers with `answer` (or never, when it returns false). */
async function rawServer(answer: (req: IncomingMessage, res: import('node:http').ServerResponse) => boolean) {
  const seen: { closedEarly: boolean }[] = [];
  const server: Server = createServer((req, res) => {
    // The adapter looks its static token up beside its first call: answer "never expires" on a
    // socket of its own, outside what the test counts.
    if (req.url?.endsWith('/auth/token/lookup-self')) {
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
      res.end('{"data":{"ttl":0}}');
      return;
    }
    const entry = { closedEarly: false };
    seen.push(entry);
    res.on('close', () => {
      if (!res.writableEnded) entry.closedEarly = true;
    });
    answer(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stop = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return { url, seen, stop };
}

describe('Vault faults become typed errors within the deadline', () => {
  it("429 throttling -> backend_unavailable (throttled) with Vault's own Retry-After", async () => {
    emu.faults.set({ throttle: true, retryAfterSeconds: 7 });
    await expect(service.get(path)).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'throttled',
      retryAfterSeconds: 7,
    });
    emu.faults.clear();
  });

  it('503 sealed -> backend_unavailable (server_error); check() fails too', async () => {
    emu.faults.set({ status: 503 });
    await expect(service.get(path)).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'server_error',
      retryAfterSeconds: 1,
    });
    await expect(service.check()).rejects.toMatchObject({ code: 'backend_unavailable' });
    emu.faults.clear();
    await expect(service.check()).resolves.toBeUndefined();
  });

  it('a dropped connection -> backend_unavailable (unreachable)', async () => {
    emu.faults.set({ drop: true });
    await expect(service.get(path)).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'unreachable',
    });
    emu.faults.clear();
  });

  it('slower than the deadline -> backend_unavailable (timeout), and recovers after', async () => {
    emu.faults.set({ latencyMs: 2000 });
    await expect(service.get(path)).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'timeout',
    });
    emu.faults.clear();
    expect((await service.get(path)).value).toBe('value');
  });

  it('a bad token -> backend_error (denied)', async () => {
    const denied = new SecretService(new VaultAdapter({ endpoint: emu.url, auth: { token: 'wrong' } }));
    await expect(denied.get(path)).rejects.toMatchObject({ code: 'backend_error', reason: 'denied' });
  });

  it('no KV engine at the mount (404 "no handler for route") -> backend_error, never "not found"', async () => {
    const wrongMount = new VaultAdapter({ endpoint: emu.url, auth: { token: emu.token }, mount: 'nope' });
    await expect(wrongMount.read(path, undefined)).rejects.toMatchObject({
      code: 'backend_error',
      reason: 'invalid',
    });
    await expect(wrongMount.deleteSecret(path)).rejects.toMatchObject({ code: 'backend_error' });
  });

  it('nothing listening -> backend_unavailable (unreachable)', async () => {
    const down = new SecretService(
      new VaultAdapter({ endpoint: 'http://127.0.0.1:9', auth: { token: 't' } }),
      { deadlineMs: 1000 },
    );
    await expect(down.get(path)).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'unreachable',
    });
    await expect(down.check()).rejects.toMatchObject({ code: 'backend_unavailable' });
  });

  it('the deadline aborts the HTTP request itself: the hung Vault sees the connection close', async () => {
    const hung = await rawServer(() => false);
    try {
      const adapter = new VaultAdapter({
        endpoint: hung.url,
        auth: { token: 't' },
        requestTimeoutMs: 60_000,
      });
      const hungService = new SecretService(adapter, { deadlineMs: 200 });
      await expect(hungService.get(path)).rejects.toMatchObject({ reason: 'timeout' });
      await expect.poll(() => hung.seen[0]?.closedEarly).toBe(true);
      await adapter.close();
    } finally {
      await hung.stop();
    }
  });

  it('without a deadline signal, the hard request timeout still bounds a call', async () => {
    const hung = await rawServer(() => false);
    try {
      const adapter = new VaultAdapter({ endpoint: hung.url, auth: { token: 't' }, requestTimeoutMs: 150 });
      await expect(adapter.read(path, undefined)).rejects.toMatchObject({
        code: 'backend_unavailable',
        reason: 'timeout',
      });
      await adapter.close();
    } finally {
      await hung.stop();
    }
  });

  it('a proxy\'s non-JSON 502 page -> backend_unavailable; a non-JSON 404 is not "not found"', async () => {
    let status = 502;
    const proxy = await rawServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'text/html', 'retry-after': '3' });
      res.end('<html>bad gateway</html>');
      return true;
    });
    try {
      const adapter = new VaultAdapter({ endpoint: proxy.url, auth: { token: 't' } });
      await expect(adapter.read(path, undefined)).rejects.toMatchObject({
        code: 'backend_unavailable',
        reason: 'server_error',
        retryAfterSeconds: 3,
      });
      status = 404;
      await expect(adapter.read(path, undefined)).rejects.toMatchObject({ code: 'backend_error' });
      await adapter.close();
    } finally {
      await proxy.stop();
    }
  });

  it('a kept-alive socket that Vault closed is retried once for reads, never for writes', async () => {
    const used = new Set<unknown>();
    const data = JSON.stringify({ data: { data: { value: 'v' }, metadata: { version: 1 } } });
    const metadata = JSON.stringify({
      data: {
        current_version: 1,
        max_versions: 10,
        versions: { 1: { deletion_time: '', destroyed: false } },
      },
    });
    // Answers the first request on each socket, then drops that socket at its next request: what a
    // server closing idle keep-alive connections looks like to a client that reuses one.
    const flaky = await rawServer((req, res) => {
      if (used.has(req.socket)) {
        req.socket.destroy();
        return false;
      }
      used.add(req.socket);
      res.writeHead(200, { 'content-type': 'application/json', connection: 'keep-alive' });
      res.end(req.url?.includes('/metadata/') ? metadata : data);
      return true;
    });
    try {
      const adapter = new VaultAdapter({ endpoint: flaky.url, auth: { token: 't' } });
      expect(await adapter.read(path, 1)).toEqual({ value: 'v', version: 1 });
      expect(await adapter.read(path, 1)).toEqual({ value: 'v', version: 1 });
      expect(flaky.seen).toHaveLength(3);
      // The metadata read is retried; the destroy (a POST) is not.
      await expect(adapter.deleteVersion(path, 1)).rejects.toMatchObject({ reason: 'unreachable' });
      await adapter.close();
    } finally {
      await flaky.stop();
    }
  });
});

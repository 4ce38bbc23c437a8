import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { FaultInjector, type FaultSpec, sleep } from './faults.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

export interface HttpEmulatorOptions {
  port?: number;
  host?: string;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  /** Name of the operation a request performs, for fault matching (default `METHOD /path`). */
  operationOf?: (req: IncomingMessage, body: Buffer) => string;
  /** Writes the service's own throttling answer. */
  renderThrottle: (res: ServerResponse, fault: FaultSpec) => void;
  /** Writes the service's own server-error answer for `status`. */
  renderServerError: (res: ServerResponse, status: number) => void;
}

export interface RunningHttpServer {
  url: string;
  port: number;
  server: Server;
  faults: FaultInjector;
  stop: () => Promise<void>;
}

/** Starts an HTTP(S) server on loopback that applies injected faults before calling `handler`. */
export async function startHttpEmulator(
  handler: Handler,
  options: HttpEmulatorOptions,
): Promise<RunningHttpServer> {
  const faults = new FaultInjector();
  const sockets = new Set<Socket>();
  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    try {
      const operation = options.operationOf?.(req, body) ?? `${req.method} ${req.url?.split('?')[0]}`;
      const fault = faults.take(operation);
      const standing = faults.latencyFor(operation);
      if (standing > 0) await sleep(standing);
      if (fault?.latencyMs) await sleep(fault.latencyMs);
      if (fault?.drop) {
        req.socket.destroy();
        return;
      }
      if (fault?.throttle) return options.renderThrottle(res, fault);
      if (fault?.status) return options.renderServerError(res, fault.status);
      await handler(req, res, body);
    } catch (error) {
      // An emulator bug must show up loudly in tests, not as a hang.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ emulatorError: String(error) }));
    }
  };
  const server = options.tls ? createHttpsServer(options.tls, listener) : createHttpServer(listener);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    server,
    faults,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

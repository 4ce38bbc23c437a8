import { createServer, type Server, STATUS_CODES } from 'node:http';
import {
  createServer as createHttpsServer,
  type Server as HttpsServer,
  type ServerOptions,
} from 'node:https';
import type { Duplex } from 'node:stream';
import type { GatewayHandler } from './app.ts';
import { errorOutcome, sendOutcome } from './http-errors.ts';

export interface HttpLimits {
  /** A client has this long to send its request headers. */
  headersTimeoutMs: number;
  /** ... and this long for the whole request. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
}

/**
 * The HTTP(S) server, with Node's own request and response classes. `GET /secrets` never reaches
 * Express (see createApp), so its objects keep Node's shapes; Express sets its prototypes on the
 * requests it routes, as it always does. An earlier version built every request with Express's
 * prototypes instead (to spare routed requests the prototype swap of expressjs/express#5998);
 * measured on the read path, that cost about 9 us of CPU per GET, more than it saved on the rare
 * writes.
 */
export function createHttpServer(
  handler: GatewayHandler,
  limits: HttpLimits,
  tls?: ServerOptions,
): Server | HttpsServer {
  const options = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // Node checks both timeouts on this interval (30 s by default), so a slow client could hold a
    // connection for up to 30 s past its limit.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, limits.headersTimeoutMs / 4)),
  };
  const server = tls ? createHttpsServer({ ...tls, ...options }, handler) : createServer(options, handler);
  // With a listener, Node no longer answers `Expect: 100-continue` by itself: the pipeline sends
  // `100 Continue` only once the caller has authenticated and the declared size fits.
  server.on('checkContinue', handler);
  server.on('checkExpectation', (_req, res) => {
    sendOutcome(res, {
      ...errorOutcome(417, 'invalid_request', 'the only expectation supported is 100-continue'),
      close: true,
    });
  });
  server.on('clientError', (error, socket) => answerClientError(error, socket));
  // Longer than the idle timeout of the proxies and client pools in front (60 s for AWS's load
  // balancers and nginx's upstream keepalive): with Node's 5 s, the server closed idle connections
  // while clients were sending on them, and a PUT on such a connection failed with ECONNRESET
  // (seen in the fuzz test under load: 4 runs of 4 with 5 s, none with 65 s).
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  return server;
}

/** Node's own refusals (bad framing, headers too large, timeouts) in the contract's error shape. */
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'invalid_request', 'request headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout', 'the request was not received in time'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'payload_too_large', 'chunk extensions are too large'],
};

function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const pending = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  // Nothing can be written to a reset socket, or after an answer has begun on it.
  if (error.code === 'ECONNRESET' || !socket.writable || pending?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, code, message] = CLIENT_ERRORS[error.code ?? ''] ?? [
    400,
    'invalid_request',
    'malformed HTTP request',
  ];
  const body = JSON.stringify({ statusCode: status, code, message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

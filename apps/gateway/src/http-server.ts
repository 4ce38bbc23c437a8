import { createServer, type Server } from 'node:http';
import {
  createServer as createHttpsServer,
  type Server as HttpsServer,
  type ServerOptions,
} from 'node:https';
import type { GatewayHandler } from './app.ts';

/**
 * The HTTP(S) server, with Node's own request and response classes. `GET /secrets` never reaches
 * Express (see createApp), so its objects keep Node's shapes; Express sets its prototypes on the
 * requests it routes, as it always does. An earlier version built every request with Express's
 * prototypes instead (to spare routed requests the prototype swap of expressjs/express#5998);
 * measured on the read path, that cost about 9 us of CPU per GET, more than it saved on the rare
 * writes.
 */
export function createHttpServer(handler: GatewayHandler, tls?: ServerOptions): Server | HttpsServer {
  return tls ? createHttpsServer(tls, handler) : createServer(handler);
}

import { createServer, IncomingMessage, type Server, ServerResponse } from 'node:http';
import {
  createServer as createHttpsServer,
  type Server as HttpsServer,
  type ServerOptions,
} from 'node:https';
import type { GatewayHandler } from './app.ts';

/**
 * An HTTP(S) server whose requests and responses are born with Express's prototypes.
 *
 * Express sets the prototype of every `req` and `res` to its own (`app.request`/`app.response`) on
 * each request. Changing an existing object's prototype throws away V8's optimised shapes for it and
 * for the code that touches it, which made a plain Express app several times slower than `node:http`
 * here (expressjs/express#5998). Constructing them with that prototype in the first place makes
 * Express's `Object.setPrototypeOf` a no-op, and everything else about Express stays as it is.
 */
export function createExpressServer(handler: GatewayHandler, tls?: ServerOptions): Server | HttpsServer {
  const app = handler.express;
  function Request(this: IncomingMessage, ...args: ConstructorParameters<typeof IncomingMessage>) {
    IncomingMessage.apply(this, args);
  }
  Request.prototype = app.request;
  function Response(this: ServerResponse, ...args: ConstructorParameters<typeof ServerResponse>) {
    ServerResponse.apply(this, args);
  }
  Response.prototype = app.response;
  const classes = {
    IncomingMessage: Request as unknown as typeof IncomingMessage,
    ServerResponse: Response as unknown as typeof ServerResponse,
  };
  return tls ? createHttpsServer({ ...tls, ...classes }, handler) : createServer(classes, handler);
}

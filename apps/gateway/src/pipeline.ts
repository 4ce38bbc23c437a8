import { randomInt, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  errorLogFields,
  InvalidRequestError,
  PayloadTooLargeError,
  RateLimitedError,
  SecretGatewayError,
  UnauthorizedError,
} from '@secret-gateway/core';
import express from 'express';
import type { Logger } from 'pino';
import { accessLog } from './access-log.ts';
import type { AuditEntry, AuditLog } from './audit.ts';
import type { FailedAuthLimiter, KeyStore, Principal } from './auth.ts';
import { clientAddress, type Trust } from './client-address.ts';
import { type Outcome, outcomeOf, sendOutcome } from './http-errors.ts';
import type { GatewayMetrics } from './metrics.ts';
import { attachMeta, type ResponseMeta } from './respond.ts';
import type { SubjectStore } from './subjects.ts';

/**
 * The request pipeline every API goes through: context (request id, client address, principal,
 * route template), authentication, the route's handler (which authorizes what it touches), one
 * error mapping (http-errors.ts), one audit line per authenticated request, then the answer, the
 * access-log line and the metrics. An API module is a table of `Route`s; the pipeline runs them.
 */

export type AuditOp = AuditEntry['op'];

export interface Route {
  readonly method: string;
  /** The template, as matched and as labelled in metrics and logs: `/secrets`. */
  readonly path: string;
  /** What an audit line calls a request of this route that fails before its handler knows more. */
  readonly op: AuditOp;
  /**
   * Needs credentials (every route but the operational endpoints): an API key, or for `subject`
   * (the secret-groups API) a subject's bearer token first, then an API key (refused by the route).
   */
  readonly auth: boolean | 'subject';
  /** Reads a JSON body, after authentication. */
  readonly body?: boolean;
  /** HTTP status for "not found" (the contract's DELETE answers 400). */
  readonly notFoundStatus?: number;
  /** Answers the request: an Outcome, or throws one of core's typed errors. Synchronous when it can be. */
  handle(ctx: Exchange, body: unknown): Outcome | Promise<Outcome>;
}

/** Refused unauthenticated requests are counted per address, not audited one line each. */
export interface RefusalSink {
  note(client: string, status: number): void;
}

export interface PipelineDeps {
  keys: KeyStore;
  /** The secret-groups API's subjects. */
  subjects?: SubjectStore;
  logger: Logger;
  metrics?: GatewayMetrics;
  audit?: AuditLog;
  refusals?: RefusalSink;
  limiter?: FailedAuthLimiter;
  trust?: Trust;
  bodyLimitBytes: number;
  /** False while draining at shutdown: answers ask clients to close their connection. */
  isAccepting?: () => boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request ids for requests that bring none: UUID-shaped, the first four groups of a random UUID
 * drawn once per process, then a counter from a random start. Unique across processes and
 * restarts at a quarter of randomUUID's cost; they identify requests, they are not secrets.
 */
export function requestIds(): () => string {
  const prefix = randomUUID().slice(0, 24);
  let counter = randomInt(2 ** 48 - 1);
  return () => {
    counter = (counter + 1) % 2 ** 48;
    return prefix + counter.toString(16).padStart(12, '0');
  };
}

/** One request's context; also its response's meta (id, access-log line, metrics). */
export interface Exchange extends ResponseMeta {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  route: string;
  client: string;
  principal: Principal | undefined;
  /** What the audit line names: set by handlers once they know a valid path (raw input never). */
  auditPath: string | null;
  auditVersion: number | null;
}

/** Pipelined requests on one connection wait for the answer before them (read-your-writes). */
const IN_FLIGHT = Symbol('sgw.inFlight');
const WAITING = Symbol('sgw.waiting');
type Connection = IncomingMessage['socket'] & {
  [IN_FLIGHT]?: ServerResponse;
  [WAITING]?: Array<() => void>;
};

export interface Pipeline {
  /** Starts a request: its context, and its turn on the connection. `start` runs once it is its turn. */
  begin(req: IncomingMessage, res: ServerResponse, start: (ctx: Exchange) => void): void;
  /** Runs a route for a request that has begun. */
  run(route: Route, ctx: Exchange): void;
  /** Answers with an outcome outside any route (unknown route, a failure inside Express). */
  answer(ctx: Exchange, outcome: Outcome): void;
  /**
   * Fail-closed mode: records that a change is about to be made, before it is made; rejects with
   * AuditUnavailableError when the line cannot be written. Resolves at once otherwise.
   */
  attempt(ctx: Exchange, op: AuditOp): Promise<void>;
}

export function createPipeline(deps: PipelineDeps): Pipeline {
  const { keys, logger, metrics, audit, limiter } = deps;
  const access = accessLog(logger);
  const nextId = requestIds();
  // Any content type is read as JSON: clients that forget the header still get a precise error.
  const json = express.json({ limit: deps.bodyLimitBytes, strict: false, type: () => true });

  class Context implements Exchange {
    readonly id: string;
    readonly close: boolean;
    readonly started = performance.now();
    route = 'other';
    client = '';
    principal: Principal | undefined = undefined;
    auditPath: string | null = null;
    auditVersion: number | null = null;

    constructor(
      readonly req: IncomingMessage,
      readonly res: ServerResponse,
    ) {
      const incoming = req.headers['x-request-id'];
      this.id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : nextId();
      this.close = deps.isAccepting !== undefined && !deps.isAccepting();
      attachMeta(res, this);
    }

    sent(status: number): void {
      const ms = performance.now() - this.started;
      const method = this.req.method ?? '';
      metrics?.observeRequest(this.route, method, status, ms / 1000);
      access?.({
        reqId: this.id,
        method,
        route: this.route,
        status,
        key: this.principal?.name,
        ms: Math.round(ms * 100) / 100,
      });
      release(this.req.socket as Connection, this.res);
    }
  }

  const release = (conn: Connection, res: ServerResponse): void => {
    if (conn[IN_FLIGHT] !== res) return;
    conn[IN_FLIGHT] = undefined;
    const next = conn[WAITING]?.shift();
    // Not from inside the answer that just went out: a long pipeline must not grow the stack.
    if (next) setImmediate(next);
  };

  const begin = (req: IncomingMessage, res: ServerResponse, start: (ctx: Exchange) => void): void => {
    const conn = req.socket as Connection;
    const go = () => {
      conn[IN_FLIGHT] = res;
      start(new Context(req, res));
    };
    if (conn[IN_FLIGHT] === undefined) {
      go();
      return;
    }
    // A request behind one still being answered: it runs once that answer is out (or its
    // connection closed), so it sees what the earlier request did.
    conn[WAITING] ??= [];
    conn[WAITING].push(go);
    const ahead = conn[IN_FLIGHT];
    ahead.once('close', () => release(conn, ahead));
  };

  /** Audits the outcome (authenticated requests), logs a failure's cause, then answers. */
  const finish = (ctx: Exchange, op: AuditOp, outcome: Outcome): void | Promise<void> => {
    if (outcome.error !== undefined) logFailure(ctx, outcome);
    if (!audit || ctx.principal === undefined) return sendOutcome(ctx.res, outcome);
    const written = audit.record(auditEntry(ctx, op, outcome));
    if (audit.failClosed) {
      return written.then(
        () => sendOutcome(ctx.res, outcome),
        () => sendOutcome(ctx.res, outcomeOf(new AuditUnavailableError(), ctx.id)),
      );
    }
    // Fail-open: the audit log reports its own failures (rate-limited) and retries on the next line.
    written.catch(() => {});
    sendOutcome(ctx.res, outcome);
  };

  const logFailure = (ctx: Exchange, outcome: Outcome): void => {
    const fields = {
      reqId: ctx.id,
      method: ctx.req.method,
      route: ctx.route,
      status: outcome.status,
      path: ctx.auditPath ?? undefined,
      error: errorLogFields(outcome.error),
    };
    if (outcome.status === 500) logger.error(fields, 'internal error');
    else logger.warn(fields, 'backend call failed');
  };

  const auditEntry = (ctx: Exchange, op: AuditOp, outcome: Outcome | 'attempt'): AuditEntry => ({
    key: ctx.principal?.name ?? null,
    client: ctx.client,
    op,
    path: ctx.auditPath,
    version: ctx.auditVersion,
    outcome: outcome === 'attempt' ? 'attempt' : outcome.status,
    code: outcome === 'attempt' ? undefined : outcome.code,
    requestId: ctx.id,
  });

  /**
   * The credentials. True when they are valid; otherwise answers (401, or 429 once the address is
   * throttled; held back by the limiter's delay), counts the refusal, and returns false.
   */
  const authenticate = (ctx: Exchange, as: boolean | 'subject'): boolean => {
    ctx.client = clientAddress(ctx.req, deps.trust);
    const principal =
      (as === 'subject' ? deps.subjects?.authenticate(ctx.req.headers) : undefined) ??
      keys.authenticate(ctx.req.headers, ctx.req.socket);
    if (principal) {
      ctx.principal = principal;
      return true;
    }
    metrics?.authFailures.inc();
    const verdict = limiter?.fail(ctx.client);
    if (verdict?.newlyThrottled) {
      metrics?.authLockouts.inc();
      logger.warn(
        { client: ctx.client, seconds: verdict.throttledFor },
        'client address throttled after repeated failed authentication',
      );
    }
    const error =
      verdict && verdict.throttledFor > 0
        ? new RateLimitedError(verdict.throttledFor, 'too many failed authentication attempts')
        : new UnauthorizedError();
    if (verdict && verdict.throttledFor > 0) metrics?.authThrottled.inc();
    // A small declared body is read and dropped, so the connection stays usable and the client
    // reads the answer (closing on unread bytes makes the kernel reset the connection, and a client
    // still sending sees ECONNRESET instead of the 401). Any other body is never read: the
    // connection closes after the answer.
    const drain = drainable(ctx.req);
    const outcome = { ...outcomeOf(error, ctx.id), close: hasBody(ctx.req) && !drain };
    const refuse = () => {
      deps.refusals?.note(ctx.client, outcome.status);
      sendOutcome(ctx.res, outcome);
    };
    const answer = () => {
      if (verdict && verdict.delayMs > 0) setTimeout(refuse, verdict.delayMs);
      else refuse();
    };
    if (drain) {
      ctx.req.once('end', answer);
      ctx.req.resume();
    } else answer();
    return false;
  };

  /** The JSON body, read only now that the caller is known; size-checked before a byte is read. */
  const readBody = (ctx: Exchange): Promise<unknown> => {
    const { req, res } = ctx;
    const declared = Number(req.headers['content-length']);
    if (declared > deps.bodyLimitBytes) {
      return Promise.reject(Object.assign(new PayloadTooLargeError(deps.bodyLimitBytes), { unread: true }));
    }
    // The client waits for this before sending its body: only authenticated callers get it.
    if (req.headers.expect?.toLowerCase() === '100-continue') res.writeContinue();
    return new Promise((resolve, reject) => {
      json(req as express.Request, res as express.Response, (error?: unknown) => {
        if (error === undefined) resolve((req as { body?: unknown }).body);
        else reject(bodyError(error, deps.bodyLimitBytes));
      });
    });
  };

  const run = (route: Route, ctx: Exchange): void => {
    ctx.route = route.path;
    if (route.auth && !authenticate(ctx, route.auth)) return;
    const fail = (error: unknown) => {
      const outcome = outcomeOf(error, ctx.id, route.notFoundStatus);
      if ((error as { unread?: boolean }).unread) outcome.close = true;
      return finish(ctx, route.op, outcome);
    };
    const done = (outcome: Outcome) => finish(ctx, route.op, outcome);
    if (route.body) {
      readBody(ctx)
        .then((body) => route.handle(ctx, body))
        .then(done, fail);
      return;
    }
    let answer: Outcome | Promise<Outcome>;
    try {
      answer = route.handle(ctx, undefined);
    } catch (error) {
      void fail(error);
      return;
    }
    // A cache hit answers synchronously: no promise, no microtask.
    if (answer instanceof Promise) answer.then(done, fail);
    else void done(answer);
  };

  const answer = (ctx: Exchange, outcome: Outcome): void => void finish(ctx, 'other', outcome);

  const attempt = async (ctx: Exchange, op: AuditOp): Promise<void> => {
    if (!audit?.failClosed) return;
    try {
      await audit.record(auditEntry(ctx, op, 'attempt'));
    } catch {
      throw new AuditUnavailableError();
    }
  };

  return { begin, run, answer, attempt };
}

/** Fail-closed mode refuses what it cannot record: 503, the request was fine but cannot be taken now. */
export class AuditUnavailableError extends SecretGatewayError {
  readonly retryAfterSeconds = 1;
  /** The message is the gateway's own: shown to the client as it is. */
  readonly public = true;

  constructor() {
    super('backend_unavailable', 'the audit trail cannot be written: request refused');
  }
}

/** Bodies of refused requests up to this size are read and dropped rather than left unread. */
const DRAIN_LIMIT_BYTES = 16 * 1024;

/** A body with a declared length small enough to read and drop, which the client sends unprompted. */
function drainable(req: IncomingMessage): boolean {
  const length = Number(req.headers['content-length']);
  return (
    req.headers['transfer-encoding'] === undefined &&
    req.headers.expect === undefined &&
    Number.isInteger(length) &&
    length > 0 &&
    length <= DRAIN_LIMIT_BYTES
  );
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
}

/** body-parser's failures as core's typed errors. */
function bodyError(error: unknown, limit: number): Error {
  const e = error as { type?: string; status?: number };
  if (e.type === 'entity.too.large') return new PayloadTooLargeError(limit);
  if (e.type === 'entity.parse.failed') return new InvalidRequestError('body must be valid JSON');
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
    return new InvalidRequestError('body must be JSON in UTF-8, uncompressed or gzip, deflate or br');
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new InvalidRequestError('malformed request body');
  }
  return error instanceof Error ? error : new Error('body could not be read');
}

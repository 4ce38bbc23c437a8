import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { FaultInjector, sleep, WindowQuota } from '../faults.ts';
import { selfSignedLoopback } from '../tls.ts';
import type { CliFlags, EmulatorHandle } from '../types.ts';
import { GcpAuth } from './auth.ts';
import { Code, GcpError, type GcpSecret, GcpState, type GcpVersion } from './state.ts';
import { errorInfo, retryInfo, statusDetails } from './status.ts';

export { GcpAuth } from './auth.ts';
export { crc32c, GcpState } from './state.ts';

export interface GcpEmulatorOptions {
  port?: number;
  host?: string;
  project?: string;
  /** Bearer token the emulator accepts (default `sgw-emulator-token`). */
  token?: string;
  /** Serve TLS with a fresh self-signed certificate for localhost/127.0.0.1/::1 (default false). */
  tls?: boolean;
  /**
   * Refuse calls without an accepted credential (UNAUTHENTICATED), as Google does. Default: on with
   * TLS. Over plain text the SDK sends no credential at all (google-gax uses `sslCreds` as the whole
   * channel credentials), so there only a token that is present and wrong is refused.
   */
  requireToken?: boolean;
  /** Organisation location policy: regions secrets may be created in (default: no policy). */
  allowedLocations?: string[];
  /**
   * Secret Manager's per-project quotas per minute, enforced only when set: "read requests" (every
   * Get and List; 600 by default in GCP) and "access requests" (AccessSecretVersion; 90,000).
   * https://cloud.google.com/secret-manager/quotas
   */
  readQuotaPerMinute?: number;
  accessQuotaPerMinute?: number;
  /**
   * Eventually consistent reads (default 0: off): GetSecret, ListSecrets, GetSecretVersion,
   * ListSecretVersions and AccessSecretVersion answer from the state as it was this many ms ago,
   * except an access *by number* of a version added within that time (Google: "adding a secret
   * version and then immediately accessing that secret version by version number is a strongly
   * consistent operation. Other operations within Secret Manager are eventually consistent", not
   * through `latest`; https://cloud.google.com/secret-manager/docs/reference/consistency). Writes
   * act on the current state.
   */
  staleReadMs?: number;
}

export interface GcpEmulator extends EmulatorHandle {
  project: string;
  token: string;
  /** Backdoor for tests. */
  state: GcpState;
  /** gRPC method names answered PERMISSION_DENIED, as for a service account missing a role. */
  denied: Set<string>;
  /** Who may call (service accounts for self-signed JWTs); see GcpAuth. */
  auth: GcpAuth;
  /** PEM certificate to trust (SGW_GCP_CA_FILE); undefined over plain text. */
  certPem: string | undefined;
}

/** Secret Manager's quota buckets: Access is its own; every other Get/List is a "read request". */
const READS = new Set(['GetSecret', 'ListSecrets', 'GetSecretVersion', 'ListSecretVersions']);

/**
 * RESOURCE_EXHAUSTED as Google's quota system sends it for a per-minute quota: the message names the
 * metric and limit, ErrorInfo says RATE_LIMIT_EXCEEDED with the quota's names, and there is no
 * RetryInfo (a RetryInfo is added only when a test asks for one).
 */
function quotaExceeded(method: string, retryAfterSeconds?: number): grpc.ServiceError {
  const access = method.includes('Access');
  const metric = access ? 'Access requests' : 'Read requests';
  const message = `Quota exceeded for quota metric '${metric}' and limit '${metric} per minute' of service 'secretmanager.googleapis.com' for consumer 'project_number:0'.`;
  const details = [
    errorInfo('RATE_LIMIT_EXCEEDED', 'googleapis.com', {
      service: 'secretmanager.googleapis.com',
      consumer: 'projects/0',
      quota_metric: `secretmanager.googleapis.com/${access ? 'access_requests' : 'read_requests'}`,
      quota_limit: access ? 'AccessRequestsPerMinutePerProject' : 'ReadRequestsPerMinutePerProject',
    }),
  ];
  if (retryAfterSeconds !== undefined) details.push(retryInfo(retryAfterSeconds));
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', statusDetails(Code.RESOURCE_EXHAUSTED, message, details));
  return { code: Code.RESOURCE_EXHAUSTED, details: message, metadata } as grpc.ServiceError;
}

/**
 * Ends the call's HTTP/2 connection without answering, as a network failure would. grpc-js keeps the
 * stream private, so this reaches for it; false if that ever changes (the caller then answers
 * UNAVAILABLE, which is what the client would report).
 */
function dropConnection(call: grpc.ServerUnaryCall<unknown, unknown>): boolean {
  const stream = (call as unknown as { call?: { stream?: { session?: { destroy(): void } } } }).call?.stream;
  if (!stream?.session) return false;
  stream.session.destroy();
  return true;
}

/** The protos the SDK itself ships, so the emulator speaks exactly the SDK's wire format. */
function loadService(): grpc.ServiceDefinition {
  const require = createRequire(import.meta.url);
  const sdkRoot = dirname(require.resolve('@google-cloud/secret-manager/package.json'));
  // google-gax does not export its package.json: find its root from its main module.
  const gaxMain = createRequire(join(sdkRoot, 'package.json')).resolve('google-gax');
  const gaxRoot = gaxMain.slice(0, gaxMain.lastIndexOf(`${sep}build${sep}`));
  const definition = protoLoader.loadSync('google/cloud/secretmanager/v1/service.proto', {
    includeDirs: [join(sdkRoot, 'build/protos'), join(gaxRoot, 'build/protos')],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    google: {
      cloud: { secretmanager: { v1: { SecretManagerService: { service: grpc.ServiceDefinition } } } };
    };
  };
  return pkg.google.cloud.secretmanager.v1.SecretManagerService.service;
}

const timestamp = (ms: number) => ({
  seconds: String(Math.floor(ms / 1000)),
  nanos: (ms % 1000) * 1_000_000,
});

function secretMessage(state: GcpState, s: GcpSecret) {
  return {
    name: `${state.parent()}/secrets/${s.id}`,
    replication: s.replication,
    create_time: timestamp(s.created),
    labels: s.labels,
    annotations: s.annotations,
    etag: `"${s.created}"`,
  };
}

function versionMessage(state: GcpState, s: GcpSecret, v: GcpVersion) {
  return {
    name: `${state.parent()}/secrets/${s.id}/versions/${v.number}`,
    create_time: timestamp(v.created),
    ...(v.destroyed ? { destroy_time: timestamp(v.destroyed) } : {}),
    state: v.state,
    etag: `"${v.created}"`,
    client_specified_payload_checksum: v.clientChecksum,
  };
}

function page<T>(items: T[], size: unknown, token: unknown): { items: T[]; next: string } {
  const n = Number(size) > 0 ? Math.min(Number(size), 25_000) : 25_000;
  const start =
    typeof token === 'string' && token !== '' ? Number(Buffer.from(token, 'base64').toString()) : 0;
  return {
    items: items.slice(start, start + n),
    next: start + n < items.length ? Buffer.from(String(start + n)).toString('base64') : '',
  };
}

type Req = Record<string, unknown>;

/** Secret Manager's v1 gRPC service, the transport the SDK uses in production. */
export async function startGcpEmulator(options: GcpEmulatorOptions = {}): Promise<GcpEmulator> {
  const project = options.project ?? 'sgw-emulator';
  const token = options.token ?? 'sgw-emulator-token';
  const state = new GcpState(project);
  const faults = new FaultInjector();
  const denied = new Set<string>();
  const auth = new GcpAuth(token);
  const tls = options.tls ? await selfSignedLoopback() : undefined;
  const requireToken = options.requireToken ?? tls !== undefined;
  const lag = options.staleReadMs ?? 0;
  state.staleReadMs = lag;
  if (options.allowedLocations) state.allowedLocations = new Set(options.allowedLocations);
  const quotas = {
    read: options.readQuotaPerMinute ? new WindowQuota(options.readQuotaPerMinute, 60_000) : undefined,
    access: options.accessQuotaPerMinute ? new WindowQuota(options.accessQuotaPerMinute, 60_000) : undefined,
  };

  /** An access by number of a version added within the staleness window: the one strong read. */
  const freshAdd = (name: string): boolean => {
    if (lag <= 0 || !/\/versions\/[0-9]+$/.test(name)) return false;
    try {
      return state.version(name).version.created > Date.now() - lag;
    } catch {
      return false; // absent now: the stale answer says so too, or shows what was there
    }
  };

  const methods: Record<string, (req: Req) => unknown> = {
    CreateSecret: (req) => {
      const input = (req.secret ?? {}) as Parameters<GcpState['create']>[2];
      return secretMessage(state, state.create(String(req.parent ?? ''), String(req.secret_id ?? ''), input));
    },
    GetSecret: (req) => secretMessage(state, state.secret(String(req.name), lag)),
    ListSecrets: (req) => {
      state.checkProject(String(req.parent ?? ''), 'secretmanager.secrets.list');
      const all = state.list(lag).map((s) => secretMessage(state, s));
      const { items, next } = page(all, req.page_size, req.page_token);
      return { secrets: items, next_page_token: next, total_size: all.length };
    },
    DeleteSecret: (req) => {
      state.remove(String(req.name));
      return {};
    },
    AddSecretVersion: (req) => {
      const payload = (req.payload ?? {}) as { data?: Buffer; data_crc32c?: string };
      const crc =
        payload.data_crc32c !== undefined && payload.data_crc32c !== null
          ? BigInt(payload.data_crc32c)
          : undefined;
      const { secret, version } = state.add(
        String(req.parent),
        Buffer.from(payload.data ?? Buffer.alloc(0)),
        crc,
      );
      return versionMessage(state, secret, version);
    },
    GetSecretVersion: (req) => {
      const { secret, version } = state.version(String(req.name), lag);
      return versionMessage(state, secret, version);
    },
    AccessSecretVersion: (req) => {
      const { secret, version } = state.version(String(req.name), freshAdd(String(req.name)) ? 0 : lag);
      if (version.state !== 'ENABLED') {
        throw new GcpError(
          Code.FAILED_PRECONDITION,
          `Secret Version [${versionMessage(state, secret, version).name}] is in ${version.state} state.`,
        );
      }
      return {
        name: versionMessage(state, secret, version).name,
        payload: { data: version.data, data_crc32c: version.crc32c.toString() },
      };
    },
    ListSecretVersions: (req) => {
      const secret = state.secret(String(req.parent), lag);
      const filter =
        typeof req.filter === 'string'
          ? /state:(ENABLED|DISABLED|DESTROYED)/.exec(req.filter)?.[1]
          : undefined;
      // Newest first, as Secret Manager lists them.
      const all = [...secret.versions.values()]
        .sort((a, b) => b.number - a.number)
        .filter((v) => !filter || v.state === filter)
        .map((v) => versionMessage(state, secret, v));
      const { items, next } = page(all, req.page_size, req.page_token);
      return { versions: items, next_page_token: next, total_size: all.length };
    },
    DestroySecretVersion: (req) => {
      const { secret, version } = state.setState(String(req.name), 'DESTROYED');
      return versionMessage(state, secret, version);
    },
    DisableSecretVersion: (req) => {
      const { secret, version } = state.setState(String(req.name), 'DISABLED');
      return versionMessage(state, secret, version);
    },
    EnableSecretVersion: (req) => {
      const { secret, version } = state.setState(String(req.name), 'ENABLED');
      return versionMessage(state, secret, version);
    },
  };

  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [method, fn] of Object.entries(methods)) {
    implementation[method] = async (
      call: grpc.ServerUnaryCall<Req, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      const fail = (code: number, details: string, metadata = new grpc.Metadata()) =>
        callback({ code, details, metadata } as grpc.ServiceError);
      const fault = faults.take(method);
      const standing = faults.latencyFor(method);
      if (standing > 0) await sleep(standing);
      if (fault?.latencyMs) await sleep(fault.latencyMs);
      if (fault?.drop)
        return dropConnection(call) || fail(Code.UNAVAILABLE, 'The service is currently unavailable.');
      if (fault?.throttle) return callback(quotaExceeded(method, fault.retryAfterSeconds));
      if (fault?.status)
        return fail(
          fault.status >= 503 ? Code.UNAVAILABLE : Code.INTERNAL,
          fault.status >= 503 ? 'The service is currently unavailable.' : 'Internal error encountered.',
        );
      // Over a plain-text channel the SDK sends no call credentials (see requireToken), so there
      // only a token that is present and wrong is refused.
      const presented = call.metadata.get('authorization')[0];
      if (presented !== undefined || requireToken) {
        const refused = auth.refuse(presented === undefined ? undefined : String(presented));
        if (refused) return fail(Code.UNAUTHENTICATED, refused);
      }
      const quota = READS.has(method)
        ? quotas.read
        : method === 'AccessSecretVersion'
          ? quotas.access
          : undefined;
      if (quota && !quota.take()) return callback(quotaExceeded(method));
      if (denied.has(method)) {
        return fail(
          Code.PERMISSION_DENIED,
          `Permission denied on resource (or it may not exist) for ${method}.`,
        );
      }
      try {
        callback(null, fn(call.request));
      } catch (error) {
        if (error instanceof GcpError) return fail(error.code, error.message);
        fail(Code.INTERNAL, `emulator error: ${String(error)}`);
      }
    };
  }

  const server = new grpc.Server();
  server.addService(loadService(), implementation);
  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${host}:${options.port ?? 0}`,
      tls
        ? grpc.ServerCredentials.createSsl(null, [
            { private_key: Buffer.from(tls.key), cert_chain: Buffer.from(tls.cert) },
          ])
        : grpc.ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  return {
    url: `${host}:${port}`,
    faults,
    project,
    token,
    state,
    denied,
    auth,
    certPem: tls?.cert,
    info: { project, token, endpoint: host, port, ...(tls ? { tls: true } : {}) },
    stop: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

export async function startFromFlags(flags: CliFlags): Promise<GcpEmulator> {
  const text = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  const count = (name: string) => (text(name) === undefined ? undefined : Number(text(name)));
  const emu = await startGcpEmulator({
    port: count('port'),
    host: text('host'),
    project: text('project'),
    token: text('token'),
    tls: flags.tls === true || flags.tls === 'true',
    allowedLocations: text('allowed-locations')?.split(',').filter(Boolean),
    readQuotaPerMinute: count('read-quota-per-minute'),
    accessQuotaPerMinute: count('access-quota-per-minute'),
    staleReadMs: count('stale-read-ms'),
  });
  // For shells: a file to hand to SGW_GCP_CA_FILE.
  const certFile = text('cert-file');
  if (certFile && emu.certPem) {
    writeFileSync(certFile, emu.certPem);
    emu.info.certFile = certFile;
  }
  return emu;
}

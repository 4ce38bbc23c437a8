import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BOOLEAN_SPELLINGS, parseBoolean, parseSecretPath } from '@secret-gateway/core';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { sha256Hex } from './auth.ts';
import { compileTrust } from './client-address.ts';

/**
 * `data/` at the root of the installation: the workspace root in a checkout (the directory holding
 * pnpm-workspace.yaml), the deployed folder otherwise. Not the working directory: a start from
 * another folder (`pnpm start` inside apps/gateway) silently made a second store with new keys.
 */
export const DEFAULT_DATA_DIR = join(installRoot(dirname(fileURLToPath(import.meta.url))), 'data');

function installRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (dirname(dir) === dir) return dirname(from);
  }
}

/**
 * The gateway's configuration: defaults, then the YAML file (`--config` or SGW_CONFIG), then
 * environment variables, validated once at start-up. Errors name the field and what was expected.
 */
const operation = z.enum(['read', 'write', 'delete']);
export type Operation = z.infer<typeof operation>;

const keySchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . -'),
    sha256: z
      .string()
      .regex(
        /^[0-9a-f]{64}$/,
        'must be the lower-case hex SHA-256 of the key (sgw-gateway hash-key prints it)',
      )
      .optional(),
    /** Plain keys are accepted only from the environment (SGW_API_KEY), never from the file. */
    key: z.string().optional(),
    /**
     * A Basic credential (TrueFoundry's "Custom Basic Auth"): presented as `Authorization: Basic
     * base64(user:password)`; `sha256` is then the SHA-256 of the password.
     */
    basicUser: z
      .string()
      .regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . @ -')
      .optional(),
    operations: z.array(operation).min(1).default(['read', 'write', 'delete']),
    /** Whole-segment path prefixes under the root (checked against the root in loadConfig). */
    prefixes: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict()
  .refine((k) => (k.sha256 === undefined) !== (k.key === undefined), 'needs exactly one of sha256 or key');

export type KeyConfig = z.infer<typeof keySchema>;

const SEGMENT = /^[A-Za-z0-9_.-]{1,63}$/;
const segment = z.string().regex(SEGMENT, 'must be 1-63 characters of A-Z a-z 0-9 _ . -');
/** Who can sign in to the secret-groups API: people and service accounts (teams are groups of them). */
export const SUBJECT = /^(user|serviceaccount):[A-Za-z0-9_.@+-]{1,254}$/;
export const COLLABORATOR = /^(user|serviceaccount|team):[A-Za-z0-9_.@+-]{1,254}$/;

const subjectSchema = z
  .object({
    subject: z.string().regex(SUBJECT, 'must be user:<email> or serviceaccount:<name>'),
    tokenSha256: z
      .string()
      .regex(
        /^[0-9a-f]{64}$/,
        'must be the lower-case hex SHA-256 of the token (sgw-gateway hash-key prints it)',
      ),
    /** Admin of every secret group of the tenant (seed 001). */
    tenantAdmin: z.boolean().default(false),
  })
  .strict();

const teamSchema = z
  .object({
    name: segment,
    members: z.array(z.string().regex(SUBJECT, 'must be user:<email> or serviceaccount:<name>')).default([]),
  })
  .strict();

/**
 * A named backend instance. The default one is built from SGW_BACKEND and the process environment as
 * before; every other one takes its adapter's variables from `settings` (`${NAME}` in a value is
 * replaced by that environment variable, so credentials stay out of the file).
 */
const integrationSchema = z
  .object({
    id: segment,
    backend: z.string().min(1),
    /** A human name for provider-account listings; default the id. */
    name: z.string().min(1).max(128).optional(),
    /**
     * The FQN manifests name it by (`integration_fqn`), e.g. the one TrueFoundry shows for the same
     * store; default `<tenant>:<backend>:<id>:secret-store:<id>`.
     */
    fqn: z
      .string()
      .regex(/^[A-Za-z0-9_.@-]+(:[A-Za-z0-9_.@-]+)*$/, 'must be colon-separated names')
      .optional(),
    default: z.boolean().default(false),
    settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  })
  .strict();

export type IntegrationConfig = z.infer<typeof integrationSchema>;

export const configSchema = z
  .object({
    host: z.string().min(1).default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(8080),
    dataDir: z.string().min(1).default(DEFAULT_DATA_DIR),
    backend: z.string().min(1).default('sqlite'),
    root: z.string().min(1).default('tfy-secret'),
    readOnly: z.boolean().default(false),
    /** The tenant the secret-groups API serves: `<tenant>` in `tfy-secret://<tenant>:<group>:<key>`. */
    tenant: segment.default('default'),
    /** Subjects that may use the secret-groups API, each with the SHA-256 of its bearer token. */
    subjects: z.array(subjectSchema).default([]),
    teams: z.array(teamSchema).default([]),
    /** Backend instances by id; absent: one integration, `default`, on `backend`. */
    integrations: z.array(integrationSchema).min(1).optional(),
    /** Static routes for /secrets paths outside any group: the longest matching prefix wins. */
    mounts: z.array(z.object({ prefix: z.string().min(1), integration: segment }).strict()).default([]),
    groups: z
      .object({
        /**
         * Where group metadata lives: `sqlite` (`<dataDir>/groups.db`), `memory` (lost at exit), or
         * `postgres` (SGW_POSTGRES_URL / DATABASE_URL; shared by replicas). `auto`: `memory` on the
         * memory backend, `postgres` on postgres, else `sqlite`.
         */
        store: z.enum(['auto', 'sqlite', 'memory', 'postgres']).default('auto'),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        header: z
          .string()
          .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a valid HTTP header name')
          .default('X-API-Key'),
        keys: z.array(keySchema).default([]),
        /**
         * Proxies (addresses or CIDRs, or proxy-addr's names: loopback, linklocal, uniquelocal) whose
         * X-Forwarded-For is believed, for the failed-auth limiter and the audit trail. Empty: the
         * socket's address is the client.
         */
        trustedProxies: z.array(z.string().min(1)).default([]),
        failedAuth: z
          .object({
            /** Failures from one client address before it is refused (429). */
            maxFailures: z.number().int().min(1).default(10),
            /** Failures are counted over this window. */
            windowSeconds: z.number().int().min(1).default(60),
            /** How long a client is refused once over the limit. */
            lockoutSeconds: z.number().int().min(1).default(300),
            /** Delay added to each 401 after the first failure, doubling up to 2 s: slows guessing. */
            delayMs: z.number().int().min(0).max(2000).default(100),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        maxValueBytes: z
          .number()
          .int()
          .min(1)
          .max(16 * 1024 * 1024)
          .default(64 * 1024),
        bodyLimitBytes: z
          .number()
          .int()
          .min(1024)
          .max(128 * 1024 * 1024)
          .optional(),
        /** A client has this long to send its request headers (slow clients cannot hold connections). */
        headersTimeoutMs: z.number().int().min(100).max(600_000).default(20_000),
        /** ... and this long for the whole request, body included. */
        requestTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
        /** An idle keep-alive connection stays open this long: longer than the proxies' in front. */
        keepAliveTimeoutMs: z.number().int().min(1000).max(3_600_000).default(65_000),
      })
      .strict()
      .prefault({}),
    backendTimeoutMs: z.number().int().min(10).max(600_000).default(5000),
    shutdownTimeoutMs: z.number().int().min(0).max(600_000).default(10_000),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /** `json` (one JSON line per event, for collectors) or `pretty` (for people at a terminal). */
        format: z.enum(['json', 'pretty']).default('json'),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({ enabled: z.boolean().default(true) })
      .strict()
      .prefault({}),
    cache: z
      .object({
        mode: z.enum(['auto', 'on', 'off']).default('auto'),
        ttlMs: z.number().int().min(1).max(3_600_000).default(10_000),
        negativeTtlMs: z.number().int().min(0).max(3_600_000).default(0),
        maxEntries: z.number().int().min(1).max(10_000_000).default(10_000),
        maxBytes: z
          .number()
          .int()
          .min(1024)
          .default(64 * 1024 * 1024),
        staleIfErrorMs: z.number().int().min(0).max(86_400_000).default(0),
      })
      .strict()
      .prefault({}),
    audit: z
      .object({
        /** File to append audit lines to, `-` for stdout, or absent for no audit trail. */
        file: z.string().min(1).optional(),
        /** Refuse a request (503) when its audit line cannot be written. */
        failClosed: z.boolean().default(false),
        /** The chain's HMAC key (base64 of 32 bytes); default `<dataDir>/audit.key`, generated. SGW_AUDIT_KEY wins. */
        keyFile: z.string().min(1).optional(),
        /** The signed head of the chain; default `<file>.head`. */
        checkpointFile: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    tls: z
      .object({
        cert: z.string().min(1),
        key: z.string().min(1),
        /** CA bundle for client certificates. */
        clientCa: z.string().min(1).optional(),
        /** Refuse connections without a client certificate signed by clientCa. */
        requireClientCert: z.boolean().default(false),
      })
      .strict()
      .refine((t) => !t.requireClientCert || t.clientCa !== undefined, 'requireClientCert needs clientCa')
      .optional(),
  })
  .strict();

export type GatewayConfig = z.output<typeof configSchema> & { bodyLimitBytes: number };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

class EnvValueError extends Error {}
const int = (v: string) => {
  if (!/^\d{1,15}$/.test(v)) throw new EnvValueError(`must be a whole number (got ${JSON.stringify(v)})`);
  return Number(v);
};
// The one set of boolean spellings, shared with every adapter's variables (core's toolkit).
const bool = (v: string) => {
  const value = parseBoolean(v);
  if (value === undefined) throw new EnvValueError(`must be ${BOOLEAN_SPELLINGS} (got ${JSON.stringify(v)})`);
  return value;
};
const str = (v: string) => v;
const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Environment variable -> config path. Environment wins over the file. */
const ENV: Array<[string, string[], (v: string) => unknown]> = [
  ['HOST', ['host'], str],
  ['PORT', ['port'], int],
  ['SGW_DATA_DIR', ['dataDir'], str],
  ['SGW_BACKEND', ['backend'], str],
  ['SGW_ROOT', ['root'], str],
  ['SGW_READ_ONLY', ['readOnly'], bool],
  ['SGW_TENANT', ['tenant'], str],
  ['SGW_GROUPS_STORE', ['groups', 'store'], str],
  ['SGW_AUTH_HEADER', ['auth', 'header'], str],
  ['SGW_TRUSTED_PROXIES', ['auth', 'trustedProxies'], list],
  ['SGW_MAX_VALUE_BYTES', ['limits', 'maxValueBytes'], int],
  ['SGW_BODY_LIMIT_BYTES', ['limits', 'bodyLimitBytes'], int],
  ['SGW_HEADERS_TIMEOUT_MS', ['limits', 'headersTimeoutMs'], int],
  ['SGW_REQUEST_TIMEOUT_MS', ['limits', 'requestTimeoutMs'], int],
  ['SGW_KEEP_ALIVE_TIMEOUT_MS', ['limits', 'keepAliveTimeoutMs'], int],
  ['SGW_BACKEND_TIMEOUT_MS', ['backendTimeoutMs'], int],
  ['SGW_SHUTDOWN_TIMEOUT_MS', ['shutdownTimeoutMs'], int],
  ['SGW_LOG_LEVEL', ['log', 'level'], str],
  ['SGW_LOG_FORMAT', ['log', 'format'], str],
  ['SGW_METRICS', ['metrics', 'enabled'], bool],
  ['SGW_CACHE', ['cache', 'mode'], str],
  ['SGW_CACHE_TTL_MS', ['cache', 'ttlMs'], int],
  ['SGW_CACHE_NEGATIVE_TTL_MS', ['cache', 'negativeTtlMs'], int],
  ['SGW_CACHE_MAX_ENTRIES', ['cache', 'maxEntries'], int],
  ['SGW_CACHE_MAX_BYTES', ['cache', 'maxBytes'], int],
  ['SGW_CACHE_STALE_IF_ERROR_MS', ['cache', 'staleIfErrorMs'], int],
  ['SGW_AUDIT_FILE', ['audit', 'file'], str],
  ['SGW_AUDIT_FAIL_CLOSED', ['audit', 'failClosed'], bool],
  ['SGW_AUDIT_KEY_FILE', ['audit', 'keyFile'], str],
  ['SGW_AUDIT_CHECKPOINT_FILE', ['audit', 'checkpointFile'], str],
  ['SGW_FAILED_AUTH_MAX', ['auth', 'failedAuth', 'maxFailures'], int],
  ['SGW_FAILED_AUTH_LOCKOUT_SECONDS', ['auth', 'failedAuth', 'lockoutSeconds'], int],
  ['SGW_FAILED_AUTH_DELAY_MS', ['auth', 'failedAuth', 'delayMs'], int],
  ['SGW_TLS_CERT', ['tls', 'cert'], str],
  ['SGW_TLS_KEY', ['tls', 'key'], str],
  ['SGW_TLS_CLIENT_CA', ['tls', 'clientCa'], str],
  ['SGW_TLS_REQUIRE_CLIENT_CERT', ['tls', 'requireClientCert'], bool],
];

/** Names of the variables, for messages: `auth.header` -> `SGW_AUTH_HEADER`. */
const ENV_BY_PATH = new Map(ENV.map(([name, path]) => [path.join('.'), name]));

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  try {
    return parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(error as Error).message}`);
  }
}

/**
 * Merges file and environment and validates. `SGW_API_KEY` adds a key named `env` with every
 * operation on every path (the one place a plain key is accepted).
 */
export function loadConfig(env: Env, fileContent: unknown = {}): GatewayConfig {
  if (typeof fileContent !== 'object' || fileContent === null || Array.isArray(fileContent)) {
    throw new ConfigError('invalid configuration:\n  config file: must be a YAML mapping');
  }
  const raw = structuredClone(fileContent) as Record<string, unknown>;
  const envErrors: string[] = [];
  for (const [name, path, convert] of ENV) {
    const value = env[name];
    // Empty strings count as unset, as in most shells' `VAR= cmd`.
    if (value === undefined || value === '') continue;
    try {
      setPath(raw, path, convert(value));
    } catch (error) {
      envErrors.push(`${name}: ${(error as Error).message}`);
    }
  }
  if (envErrors.length > 0) throw new ConfigError(`invalid configuration:\n  ${envErrors.join('\n  ')}`);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const field = issue.path.join('.');
      const envName = ENV_BY_PATH.get(field);
      return `${field || 'config'}${envName ? ` (${envName})` : ''}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const config = parsed.data;
  const problems: string[] = [];
  for (const key of config.auth.keys) {
    if (key.key !== undefined) {
      problems.push(`auth.keys (${key.name}): plain keys are not accepted in the file; use sha256`);
    }
    for (const prefix of key.prefixes ?? []) {
      const problem = prefixProblem(prefix, config.root);
      if (problem) problems.push(`auth.keys (${key.name}).prefixes: ${JSON.stringify(prefix)} ${problem}`);
    }
  }
  try {
    compileTrust(config.auth.trustedProxies);
    if (config.limits.headersTimeoutMs > config.limits.requestTimeoutMs) {
      problems.push(
        'limits.headersTimeoutMs (SGW_HEADERS_TIMEOUT_MS): must not be more than limits.requestTimeoutMs',
      );
    }
  } catch (error) {
    problems.push(`auth.trustedProxies (SGW_TRUSTED_PROXIES): ${(error as Error).message}`);
  }
  const full = ['read', 'write', 'delete'] as Operation[];
  if (env.SGW_API_KEY) {
    const problem = keyProblem(env.SGW_API_KEY);
    if (problem) problems.push(`SGW_API_KEY: ${problem}`);
    else config.auth.keys.push({ name: 'env', key: env.SGW_API_KEY, operations: full });
  }
  if (env.SGW_BASIC_AUTH_USER || env.SGW_BASIC_AUTH_PASSWORD) {
    const user = env.SGW_BASIC_AUTH_USER ?? '';
    const password = env.SGW_BASIC_AUTH_PASSWORD ?? '';
    const problem = !/^[A-Za-z0-9_.@-]{1,64}$/.test(user)
      ? 'SGW_BASIC_AUTH_USER: must be 1-64 characters of A-Z a-z 0-9 _ . @ - (and set with SGW_BASIC_AUTH_PASSWORD)'
      : keyProblem(password) && `SGW_BASIC_AUTH_PASSWORD: ${keyProblem(password)}`;
    if (problem) problems.push(problem);
    else config.auth.keys.push({ name: 'env-basic', basicUser: user, key: password, operations: full });
  }
  problems.push(...integrationProblems(config));
  if (env.SGW_ADMIN_TOKEN) {
    // The quick start's tenant admin for the secret-groups API, like SGW_API_KEY for /secrets.
    const subject = env.SGW_ADMIN_SUBJECT || 'serviceaccount:admin';
    const problem = keyProblem(env.SGW_ADMIN_TOKEN);
    if (problem) problems.push(`SGW_ADMIN_TOKEN: ${problem}`);
    else if (!SUBJECT.test(subject))
      problems.push('SGW_ADMIN_SUBJECT: must be user:<email> or serviceaccount:<name>');
    else config.subjects.push({ subject, tokenSha256: sha256Hex(env.SGW_ADMIN_TOKEN), tenantAdmin: true });
  }
  const subjects = new Set<string>();
  for (const s of config.subjects) {
    if (subjects.has(s.subject)) problems.push(`subjects: ${s.subject} is listed more than once`);
    subjects.add(s.subject);
  }
  if (env.SGW_AUDIT_KEY && Buffer.from(env.SGW_AUDIT_KEY.trim(), 'base64').length !== 32)
    problems.push('SGW_AUDIT_KEY: must be base64 of exactly 32 bytes');
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  // A JSON string can take up to 6 bytes per byte of value (\u escapes), plus the path and framing.
  const bodyLimitBytes = config.limits.bodyLimitBytes ?? config.limits.maxValueBytes * 6 + 8192;
  return { ...config, bodyLimitBytes };
}

/**
 * `auto`: on for every durable backend, off for `memory` (a cache in front of a Map is a second Map).
 * Remote backends need it for round trips and rate limits; on the embedded store a hit skips the
 * SQLite read and the AES-GCM decryption, which measured as more than half the CPU of a GET
 * (docs/benchmarks.md).
 */
export function cacheEnabled(config: GatewayConfig, backend: string = config.backend): boolean {
  return config.cache.mode === 'on' || (config.cache.mode === 'auto' && backend !== 'memory');
}

/**
 * Why a key (or Basic password) could never work, or undefined. Header values lose leading and
 * trailing white space on the wire and carry no reliable non-ASCII, so such a key could never match.
 */
export function keyProblem(key: string): string | undefined {
  if (key.length < 16) return 'must be at least 16 characters';
  if (BEARER_PREFIX.test(key)) {
    return 'must be the key alone: clients send it bare or as "Authorization: Bearer <key>"';
  }
  if (!/^[\x21-\x7e]+$/.test(key)) {
    return 'must be printable ASCII without spaces (check for a trailing newline or space)';
  }
  return undefined;
}

const BEARER_PREFIX = /^bearer\s/i;

/** Integration ids unique, at most one default, mounts under the root and naming a known integration. */
function integrationProblems(config: z.output<typeof configSchema>): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const i of config.integrations ?? []) {
    if (ids.has(i.id)) problems.push(`integrations: id ${i.id} is used more than once`);
    ids.add(i.id);
  }
  if ((config.integrations ?? []).filter((i) => i.default).length > 1) {
    problems.push('integrations: only one may be the default');
  }
  if (!config.integrations) ids.add('default');
  for (const mount of config.mounts) {
    const problem = prefixProblem(mount.prefix, config.root);
    if (problem) problems.push(`mounts: ${JSON.stringify(mount.prefix)} ${problem}`);
    if (!ids.has(mount.integration)) {
      problems.push(
        `mounts: ${JSON.stringify(mount.prefix)} names integration ${mount.integration}, which is not configured`,
      );
    }
  }
  return problems;
}

/** Why a key's path prefix is unusable under `root`, or undefined. */
function prefixProblem(prefix: string, root: string): string | undefined {
  const trimmed = prefix.replace(/\/+$/, '');
  if (trimmed === root) return undefined;
  try {
    parseSecretPath(trimmed, root);
    return undefined;
  } catch (error) {
    return `is not a path under ${root}/ (${(error as Error).message})`;
  }
}

import type { BackendAdapter } from '@secret-gateway/core';

export type Env = Record<string, string | undefined>;

/**
 * Every backend the gateway can run on, chosen by `SGW_BACKEND`. Each adapter package exports
 * `fromEnv(env[, context])`, reading its own variables (the backend's usual names) and failing with an
 * error that names the missing variable. Loaded lazily so one backend's SDK never loads for another.
 */
export interface BackendContext {
  /** The gateway's data directory (`SGW_DATA_DIR`), for backends that keep local files. */
  dataDir: string;
  /** The path root and the per-call deadline, as resolved from the file and the environment. */
  root?: string;
  backendTimeoutMs?: number;
}

type Factory = (env: Env, context: BackendContext) => Promise<BackendAdapter>;

export const BACKENDS: Record<string, Factory> = {
  sqlite: async (env, ctx) => (await import('@secret-gateway/adapter-sqlite')).fromEnv(env, ctx),
  memory: async () => new (await import('@secret-gateway/adapter-memory')).MemoryAdapter(),
  vault: async (env) => (await import('@secret-gateway/adapter-vault')).fromEnv(env),
  aws: async (env) => (await import('@secret-gateway/adapter-aws')).fromEnv(env),
  gcp: async (env) => (await import('@secret-gateway/adapter-gcp')).fromEnv(env),
  azure: async (env, ctx) => (await import('@secret-gateway/adapter-azure')).fromEnv(env, ctx),
};

export async function createBackend(
  name: string,
  env: Env,
  context: BackendContext,
): Promise<BackendAdapter> {
  const factory = BACKENDS[name];
  if (!factory) {
    throw new Error(
      `SGW_BACKEND must be one of ${Object.keys(BACKENDS).join(', ')} (got ${JSON.stringify(name)})`,
    );
  }
  return factory(adapterEnv(env, context), context);
}

/**
 * The environment an adapter reads. Adapters read the gateway-wide settings they need from
 * `SGW_ROOT` and `SGW_BACKEND_TIMEOUT_MS`; these come from the resolved configuration, so a value
 * set only in the configuration file reaches the adapter too (the AWS health check probes
 * `<root>/@sgw-health`, which an IAM policy scoped to the root must allow).
 */
export function adapterEnv(env: Env, context: BackendContext): Env {
  return {
    ...env,
    ...(context.root === undefined ? {} : { SGW_ROOT: context.root }),
    ...(context.backendTimeoutMs === undefined
      ? {}
      : { SGW_BACKEND_TIMEOUT_MS: String(context.backendTimeoutMs) }),
  };
}

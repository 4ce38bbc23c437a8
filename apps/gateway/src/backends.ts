import type { BackendAdapter, GatewaySettings } from '@secret-gateway/core';
import { ConfigError } from './config.ts';

export type Env = Record<string, string | undefined>;

/** The gateway-wide settings every adapter receives, typed (the root, the deadline, the data dir). */
export type BackendContext = GatewaySettings;

/**
 * Every backend the gateway can run on, chosen by `SGW_BACKEND`. `check` is each adapter's pure
 * configuration step (its own variables from `env`, the gateway's settings typed): it throws an Error
 * naming the variable, and describes what it would connect to without connecting or touching files.
 * `create` runs the same step, then builds the SDK client. Packages are imported lazily, so one
 * backend's SDK never loads for another.
 */
export interface Backend {
  check: (env: Env, settings: GatewaySettings) => Promise<string>;
  create: (env: Env, settings: GatewaySettings) => Promise<BackendAdapter>;
}

export const BACKENDS: Record<string, Backend> = {
  sqlite: {
    check: async (env, s) => {
      const sqlite = await import('@secret-gateway/adapter-sqlite');
      return sqlite.describeSettings(sqlite.settingsFromEnv(env, s));
    },
    create: async (env, s) => (await import('@secret-gateway/adapter-sqlite')).fromEnv(env, s),
  },
  memory: {
    check: async () => 'memory: in this process only, nothing is kept across restarts',
    create: async () => new (await import('@secret-gateway/adapter-memory')).MemoryAdapter(),
  },
  vault: {
    check: async (env, s) => {
      const vault = await import('@secret-gateway/adapter-vault');
      return vault.describeOptions(vault.optionsFromEnv(env, s));
    },
    create: async (env, s) => (await import('@secret-gateway/adapter-vault')).fromEnv(env, s),
  },
  aws: {
    check: async (env, s) => {
      const aws = await import('@secret-gateway/adapter-aws');
      return aws.describeOptions(aws.optionsFromEnv(env, s));
    },
    create: async (env, s) => (await import('@secret-gateway/adapter-aws')).fromEnv(env, s),
  },
  gcp: {
    check: async (env, s) => {
      const gcp = await import('@secret-gateway/adapter-gcp');
      return gcp.describeOptions(gcp.optionsFromEnv(env, s));
    },
    create: async (env, s) => (await import('@secret-gateway/adapter-gcp')).fromEnv(env, s),
  },
  azure: {
    check: async (env, s) => {
      const azure = await import('@secret-gateway/adapter-azure');
      return azure.describeSettings(azure.settingsFromEnv(env, s));
    },
    create: async (env, s) => (await import('@secret-gateway/adapter-azure')).fromEnv(env, s),
  },
  postgres: {
    check: async (env, s) => {
      const postgres = await import('@secret-gateway/adapter-postgres');
      postgres.keysFromEnv(env);
      return postgres.describeSettings(postgres.settingsFromEnv(env, s));
    },
    create: async (env, s) => (await import('@secret-gateway/adapter-postgres')).fromEnv(env, s),
  },
};

function backendNamed(name: string): Backend {
  const backend = Object.hasOwn(BACKENDS, name) ? BACKENDS[name] : undefined;
  if (!backend) {
    throw new ConfigError(
      `invalid configuration:\n  SGW_BACKEND must be one of ${Object.keys(BACKENDS).join(', ')} (got ${JSON.stringify(name)})`,
    );
  }
  return backend;
}

/**
 * Checks the backend's settings without connecting (`config check`): throws a ConfigError naming the
 * variable, or returns a short description of what the gateway would use, with no credential in it.
 */
export async function validateBackend(name: string, env: Env, settings: GatewaySettings): Promise<string> {
  const backend = backendNamed(name);
  try {
    return await backend.check(env, settings);
  } catch (error) {
    throw new ConfigError(`invalid configuration:\n  ${(error as Error).message}`);
  }
}

/** Builds the adapter: the same configuration step as validateBackend, then the SDK client. */
export async function createBackend(
  name: string,
  env: Env,
  settings: GatewaySettings,
): Promise<BackendAdapter> {
  return backendNamed(name).create(env, settings);
}

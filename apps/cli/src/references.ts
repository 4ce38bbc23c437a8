import type { ApiClient } from './client.ts';
import { CliError, EXIT } from './errors.ts';
import type { Secret, SecretGroup } from './types.ts';

export const SCHEME = 'tfy-secret://';

export interface SecretRef {
  tenant: string;
  group: string;
  key: string;
}

/** `tfy-secret://tenant:group:key` or `tenant:group:key`; undefined when it is not that shape. */
export function parseRef(text: string): SecretRef | undefined {
  const body = text.startsWith(SCHEME) ? text.slice(SCHEME.length) : text;
  const parts = body.split(':');
  if (parts.length !== 3 || parts.some((p) => p === '')) return undefined;
  const [tenant, group, key] = parts as [string, string, string];
  return { tenant, group, key };
}

export function formatRef(ref: SecretRef): string {
  return `${SCHEME}${ref.tenant}:${ref.group}:${ref.key}`;
}

/** Resolves references through the API, one group lookup per group in a run. */
export class SecretResolver {
  private readonly groups = new Map<string, Promise<SecretGroup | undefined>>();

  constructor(private readonly api: ApiClient) {}

  private group(fqn: string): Promise<SecretGroup | undefined> {
    let found = this.groups.get(fqn);
    if (!found) {
      found = this.api.group(fqn).catch((err: unknown) => {
        if (err instanceof CliError && err.exitCode === EXIT.notFound) return undefined;
        throw err;
      });
      this.groups.set(fqn, found);
    }
    return found;
  }

  /** The secret with its value; a CliError naming the reference when it cannot be had. */
  async secret(ref: SecretRef): Promise<Secret> {
    const name = formatRef(ref);
    let group: SecretGroup | undefined;
    try {
      group = await this.group(`${ref.tenant}:${ref.group}`);
    } catch (err) {
      throw explain(err, name);
    }
    if (!group)
      throw new CliError(
        `${name}: no secret group ${ref.tenant}:${ref.group} (or this token has no role on it)`,
        EXIT.notFound,
      );
    const entry = group.associatedSecrets.find((s) => s.name === ref.key);
    if (!entry) throw new CliError(`${name}: group ${group.fqn} has no key ${ref.key}`, EXIT.notFound);
    try {
      return await this.api.secret(entry.id);
    } catch (err) {
      throw explain(err, name);
    }
  }
}

function explain(err: unknown, name: string): unknown {
  if (!(err instanceof CliError)) return err;
  // 401 is about the token, 403 about this secret: only the latter is "permission denied for".
  if (err.status === 403) return new CliError(`permission denied for ${name} (${err.message})`, EXIT.denied);
  return new CliError(`${name}: ${err.message}`, err.exitCode);
}

import type { Connection } from './config.ts';
import { CliError, EXIT, exitCodeForStatus } from './errors.ts';
import type { Integration, ProviderAccount, Secret, SecretGroup, Whoami } from './types.ts';

const API = '/api/svc/v1';

/** The secret-groups API of the gateway (TrueFoundry's /api/svc/v1 shapes). */
export class ApiClient {
  constructor(private readonly conn: Connection) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.conn.url}${API}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${this.conn.token}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new CliError(`cannot reach ${this.conn.url}: ${cause}`, EXIT.failure);
    }
    const text = await res.text();
    if (!res.ok)
      throw new CliError(
        describeHttpError(method, path, res.status, text),
        exitCodeForStatus(res.status),
        res.status,
      );
    try {
      return (text ? JSON.parse(text) : {}) as T;
    } catch {
      throw new CliError(
        `${method} ${API}${path}: the server answered ${res.status} with a body that is not JSON`,
      );
    }
  }

  whoami() {
    return this.call<{ data: Whoami }>('GET', '/whoami').then((r) => r.data);
  }

  async listGroups(): Promise<SecretGroup[]> {
    const all: SecretGroup[] = [];
    for (let offset = 0; ; ) {
      const page = await this.call<{ data: SecretGroup[]; pagination?: { total: number } }>(
        'GET',
        `/secret-groups?limit=100&offset=${offset}`,
      );
      all.push(...page.data);
      offset += page.data.length;
      if (page.data.length === 0 || offset >= (page.pagination?.total ?? offset)) return all;
    }
  }

  /** A group by id, or by fqn (`tenant:group`) when the argument has a colon. */
  async group(ref: string): Promise<SecretGroup> {
    if (!ref.includes(':'))
      return (await this.call<{ data: SecretGroup }>('GET', `/secret-groups/${encodeURIComponent(ref)}`))
        .data;
    const found = await this.call<{ data: SecretGroup[] }>(
      'GET',
      `/secret-groups?fqn=${encodeURIComponent(ref)}`,
    );
    const group = found.data[0];
    if (!group)
      throw new CliError(
        `secret group ${ref} not found; sgw groups list shows the groups you can see`,
        EXIT.notFound,
      );
    return group;
  }

  createGroup(body: { name: string; integrationId: string; secrets: { key: string; value: string }[] }) {
    return this.call<{ data: SecretGroup }>('POST', '/secret-groups', body).then((r) => r.data);
  }

  updateGroup(id: string, secrets: { key: string; value?: string }[]) {
    return this.call<{ data: SecretGroup }>('PUT', `/secret-groups/${encodeURIComponent(id)}`, {
      secrets,
    }).then((r) => r.data);
  }

  deleteGroup(id: string) {
    return this.call<unknown>('DELETE', `/secret-groups/${encodeURIComponent(id)}`);
  }

  async groupSecrets(groupId: string): Promise<Secret[]> {
    const all: Secret[] = [];
    for (let offset = 0; ; ) {
      const page = await this.call<{ data: Secret[]; pagination?: { total: number } }>('POST', '/secrets', {
        secretGroupId: groupId,
        limit: 100,
        offset,
      });
      all.push(...page.data);
      offset += page.data.length;
      if (page.data.length === 0 || offset >= (page.pagination?.total ?? offset)) return all;
    }
  }

  /**
   * The group's secrets with their versions: the list answer may leave secretVersions out (the
   * gateway's does), then each secret is read, a few at a time.
   */
  async groupSecretsWithVersions(groupId: string): Promise<Secret[]> {
    const list = await this.groupSecrets(groupId);
    const out: Secret[] = [];
    for (let i = 0; i < list.length; i += 8) {
      const chunk = list.slice(i, i + 8);
      out.push(...(await Promise.all(chunk.map((s) => (s.secretVersions ? s : this.secret(s.id))))));
    }
    return out;
  }

  secret(id: string) {
    return this.call<{ data: Secret }>('GET', `/secrets/${encodeURIComponent(id)}`).then((r) => r.data);
  }

  deleteSecret(id: string) {
    return this.call<unknown>('DELETE', `/secrets/${encodeURIComponent(id)}`);
  }

  providerAccounts() {
    return this.call<{ data: ProviderAccount[] }>('GET', '/provider-accounts?type=secret-store').then(
      (r) => r.data,
    );
  }
}

/** The server's HttpError message with the status; the body never holds a value we sent. */
function describeHttpError(method: string, path: string, status: number, text: string): string {
  let message = '';
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string') message = body.message;
  } catch {
    // not an HttpError body: report the status alone
  }
  const hint =
    status === 401
      ? ' (check the token: sgw login, or SGW_TOKEN)'
      : status === 403
        ? ' (permission denied: check what your token may access)'
        : '';
  return `${method} ${API}${path.split('?')[0]} failed: ${status}${message ? ` ${message}` : ''}${hint}`;
}

export type { Integration };

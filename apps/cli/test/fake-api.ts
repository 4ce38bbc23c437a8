import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// A small real HTTP server speaking the /api/svc/v1 shapes the lead's gateway API fixes, for the
// commands main cannot serve yet. Tokens: `admin` reads everything; `viewer` gets null values;
// `denied` gets 403 on GET /secrets/{id}.

interface StoredSecret {
  id: string;
  key: string;
  versions: { version: number; value: string; at: string }[];
}
interface StoredGroup {
  id: string;
  name: string;
  integrationId: string;
  secrets: StoredSecret[];
  updatedAt: string;
}

export interface FakeApi {
  url: string;
  tokens: { admin: string; viewer: string; denied: string };
  /** Every request as "METHOD path" (the server's log, for leak checks and call counts). */
  requests: string[];
  /** Request bodies as received (never printed by tests). */
  bodies: string[];
  groups: Map<string, StoredGroup>;
  close: () => Promise<void>;
}

const TENANT = 'acme';

export async function startFakeApi(): Promise<FakeApi> {
  const tokens = {
    admin: `adm-${randomUUID()}`,
    viewer: `view-${randomUUID()}`,
    denied: `deny-${randomUUID()}`,
  };
  const groups = new Map<string, StoredGroup>();
  const requests: string[] = [];
  const bodies: string[] = [];

  const secretView = (g: StoredGroup, s: StoredSecret, role: string) => {
    const latest = s.versions[s.versions.length - 1];
    return {
      id: s.id,
      fqn: `${TENANT}:${g.name}:${s.key}`,
      name: s.key,
      secretGroupId: g.id,
      value: role === 'admin' ? (latest?.value ?? null) : null,
      updatedAt: latest?.at,
      secretVersions: s.versions.map((v) => ({
        id: `${s.id}-v${v.version}`,
        fqn: `${TENANT}:${g.name}:${s.key}`,
        version: v.version,
      })),
    };
  };
  const groupView = (g: StoredGroup) => ({
    id: g.id,
    fqn: `${TENANT}:${g.name}`,
    name: g.name,
    tenantName: TENANT,
    integrationId: g.integrationId,
    createdBySubject: { subjectId: 'admin@example.com', subjectType: 'user' },
    associatedSecrets: g.secrets.map((s) => ({
      id: s.id,
      fqn: `${TENANT}:${g.name}:${s.key}`,
      name: s.key,
      secretGroupId: g.id,
    })),
    manifest: { collaborators: [] },
    createdAt: g.updatedAt,
    updatedAt: g.updatedAt,
  });
  const findSecret = (id: string) => {
    for (const g of groups.values()) {
      const s = g.secrets.find((x) => x.id === id);
      if (s) return { g, s };
    }
    return undefined;
  };

  const handle = (req: IncomingMessage, body: string, role: string): [number, unknown] => {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname.replace(/^\/api\/svc\/v1/, '');
    const json = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    const m = req.method;
    const notFound: [number, unknown] = [
      404,
      { statusCode: 404, message: 'Secret group not found', code: 'not_found' },
    ];
    if (m === 'GET' && p === '/whoami') {
      return [
        200,
        {
          data: {
            subject: `user:${role}@example.com`,
            subjectType: 'user',
            tenantName: TENANT,
            tenantAdmin: role === 'admin',
            teams: ['platform'],
          },
        },
      ];
    }
    if (m === 'GET' && p === '/provider-accounts') {
      return [
        200,
        {
          data: [
            {
              id: 'pa-1',
              name: 'gateway',
              fqn: 'acme:gateway',
              provider: 'sqlite',
              type: 'provider-account',
              integrations: [
                { id: 'default', name: 'default', fqn: 'acme:gateway:default', type: 'secret-store' },
              ],
            },
          ],
        },
      ];
    }
    if (m === 'GET' && p === '/secret-groups') {
      const fqn = url.searchParams.get('fqn');
      if (fqn !== null)
        return [
          200,
          { data: [...groups.values()].filter((g) => `${TENANT}:${g.name}` === fqn).map(groupView) },
        ];
      const all = [...groups.values()];
      const offset = Number(url.searchParams.get('offset') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 100);
      return [
        200,
        {
          data: all.slice(offset, offset + limit).map(groupView),
          pagination: { total: all.length, offset, limit },
        },
      ];
    }
    if (m === 'POST' && p === '/secret-groups') {
      if ([...groups.values()].some((g) => g.name === json.name))
        return [
          409,
          { statusCode: 409, message: 'Secret group with this name already exists', code: 'already_exists' },
        ];
      const at = new Date().toISOString();
      const g: StoredGroup = {
        id: `sg-${randomUUID().slice(0, 8)}`,
        name: String(json.name),
        integrationId: String(json.integrationId),
        updatedAt: at,
        secrets: (json.secrets as { key: string; value: string }[]).map((s) => ({
          id: `s-${randomUUID().slice(0, 8)}`,
          key: s.key,
          versions: [{ version: 1, value: s.value, at }],
        })),
      };
      groups.set(g.id, g);
      return [200, { data: groupView(g) }];
    }
    const groupId = /^\/secret-groups\/([^/]+)$/.exec(p)?.[1];
    if (groupId) {
      const g = groups.get(groupId);
      if (!g) return notFound;
      if (m === 'GET') return [200, { data: groupView(g) }];
      if (m === 'DELETE') {
        groups.delete(groupId);
        return [200, { data: { id: groupId } }];
      }
      if (m === 'PUT') {
        const at = new Date().toISOString();
        const next: StoredSecret[] = [];
        for (const input of json.secrets as { key: string; value?: string }[]) {
          const s = g.secrets.find((x) => x.key === input.key) ?? {
            id: `s-${randomUUID().slice(0, 8)}`,
            key: input.key,
            versions: [],
          };
          const last = s.versions[s.versions.length - 1];
          if (input.value !== undefined && input.value !== last?.value)
            s.versions.push({ version: (last?.version ?? 0) + 1, value: input.value, at });
          next.push(s);
        }
        g.secrets = next;
        g.updatedAt = at;
        return [200, { data: groupView(g) }];
      }
    }
    if (m === 'POST' && p === '/secrets') {
      const g = groups.get(String(json.secretGroupId));
      if (!g) return notFound;
      const offset = Number(json.offset ?? 0);
      const limit = Number(json.limit ?? 100);
      return [
        200,
        {
          data: g.secrets.slice(offset, offset + limit).map((s) => secretView(g, s, role)),
          pagination: { total: g.secrets.length, offset, limit },
        },
      ];
    }
    const secretId = /^\/secrets\/([^/]+)$/.exec(p)?.[1];
    if (secretId) {
      const found = findSecret(secretId);
      if (!found) return [404, { statusCode: 404, message: 'Secret not found', code: 'not_found' }];
      if (role === 'denied')
        return [403, { statusCode: 403, message: 'Permission denied', code: 'forbidden' }];
      if (m === 'GET') return [200, { data: secretView(found.g, found.s, role) }];
      if (m === 'DELETE') {
        found.g.secrets = found.g.secrets.filter((s) => s.id !== secretId);
        return [200, { data: { id: secretId } }];
      }
    }
    return [404, { statusCode: 404, message: `no route ${m} ${p}`, code: 'not_found' }];
  };

  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`);
      bodies.push(body);
      const auth = req.headers.authorization ?? '';
      const role = Object.entries(tokens).find(([, t]) => auth === `Bearer ${t}`)?.[0];
      const [status, payload] = role
        ? handle(req, body, role)
        : [401, { statusCode: 401, message: 'Unauthorized', code: 'unauthorized' }];
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tokens,
    requests,
    bodies,
    groups,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

import type { SecretService } from '@secret-gateway/core';
import type { IntegrationDirectory, MetadataStore } from '@secret-gateway/groups';
import { underPrefix } from './auth.ts';

/** One backend instance, by id (the `integrationId` of the secret-groups API). */
export interface Integration {
  id: string;
  /** The backend kind: `sqlite`, `vault`, `aws`, ... */
  backend: string;
  name: string;
  /** TrueFoundry-style: `<tenant>:<backend>:<id>:secret-store:<id>`. */
  fqn: string;
  service: SecretService;
}

/** How often the group index is reloaded when groups can live on several integrations. */
const REFRESH_MS = 5000;

/**
 * The integrations and where each `/secrets` path goes: a path under a group's prefix
 * (`<root>/<tenant>/<group>/...`) to that group's integration, else the longest static mount
 * prefix, else the default. With one integration every path goes to it and nothing is looked up.
 */
export class Integrations implements IntegrationDirectory {
  readonly default: Integration;
  readonly all: readonly Integration[];
  readonly #byId: Map<string, Integration>;
  readonly #mounts: Array<{ prefix: string; integration: Integration }>;
  readonly #root: string;
  /** `<tenant>/<group>` -> integration id, for every group (a group's prefix beats a mount's). */
  #groups = new Map<string, string>();
  #refresh: NodeJS.Timeout | undefined;

  constructor(
    all: Integration[],
    defaultId: string,
    mounts: Array<{ prefix: string; integration: string }>,
    root: string,
  ) {
    this.all = all;
    this.#byId = new Map(all.map((i) => [i.id, i]));
    this.default = this.#byId.get(defaultId) as Integration;
    this.#root = root;
    this.#mounts = mounts
      .map((m) => ({
        prefix: m.prefix.replace(/\/+$/, ''),
        integration: this.#byId.get(m.integration) as Integration,
      }))
      .sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** One integration, `default`, over `service` (tests, embedding). */
  static of(service: SecretService, backend = service.adapter.name): Integrations {
    const fqn = `default:${backend}:default:secret-store:default`;
    return new Integrations(
      [{ id: 'default', backend, name: 'default', fqn, service }],
      'default',
      [],
      service.root,
    );
  }

  get single(): boolean {
    return this.all.length === 1;
  }

  service(id: string): SecretService | undefined {
    return this.#byId.get(id)?.service;
  }

  get(id: string): Integration | undefined {
    return this.#byId.get(id);
  }

  resolve(idOrFqn: string): string | undefined {
    if (this.#byId.has(idOrFqn)) return idOrFqn;
    return this.all.find((i) => i.fqn === idOrFqn)?.id;
  }

  groupChanged(tenant: string, name: string, integrationId: string | undefined): void {
    const key = `${tenant}/${name}`;
    if (integrationId === undefined) this.#groups.delete(key);
    else this.#groups.set(key, integrationId);
  }

  /**
   * Loads the group index, and with several integrations reloads it every few seconds: a group
   * created through another replica routes here after at most that long.
   */
  async watch(store: MetadataStore): Promise<void> {
    // One integration routes everything to it: no index to load (and a start does not wait for
    // the metadata store, which may be a database that is down for now).
    if (this.single) return;
    const load = async () => {
      const next = new Map<string, string>();
      for (const g of await store.groupIntegrations()) {
        next.set(`${g.tenant}/${g.name}`, g.integrationId);
      }
      this.#groups = next;
    };
    await load();
    this.#refresh = setInterval(() => load().catch(() => {}), REFRESH_MS);
    this.#refresh.unref();
  }

  /** The service a valid `/secrets` path goes to. */
  serviceFor(path: string): SecretService {
    if (this.single) return this.default.service;
    const start = this.#root.length + 1;
    const first = path.indexOf('/', start);
    const second = first < 0 ? -1 : path.indexOf('/', first + 1);
    if (second > 0 && this.#groups.size > 0) {
      const id = this.#groups.get(path.slice(start, second));
      if (id !== undefined) return (this.#byId.get(id) as Integration).service;
    }
    for (const m of this.#mounts) if (underPrefix(path, m.prefix)) return m.integration.service;
    return this.default.service;
  }

  async close(): Promise<void> {
    clearInterval(this.#refresh);
    await Promise.all(this.all.map((i) => i.service.close()));
  }
}

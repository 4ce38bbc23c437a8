/** A name under the root that no gateway path maps to (`@` is not a path character). */
export const healthName = (root: string) => `${root}/@sgw-health`;

/** One path the adapter uses, the capabilities it needs there, and the path it asks Vault about. */
export interface WantedCapabilities {
  /** As an operator writes it in a policy: `secret/data/tfy-secret/*`. */
  glob: string;
  probe: string;
  needs: string[];
}

/**
 * Every capability the adapter uses under the root: writes are `create` for a new secret and
 * `update` for an existing one (Vault's rule for POST), deleteSecret deletes the metadata, and
 * deleteVersion posts to destroy.
 */
export function requiredCapabilities(mount: string, root: string): WantedCapabilities[] {
  // Vault takes the paths as written in policies, unencoded.
  const at = (kind: string) => ({
    glob: `${mount}/${kind}/${root}/*`,
    probe: `${mount}/${kind}/${healthName(root)}`,
  });
  return [
    { ...at('data'), needs: ['create', 'read', 'update'] },
    { ...at('metadata'), needs: ['create', 'read', 'update', 'delete'] },
    { ...at('destroy'), needs: ['update'] },
  ];
}

/**
 * `read, update on secret/data/tfy-secret/*` for each path whose granted capabilities (Vault's
 * capabilities-self answer, keyed by path) lack some that are needed. `root` grants everything and
 * `deny` nothing, as in Vault's ACL.
 */
export function missingCapabilities(wanted: WantedCapabilities[], answer: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const { glob, probe, needs } of wanted) {
    const granted = answer[probe];
    const list = Array.isArray(granted) ? granted.filter((c): c is string => typeof c === 'string') : [];
    if (list.includes('root') && !list.includes('deny')) continue;
    const lacking = list.includes('deny') ? needs : needs.filter((c) => !list.includes(c));
    if (lacking.length > 0) out.push(`${lacking.join(', ')} on ${glob}`);
  }
  return out;
}

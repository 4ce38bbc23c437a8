/**
 * Vault's ACL as far as the gateway meets it (https://developer.hashicorp.com/vault/docs/concepts/policies):
 * a policy is a list of path rules with capabilities; `*` at the end of a path is a prefix glob and `+`
 * stands for one segment. When several rules match, an exact path wins, then the most specific glob
 * (simplified here to the longest pattern). `deny` overrides everything on its rule; `root` tokens
 * may do anything.
 */
export interface PolicyRule {
  path: string;
  capabilities: string[];
}

function matches(pattern: string, path: string): boolean {
  const glob = pattern.endsWith('*');
  const parts = (glob ? pattern.slice(0, -1) : pattern).split('/');
  const segments = path.split('/');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const segment = segments[i];
    if (segment === undefined) return false;
    const last = i === parts.length - 1;
    if (part === '+') continue;
    if (last && glob) return segment.startsWith(part);
    if (part !== segment) return false;
  }
  return glob || segments.length === parts.length;
}

/** The capabilities a policy grants on a path; `['deny']` when no rule matches (Vault's answer). */
export function capabilitiesOf(rules: PolicyRule[], path: string): string[] {
  const found = rules.filter((r) => matches(r.path, path));
  if (found.length === 0) return ['deny'];
  const exact = found.find((r) => !r.path.includes('*') && !r.path.includes('+'));
  const best = exact ?? found.sort((a, b) => b.path.length - a.path.length)[0];
  const caps = best?.capabilities ?? [];
  return caps.includes('deny') ? ['deny'] : caps.length > 0 ? [...caps] : ['deny'];
}

/** Whether a policy allows `capability` on `path`. */
export function allows(rules: PolicyRule[], path: string, capability: string): boolean {
  return capabilitiesOf(rules, path).includes(capability);
}

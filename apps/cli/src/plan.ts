import { CliError, EXIT } from './errors.ts';

export interface UpdatePlan {
  added: string[];
  changed: string[];
  unchanged: string[];
  removed: string[];
  kept: string[];
  /** The PUT body: a key without value keeps its value; a key left out is deleted. */
  body: { key: string; value?: string }[];
}

/**
 * Turns "these keys get these values, these keys go" into the API's replace-the-list update,
 * so that what the server deletes is exactly what the plan shows.
 */
export function planUpdate(
  existing: Map<string, string | null | undefined>,
  incoming: Map<string, string>,
  options: { remove?: string[]; prune?: boolean },
): UpdatePlan {
  const remove = new Set(options.remove ?? []);
  for (const key of remove) {
    if (incoming.has(key)) throw new CliError(`key ${key} is both set and deleted`, EXIT.usage);
    if (!existing.has(key))
      throw new CliError(`cannot delete ${key}: the group has no such key`, EXIT.notFound);
  }
  const plan: UpdatePlan = { added: [], changed: [], unchanged: [], removed: [], kept: [], body: [] };
  for (const [key, value] of incoming) {
    if (!existing.has(key)) plan.added.push(key);
    // A value we cannot read (null) may differ: send it, the server versions it if it does.
    else if (existing.get(key) === value) plan.unchanged.push(key);
    else plan.changed.push(key);
  }
  for (const key of existing.keys()) {
    if (incoming.has(key)) continue;
    if (remove.has(key) || options.prune) plan.removed.push(key);
    else plan.kept.push(key);
  }
  for (const key of [...plan.added, ...plan.changed])
    plan.body.push({ key, value: incoming.get(key) as string });
  // Unchanged values are sent without value: no new version for the same value.
  for (const key of [...plan.unchanged, ...plan.kept]) plan.body.push({ key });
  for (const list of [plan.added, plan.changed, plan.unchanged, plan.removed, plan.kept]) list.sort();
  return plan;
}

export function describePlan(plan: UpdatePlan): string[] {
  return [
    ...plan.added.map((k) => `  + ${k}  (new key)`),
    ...plan.changed.map((k) => `  ~ ${k}  (new value, new version)`),
    ...plan.removed.map((k) => `  - ${k}  (deleted, with all its versions)`),
    ...plan.unchanged.map((k) => `  = ${k}  (same value, unchanged)`),
    ...(plan.kept.length ? [`  kept as they are: ${plan.kept.join(', ')}`] : []),
  ];
}

export function planIsEmpty(plan: UpdatePlan): boolean {
  return plan.added.length + plan.changed.length + plan.removed.length === 0;
}

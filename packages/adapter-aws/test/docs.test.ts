import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AWS_ENV } from '../src/config.ts';

// docs/backends/aws.md is what operators configure and grant from: it must keep up with the code.
const docs = readFileSync(resolve(import.meta.dirname, '../../../docs/backends/aws.md'), 'utf8');
const src = resolve(import.meta.dirname, '../src');
const config = readFileSync(resolve(src, 'config.ts'), 'utf8');

/** Every variable config.ts reads: `env.X`, `integer(env, 'X', ...)`, `const { X: x } = env`. */
function variablesRead(source: string): Set<string> {
  const names = new Set<string>();
  for (const m of source.matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g)) names.add(m[1] as string);
  for (const m of source.matchAll(/\(env, '([A-Z][A-Z0-9_]*)'/g)) names.add(m[1] as string);
  for (const m of source.matchAll(/\{([^{}]*)\}\s*=\s*env\b/g))
    for (const k of (m[1] as string).matchAll(/\b([A-Z][A-Z0-9_]*)\s*:/g)) names.add(k[1] as string);
  return names;
}

/** The Secrets Manager actions the adapter's code sends (`new XCommand(`). */
function actionsSent(): Set<string> {
  const actions = new Set<string>();
  for (const file of readdirSync(src).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(resolve(src, file), 'utf8');
    for (const m of text.matchAll(/new (\w+)Command\(/g)) actions.add(`secretsmanager:${m[1]}`);
  }
  return actions;
}

/** The actions the policy in the doc's IAM section grants. */
function actionsGranted(): Set<string> {
  const section = docs.slice(docs.indexOf('## IAM'));
  const block = /```json\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('docs/backends/aws.md: no ```json policy under "## IAM"');
  const policy = JSON.parse(block) as { Statement: Array<{ Action: string | string[] }> };
  return new Set(policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));
}

describe('docs/backends/aws.md', () => {
  it('documents every variable config.ts reads', () => {
    const read = variablesRead(config);
    // The scan must see what AWS_ENV declares, or it has stopped working.
    for (const { name } of AWS_ENV)
      expect(read, `${name} in AWS_ENV but not found by the scan`).toContain(name);
    expect(read).toContain('AWS_DEFAULT_REGION');
    expect(read).toContain('AWS_SESSION_TOKEN');
    for (const name of read) expect(docs, name).toContain(`\`${name}\``);
  });

  it("grants exactly the Secrets Manager actions the adapter's code calls", () => {
    const sent = actionsSent();
    expect(sent.size).toBeGreaterThanOrEqual(9);
    expect([...actionsGranted()].sort()).toEqual([...sent].sort());
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';
import { groupComponents } from '../src/api/groups-schemas.ts';

/** The people of the role tests: a token each, and the config entries that name them. */
export const PEOPLE = {
  admin: { subject: 'user:admin@example.com', tenantAdmin: true },
  alice: { subject: 'user:alice@example.com' },
  bob: { subject: 'user:bob@example.com' },
  carol: { subject: 'user:carol@example.com' },
  dave: { subject: 'serviceaccount:dave' },
} as const;
export type Person = keyof typeof PEOPLE;

export const TOKENS: Record<Person, string> = Object.fromEntries(
  Object.keys(PEOPLE).map((p) => [p, `tok-${p}-${randomBytes(12).toString('hex')}`]),
) as Record<Person, string>;

const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');

/** Config file content: tenant acme, the people above, bob in team platform. */
export function groupsConfig(extra: Record<string, unknown> = {}) {
  return {
    tenant: 'acme',
    subjects: Object.entries(PEOPLE).map(([p, s]) => ({
      subject: s.subject,
      tokenSha256: sha256(TOKENS[p as Person]),
      ...('tenantAdmin' in s ? { tenantAdmin: true } : {}),
    })),
    teams: [{ name: 'platform', members: ['user:bob@example.com'] }],
    ...extra,
  };
}

/** Seed 004's components, compiled once: every response of the API is checked against them. */
const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats.default(ajv);
// Refs between components point into `$defs` of one schema, as JSON Schema 2020-12 has it.
const defs = JSON.parse(
  JSON.stringify(groupComponents()).replaceAll('#/components/schemas/', 'seed004#/$defs/'),
);
ajv.addSchema({ $id: 'seed004', $defs: defs });
const validators = new Map<string, ReturnType<typeof ajv.compile>>();
export function expectSchema(name: string, value: unknown): void {
  let validate = validators.get(name);
  if (!validate) {
    validate = ajv.compile({ $ref: `seed004#/$defs/${name}` });
    validators.set(name, validate);
  }
  const ok = validate(value);
  expect(ok ? null : ajv.errorsText(validate.errors)).toBeNull();
}

export interface Api {
  call: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;
}

/** A client of `<url>/api/svc/v1` as one person; every error body is checked as HttpError. */
export function apiAs(url: string, who: Person | string | undefined): Api {
  const token = who === undefined ? undefined : ((TOKENS as Record<string, string>)[who] ?? who);
  return {
    async call(method, path, body) {
      const res = await fetch(`${url}/api/svc/v1${path}`, {
        method,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const parsed = (await res.json()) as any;
      if (res.status >= 400) {
        expectSchema('HttpError', parsed);
        expect(parsed.statusCode).toBe(res.status);
      }
      return { status: res.status, body: parsed };
    },
  };
}

import { ROLES } from '@secret-gateway/groups';
import { z } from 'zod';
import { COLLABORATOR } from '../config.ts';

/**
 * The secret-groups API's shapes. Requests are validated with zod (422 with the first problem);
 * responses follow seed 004's OpenAPI components, kept below as given (OpenAPI 3.0 `nullable`) and
 * turned into JSON Schema 2020-12 for /openapi.json and for the tests that validate every response.
 */

const collaborator = z
  .object({
    role_id: z.enum(ROLES),
    subject: z.string().regex(COLLABORATOR, 'must be user:<email>, team:<name> or serviceaccount:<name>'),
  })
  .strict();

const secretInput = z.object({ key: z.string().min(1).max(255), value: z.string() });

export const createGroupBody = z.object({
  name: z.string().min(1),
  integrationId: z.string().min(1),
  secrets: z.array(secretInput).max(1000),
});

export const manifestBody = z.object({
  manifest: z
    .object({
      name: z.string().min(1),
      type: z.literal('secret-group'),
      integration_fqn: z.string().min(1),
      collaborators: z.array(collaborator).max(1000),
      ownedBy: z.record(z.string(), z.unknown()).optional(),
    })
    .passthrough(),
});

export const updateGroupBody = z.object({
  secrets: z.array(z.object({ key: z.string().min(1).max(255), value: z.string().optional() })).max(1000),
});

const pageLimit = z.coerce.number().int().min(1).max(1000).default(100);
const pageOffset = z.coerce.number().int().min(0).max(1_000_000_000).default(0);

export const listSecretsBody = z.object({
  secretGroupId: z.string().min(1),
  limit: pageLimit,
  offset: pageOffset,
});

export const listGroupsQuery = z.object({
  limit: pageLimit,
  offset: pageOffset,
  fqn: z.string().min(1).optional(),
});

/** Seed 004's components, verbatim in substance (descriptions dropped). */
export const SEED_COMPONENTS: Record<string, Record<string, unknown>> = {
  HttpError: {
    type: 'object',
    properties: {
      statusCode: { type: 'integer' },
      message: { type: 'string' },
      code: { oneOf: [{ type: 'integer' }, { type: 'string' }], nullable: true },
      details: { type: 'array', items: { type: 'object' }, nullable: true },
    },
    required: ['statusCode', 'message'],
  },
  SecretInput: {
    type: 'object',
    properties: { key: { type: 'string' }, value: { type: 'string' } },
    required: ['key', 'value'],
  },
  CreateSecretGroupRequest: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      integrationId: { type: 'string' },
      secrets: { type: 'array', items: { $ref: '#/components/schemas/SecretInput' } },
    },
    required: ['name', 'integrationId', 'secrets'],
  },
  GetSecretGroupResponse: {
    type: 'object',
    properties: { data: { allOf: [{ $ref: '#/components/schemas/SecretGroup' }] } },
    required: ['data'],
  },
  SecretGroup: {
    type: 'object',
    properties: {
      id: { type: 'string', nullable: true },
      fqn: { type: 'string', nullable: true },
      tenantName: { type: 'string' },
      createdBySubject: { $ref: '#/components/schemas/Subject' },
      associatedSecrets: { type: 'array', items: { $ref: '#/components/schemas/Secret' } },
      integrationId: { type: 'string', nullable: true },
      manifest: { type: 'object', nullable: true },
      accountId: { type: 'string', nullable: false },
      createdAt: { format: 'date-time', type: 'string' },
      updatedAt: { format: 'date-time', type: 'string' },
      createdBy: { type: 'string', nullable: true },
    },
    required: ['tenantName', 'createdBySubject', 'associatedSecrets', 'accountId', 'createdAt', 'updatedAt'],
  },
  Subject: {
    type: 'object',
    properties: {
      subjectId: { type: 'string' },
      subjectType: { allOf: [{ $ref: '#/components/schemas/SubjectType' }] },
      subjectSlug: { type: 'string', nullable: true },
      subjectDisplayName: { type: 'string', nullable: true },
      subjectPatName: { type: 'string', nullable: true },
      subjectControllerName: { type: 'string', nullable: true },
      subjectExternalIdentitySlug: { type: 'string', nullable: true },
    },
    required: ['subjectId', 'subjectType'],
  },
  Secret: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      fqn: { type: 'string' },
      name: { type: 'string' },
      secretGroupId: { type: 'string' },
      value: { type: 'string', nullable: true },
      createdBySubject: { nullable: true, allOf: [{ $ref: '#/components/schemas/Subject' }] },
      createdAt: { format: 'date-time', type: 'string', nullable: true },
      updatedAt: { format: 'date-time', type: 'string', nullable: true },
      secretVersions: {
        nullable: true,
        type: 'array',
        items: { $ref: '#/components/schemas/SecretVersion' },
      },
      activeDeploymentsCount: { type: 'integer', nullable: true },
      createdBy: { type: 'string', nullable: true },
    },
    required: ['id', 'fqn', 'name', 'secretGroupId'],
  },
  SubjectType: {
    type: 'string',
    enum: ['user', 'team', 'serviceaccount', 'virtualaccount', 'external-identity', 'agent-identity', 'role'],
  },
  SecretVersion: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      fqn: { type: 'string' },
      value: { type: 'string', nullable: true },
      version: { type: 'number', nullable: true },
      secret: { nullable: true, allOf: [{ $ref: '#/components/schemas/Secret' }] },
      secretId: { type: 'string', nullable: true },
      createdAt: { format: 'date-time', type: 'string', nullable: true },
      updatedAt: { format: 'date-time', type: 'string', nullable: true },
    },
    required: ['id', 'fqn'],
  },
};

/** OpenAPI 3.0's `nullable: true` as JSON Schema 2020-12 (OpenAPI 3.1): `null` becomes an allowed type. */
export function withoutNullable(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutNullable);
  if (typeof schema !== 'object' || schema === null) return schema;
  const { nullable, ...rest } = schema as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) out[k] = withoutNullable(v);
  if (nullable !== true) return out;
  if (typeof out.type === 'string') return { ...out, type: [out.type, 'null'] };
  return { anyOf: [{ type: 'null' }, out] };
}

/** The components as JSON Schema 2020-12, for /openapi.json and the response validators. */
export function groupComponents(): Record<string, unknown> {
  return Object.fromEntries(Object.entries(SEED_COMPONENTS).map(([name, s]) => [name, withoutNullable(s)]));
}

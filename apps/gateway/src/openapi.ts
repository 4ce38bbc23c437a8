import { z } from 'zod';
import { API_BASE } from './api/groups.ts';
import {
  createGroupBody,
  groupComponents,
  listGroupsQuery,
  listSecretsBody,
  manifestBody,
  updateGroupBody,
} from './api/groups-schemas.ts';
import {
  deleteBody,
  deleteResponse,
  errorResponse,
  getQuery,
  getResponse,
  putBody,
  putResponse,
  rootResponse,
} from './schemas.ts';

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });

function errors(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((s) => [
      String(s),
      {
        description: `error (${s})`,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    ]),
  );
}

/** The secret-groups API: requests from the zod schemas the routes validate with, answers from seed 004. */
function groupsPaths() {
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const json = (s: object) => ({ content: { 'application/json': { schema: s } } });
  const data = (s: object, description: string, paged = false) => ({
    '200': {
      description,
      ...json({
        type: 'object',
        properties: {
          data: s,
          ...(paged
            ? {
                pagination: {
                  type: 'object',
                  properties: {
                    total: { type: 'integer' },
                    offset: { type: 'integer' },
                    limit: { type: 'integer' },
                  },
                },
              }
            : {}),
        },
        required: ['data'],
      }),
    },
  });
  const httpErrors = (...statuses: number[]) =>
    Object.fromEntries(
      statuses.map((s) => [String(s), { description: `error (${s})`, ...json(ref('HttpError')) }]),
    );
  const security = [{ bearer: [] }];
  const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
  const base = `${API_BASE}/secret-groups`;
  return {
    [base]: {
      get: {
        tags: ['Secret Groups'],
        summary: 'List the secret groups the caller has a role on, or find one by fqn=<tenant>:<group>',
        security,
        parameters: Object.entries(
          (schema(listGroupsQuery) as { properties: Record<string, object> }).properties,
        ).map(([name, s]) => ({ name, in: 'query', required: false, schema: s })),
        responses: {
          ...data({ type: 'array', items: ref('SecretGroup') }, 'secret groups', true),
          ...httpErrors(401, 403, 422),
        },
      },
      post: {
        tags: ['Secret Groups'],
        summary: 'Create a secret group with initial secrets',
        security,
        requestBody: { required: true, ...json(schema(createGroupBody)) },
        responses: {
          ...data(ref('SecretGroup'), 'the created secret group'),
          ...httpErrors(401, 403, 409, 422, 424, 503),
        },
      },
      put: {
        tags: ['Secret Groups'],
        summary: 'Create or update a secret group from its manifest (collaborators, integration)',
        security,
        requestBody: { required: true, ...json(schema(manifestBody)) },
        responses: { ...data(ref('SecretGroup'), 'the secret group'), ...httpErrors(401, 403, 422, 424) },
      },
    },
    [`${base}/{id}`]: {
      get: {
        tags: ['Secret Groups'],
        summary: 'Get a secret group with its keys',
        security,
        parameters: idParam,
        responses: { ...data(ref('SecretGroup'), 'the secret group'), ...httpErrors(401, 403, 404) },
      },
      put: {
        tags: ['Secret Groups'],
        summary: 'Replace the secrets of a group: omitted keys are deleted, a key without value keeps it',
        security,
        parameters: idParam,
        requestBody: { required: true, ...json(schema(updateGroupBody)) },
        responses: {
          ...data(ref('SecretGroup'), 'the secret group'),
          ...httpErrors(401, 403, 404, 422, 503),
        },
      },
      delete: {
        tags: ['Secret Groups'],
        summary: 'Delete a secret group and its secrets',
        security,
        parameters: idParam,
        responses: { ...data({ type: 'object' }, 'deleted'), ...httpErrors(401, 403, 404, 503) },
      },
    },
    [`${API_BASE}/secrets`]: {
      post: {
        tags: ['Secrets'],
        summary: "List a group's secrets (values for editors and admins, null for viewers)",
        security,
        requestBody: { required: true, ...json(schema(listSecretsBody)) },
        responses: {
          ...data({ type: 'array', items: ref('Secret') }, 'secrets', true),
          ...httpErrors(401, 403, 422),
        },
      },
    },
    [`${API_BASE}/secrets/{id}`]: {
      get: {
        tags: ['Secrets'],
        summary: 'Get one secret with its recent versions',
        security,
        parameters: idParam,
        responses: { ...data(ref('Secret'), 'the secret'), ...httpErrors(401, 403, 404) },
      },
      delete: {
        tags: ['Secrets'],
        summary: 'Delete one secret from its group',
        security,
        parameters: idParam,
        responses: { ...data({ type: 'object' }, 'deleted'), ...httpErrors(401, 403, 404, 503) },
      },
    },
    [`${API_BASE}/provider-accounts`]: {
      get: {
        tags: ['Provider Integrations'],
        summary: 'The configured secret-store integrations',
        security,
        parameters: [{ name: 'type', in: 'query', required: false, schema: { type: 'string' } }],
        responses: {
          ...data({ type: 'array', items: { type: 'object' } }, 'provider accounts'),
          ...httpErrors(401),
        },
      },
    },
    [`${API_BASE}/whoami`]: {
      get: {
        tags: ['Users'],
        summary: 'The authenticated subject, its teams and whether it is a tenant admin',
        security,
        responses: { ...data({ type: 'object' }, 'the subject'), ...httpErrors(401, 403) },
      },
    },
  };
}

/** The contract as OpenAPI 3.1, generated from the zod schemas the routes validate with. */
export function buildOpenApi(options: { headerName: string; root: string; groups?: boolean }) {
  const query = schema(getQuery) as { properties: Record<string, object>; required?: string[] };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Secret Gateway: Generic Secret Store API',
      version: '1',
      description: `TrueFoundry Generic Secret Store contract. Paths live under ${options.root}/.`,
    },
    components: {
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: options.headerName },
        ...(options.groups ? { bearer: { type: 'http', scheme: 'bearer' } } : {}),
      },
      schemas: { Error: schema(errorResponse), ...(options.groups ? groupComponents() : {}) },
    },
    security: [{ apiKey: [] }],
    paths: {
      '/secrets': {
        put: {
          summary: 'Create a secret or a new version of it',
          requestBody: { required: true, content: { 'application/json': { schema: schema(putBody) } } },
          responses: {
            '200': {
              description: 'stored',
              content: { 'application/json': { schema: schema(putResponse) } },
            },
            ...errors(400, 401, 403, 413, 429, 502, 503),
          },
        },
        get: {
          summary: `Read the latest live version, a given version, or (path=${options.root}) check connectivity`,
          parameters: Object.entries(query.properties).map(([name, s]) => ({
            name,
            in: 'query',
            required: query.required?.includes(name) ?? false,
            schema: s,
          })),
          responses: {
            '200': {
              description: 'the secret',
              content: {
                'application/json': { schema: { oneOf: [schema(getResponse), schema(rootResponse)] } },
              },
            },
            ...errors(400, 401, 403, 404, 429, 502, 503),
          },
        },
        delete: {
          summary: 'Delete every version of a secret, or one version',
          requestBody: { required: false, content: { 'application/json': { schema: schema(deleteBody) } } },
          responses: {
            '200': {
              description: 'deleted',
              content: { 'application/json': { schema: schema(deleteResponse) } },
            },
            ...errors(400, 401, 403, 413, 429, 502, 503),
          },
        },
      },
      ...(options.groups ? groupsPaths() : {}),
    },
  };
}

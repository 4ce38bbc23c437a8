import { z } from 'zod';
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

/** The contract as OpenAPI 3.1, generated from the zod schemas the routes validate with. */
export function buildOpenApi(options: { headerName: string; root: string }) {
  const query = schema(getQuery) as { properties: Record<string, object>; required?: string[] };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Secret Gateway: Generic Secret Store API',
      version: '1',
      description: `TrueFoundry Generic Secret Store contract. Paths live under ${options.root}/.`,
    },
    components: {
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: options.headerName } },
      schemas: { Error: schema(errorResponse) },
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
    },
  };
}

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildOpenApi } from '../src/openapi.ts';
import { deleteBody, getQuery, putBody } from '../src/schemas.ts';

describe('GET /openapi.json', () => {
  const doc = buildOpenApi({ headerName: 'x-api-key', root: 'tfy-secret' }) as unknown as {
    openapi: string;
    components: { securitySchemes: { apiKey: { name: string } } };
    paths: {
      '/secrets': Record<
        string,
        {
          requestBody?: { content: Record<string, { schema: unknown }> };
          parameters?: Array<{ name: string; required: boolean }>;
          responses: Record<string, unknown>;
        }
      >;
    };
  };

  it('describes the three operations with the auth header and every documented status', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.apiKey.name).toBe('x-api-key');
    const ops = doc.paths['/secrets'];
    expect(Object.keys(ops).sort()).toEqual(['delete', 'get', 'put']);
    expect(Object.keys(ops.put?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '413', '429', '502', '503']),
    );
    expect(Object.keys(ops.get?.responses ?? {})).toContain('404');
  });

  it('is generated from the very schemas the routes validate with', () => {
    const ops = doc.paths['/secrets'];
    expect(ops.put?.requestBody?.content['application/json']?.schema).toEqual(
      z.toJSONSchema(putBody, { io: 'input', unrepresentable: 'any' }),
    );
    expect(ops.delete?.requestBody?.content['application/json']?.schema).toEqual(
      z.toJSONSchema(deleteBody, { io: 'input', unrepresentable: 'any' }),
    );
    expect(ops.get?.parameters?.map((p) => [p.name, p.required])).toEqual(
      Object.keys((z.toJSONSchema(getQuery) as { properties: object }).properties).map((name) => [
        name,
        name === 'path',
      ]),
    );
  });
});

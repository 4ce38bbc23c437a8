import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNoValueInLogs, secretValue, startTestGateway, type TestGateway } from './helpers.ts';

// /openapi.json is checked against what the live server answers: every answer below must be a
// documented status of its operation, and its body must validate against the documented schema.

interface Operation {
  requestBody?: { content: Record<string, { schema: object }> };
  parameters?: Array<{ name: string; required: boolean }>;
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
}
interface Doc {
  openapi: string;
  components: { securitySchemes: { apiKey: { name: string } }; schemas: Record<string, object> };
  paths: Record<string, Record<string, Operation>>;
}

let gw: TestGateway;
let doc: Doc;
const ADMIN = 'openapi-admin-token-0123456789';
const ajv = new Ajv2020({ strict: false, allErrors: true });
beforeAll(async () => {
  gw = await startTestGateway({ SGW_BODY_LIMIT_BYTES: '4096', SGW_ADMIN_TOKEN: ADMIN, SGW_TENANT: 'acme' });
  doc = (await (await fetch(`${gw.url}/openapi.json`)).json()) as Doc;
  ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
});
afterAll(() => gw.shutdown());
checkNoValueInLogs();

/** The documented schema of `method`'s `status` answer, with $refs pointing into the document. */
function responseSchema(method: string, status: number): object | undefined {
  const op = doc.paths['/secrets']?.[method];
  expect(op, `${method} is documented`).toBeDefined();
  const response = op?.responses[String(status)];
  expect(response, `${method} ${status} is a documented status`).toBeDefined();
  const schema = response?.content?.['application/json']?.schema;
  return schema && JSON.parse(JSON.stringify(schema).replaceAll('"#/components', '"doc#/components'));
}

async function expectDocumented(method: string, res: Response): Promise<void> {
  const schema = responseSchema(method, res.status);
  expect(schema, `${method} ${res.status} documents its body`).toBeDefined();
  const body = await res.json();
  const validate = ajv.compile(schema as object);
  expect(validate(body), `${method} ${res.status}: ${JSON.stringify(validate.errors)}`).toBe(true);
}

const send = (method: string, body?: unknown, headers: Record<string, string> = gw.headers, query = '') =>
  fetch(`${gw.url}/secrets${query}`, {
    method,
    headers: { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('/openapi.json against live answers', () => {
  it('names the configured auth header', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.apiKey.name).toBe('x-api-key');
  });

  it('PUT: 200, 400, 401 and 413 are documented with the bodies the server sends', async () => {
    const path = 'tfy-secret/openapi/put';
    const ok = await send('PUT', { path, value: secretValue() });
    expect(ok.status).toBe(200);
    await expectDocumented('put', ok);
    await expectDocumented('put', await send('PUT', { path: 'nope', value: 'x' }));
    await expectDocumented(
      'put',
      await send('PUT', { path, value: 'x' }, { 'X-API-Key': 'wrong-key-0123456789' }),
    );
    const big = await send('PUT', { path, value: 'x'.repeat(5000) });
    expect(big.status).toBe(413);
    await expectDocumented('put', big);
  });

  it('GET: the secret, the root check, 404 and 400', async () => {
    const path = 'tfy-secret/openapi/get';
    await gw.put(path, secretValue());
    const found = await gw.get(`path=${path}`);
    expect(found.status).toBe(200);
    await expectDocumented('get', found);
    await expectDocumented('get', await gw.get('path=tfy-secret'));
    const missing = await gw.get(`path=${path}-missing`);
    expect(missing.status).toBe(404);
    await expectDocumented('get', missing);
    await expectDocumented('get', await gw.get(`path=${path}&version=0`));
  });

  it('DELETE: one version and every version (200 bodies), 400 for what does not exist', async () => {
    const path = 'tfy-secret/openapi/delete';
    await gw.put(path, secretValue());
    await gw.put(path, secretValue());
    const one = await send('DELETE', { path, version: 2 });
    expect(one.status).toBe(200);
    await expectDocumented('delete', one);
    const all = await send('DELETE', { path });
    expect(all.status).toBe(200);
    await expectDocumented('delete', all);
    const again = await send('DELETE', { path });
    expect(again.status).toBe(400);
    await expectDocumented('delete', again);
  });

  it('any method the document does not list is 405, with Allow naming exactly the documented ones', async () => {
    const documented = Object.keys(doc.paths['/secrets'] ?? {}).map((m) => m.toUpperCase());
    for (const method of ['POST', 'PATCH']) {
      const res = await send(method);
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')?.split(', ').sort()).toEqual(documented.sort());
    }
  });

  it('the documented request schemas accept what the server accepts and refuse what it refuses', () => {
    const put = ajv.compile(
      doc.paths['/secrets']?.put?.requestBody?.content['application/json']?.schema as object,
    );
    expect(put({ path: 'tfy-secret/a/b', value: '' })).toBe(true);
    expect(put({ path: 'tfy-secret/a/b' })).toBe(false);
    expect(put({ path: 'tfy-secret/a/b', value: 1 })).toBe(false);
    const del = ajv.compile(
      doc.paths['/secrets']?.delete?.requestBody?.content['application/json']?.schema as object,
    );
    expect(del({ path: 'tfy-secret/a/b', version: 2 })).toBe(true);
    expect(del({ path: 'tfy-secret/a/b', version: '2' })).toBe(true);
    expect(del({ version: 2 })).toBe(false);
    const params = doc.paths['/secrets']?.get?.parameters?.map((p) => [p.name, p.required]);
    expect(params).toEqual([
      ['path', true],
      ['version', false],
    ]);
  });
});

describe('the secret-groups API', () => {
  const docSchema = (path: string, method: string, status: number) => {
    const schema =
      doc.paths[path]?.[method]?.responses[String(status)]?.content?.['application/json']?.schema;
    expect(schema, `${method} ${path} ${status} is documented`).toBeDefined();
    return JSON.parse(JSON.stringify(schema).replaceAll('"#/components', '"doc#/components'));
  };
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('documents every endpoint, and live answers validate against the documented schemas', async () => {
    for (const [path, methods] of [
      ['/api/svc/v1/secret-groups', ['get', 'post', 'put']],
      ['/api/svc/v1/secret-groups/{id}', ['get', 'put', 'delete']],
      ['/api/svc/v1/secrets', ['post']],
      ['/api/svc/v1/secrets/{id}', ['get', 'delete']],
      ['/api/svc/v1/provider-accounts', ['get']],
    ] as const) {
      for (const m of methods) expect(doc.paths[path]?.[m], `${m} ${path}`).toBeDefined();
    }
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['SecretGroup', 'Secret', 'SecretVersion', 'Subject', 'HttpError']),
    );
    const value = secretValue('openapi');
    const created = await call('POST', '/api/svc/v1/secret-groups', {
      name: 'documented',
      integrationId: 'default',
      secrets: [{ key: 'K', value }],
    });
    expect(created.status).toBe(200);
    const validate = ajv.compile(docSchema('/api/svc/v1/secret-groups', 'post', 200));
    expect(validate(created.body) ? null : ajv.errorsText(validate.errors)).toBeNull();
    const secretId = created.body.data.associatedSecrets[0].id;
    const secret = await call('GET', `/api/svc/v1/secrets/${secretId}`);
    const secretSchema = ajv.compile(docSchema('/api/svc/v1/secrets/{id}', 'get', 200));
    expect(secretSchema(secret.body) ? null : ajv.errorsText(secretSchema.errors)).toBeNull();
    const missing = await call('POST', '/api/svc/v1/secret-groups', { name: 'x' });
    expect(missing.status).toBe(422);
    const errorSchema = ajv.compile(docSchema('/api/svc/v1/secret-groups', 'post', 422));
    expect(errorSchema(missing.body) ? null : ajv.errorsText(errorSchema.errors)).toBeNull();
  });
});

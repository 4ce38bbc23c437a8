import { expect } from 'vitest';
import type { GatewayProcess } from './gateway-process.ts';

/**
 * The seed document's "Quick Test with curl", step for step, plus the validation GET TrueFoundry sends
 * when the integration is saved. Every backend's end-to-end test runs it.
 */
export async function runSeedCurlSequence(
  gw: GatewayProcess,
  path = 'tfy-secret/acme/prod/db-password',
): Promise<void> {
  const auth = { [gw.headerName]: gw.apiKey };
  const json = { 'Content-Type': 'application/json', ...auth };

  const validation = await fetch(`${gw.url}/secrets?path=tfy-secret`, { headers: auth });
  expect(validation.status).toBe(200);
  expect(await validation.json()).toEqual({ path: 'tfy-secret', value: '' });

  const put = await fetch(`${gw.url}/secrets`, {
    method: 'PUT',
    headers: json,
    body: JSON.stringify({ path, value: 'my-secret-value' }),
  });
  expect(put.status).toBe(200);
  expect(await put.json()).toEqual({ path, version: 1 });

  const get = await fetch(`${gw.url}/secrets?path=${path}`, { headers: auth });
  expect(get.status).toBe(200);
  expect(await get.json()).toEqual({ path, version: 1, value: 'my-secret-value' });

  const put2 = await fetch(`${gw.url}/secrets`, {
    method: 'PUT',
    headers: json,
    body: JSON.stringify({ path, value: 'second' }),
  });
  expect(await put2.json()).toEqual({ path, version: 2 });
  const v1 = await fetch(`${gw.url}/secrets?path=${path}&version=1`, { headers: auth });
  expect(await v1.json()).toEqual({ path, version: 1, value: 'my-secret-value' });

  const del = await fetch(`${gw.url}/secrets`, {
    method: 'DELETE',
    headers: json,
    body: JSON.stringify({ path }),
  });
  expect(del.status).toBe(200);

  const gone = await fetch(`${gw.url}/secrets?path=${path}`, { headers: auth });
  expect(gone.status).toBe(404);
  expect(await gone.json()).toMatchObject({ statusCode: 404, code: 'not_found' });

  const again = await fetch(`${gw.url}/secrets`, {
    method: 'DELETE',
    headers: json,
    body: JSON.stringify({ path }),
  });
  expect(again.status).toBe(400);

  const recreate = await fetch(`${gw.url}/secrets`, {
    method: 'PUT',
    headers: json,
    body: JSON.stringify({ path, value: 'fresh' }),
  });
  expect(await recreate.json()).toEqual({ path, version: 1 });
  const old = await fetch(`${gw.url}/secrets?path=${path}&version=2`, { headers: auth });
  expect(old.status).toBe(404);
}

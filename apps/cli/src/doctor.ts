import { randomBytes } from 'node:crypto';

/** One row of the doctor's table. */
export interface CheckResult {
  check: string;
  ok: boolean | null;
  detail: string;
}

interface Exchange {
  status: number;
  body: Record<string, unknown> | undefined;
}

/**
 * Seed 002's quick test against any Generic Secret Store server: the root check TrueFoundry runs
 * when an integration is saved, then put, get, a second version, get by version, delete, gone.
 * Values are random test strings, never the operator's secrets.
 */
export async function runDoctor(
  baseUrl: string,
  header: { name: string; value: string },
  root = 'tfy-secret',
): Promise<CheckResult[]> {
  const url = baseUrl.replace(/\/+$/, '');
  const path = `${root}/sgw-doctor/check-${randomBytes(4).toString('hex')}`;
  const first = `doctor-${randomBytes(8).toString('hex')}`;
  const second = `doctor-${randomBytes(8).toString('hex')}`;
  const scrub = (text: string) => text.split(first).join('<value>').split(second).join('<value>');
  const results: CheckResult[] = [];
  const record = (check: string, ok: boolean, detail: string) => {
    results.push({ check, ok, detail: scrub(detail) });
    return ok;
  };

  const send = async (method: string, query: string, body?: unknown): Promise<Exchange> => {
    const res = await fetch(`${url}/secrets${query}`, {
      method,
      headers: { [header.name]: header.value, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    try {
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
    } catch {
      return { status: res.status, body: undefined };
    }
  };
  const said = (x: Exchange) =>
    `${x.status}${typeof x.body?.message === 'string' ? ` ${x.body.message}` : ''}`;

  const steps: [string, () => Promise<boolean>][] = [];
  let v1: unknown;
  steps.push([
    `GET /secrets?path=${root} (integration check)`,
    async () => {
      const r = await send('GET', `?path=${encodeURIComponent(root)}`);
      return record(`GET /secrets?path=${root} (integration check)`, r.status === 200, said(r));
    },
  ]);
  steps.push([
    'PUT /secrets answers with version',
    async () => {
      const r = await send('PUT', '', { path, value: first });
      v1 = r.body?.version;
      const ok = r.status >= 200 && r.status < 300 && v1 !== undefined && v1 !== null;
      return record(
        'PUT /secrets answers with version',
        ok,
        ok
          ? `${r.status}, version ${String(v1)}`
          : `${said(r)}${r.body && !('version' in r.body) ? ', no "version" in the body' : ''}`,
      );
    },
  ]);
  steps.push([
    'GET /secrets?path= returns the value',
    async () => {
      const r = await send('GET', `?path=${encodeURIComponent(path)}`);
      const ok = r.status === 200 && r.body?.value === first;
      return record(
        'GET /secrets?path= returns the value',
        ok,
        ok ? '200' : `${said(r)}${r.status === 200 ? ', "value" missing or different' : ''}`,
      );
    },
  ]);
  let v2: unknown;
  steps.push([
    'second PUT makes a new version',
    async () => {
      const r = await send('PUT', '', { path, value: second });
      v2 = r.body?.version;
      const ok = r.status >= 200 && r.status < 300 && v2 !== undefined && String(v2) !== String(v1);
      return record(
        'second PUT makes a new version',
        ok,
        ok ? `version ${String(v2)}` : `${said(r)}, version ${String(v2)}`,
      );
    },
  ]);
  steps.push([
    'GET &version= returns that version',
    async () => {
      const r = await send(
        'GET',
        `?path=${encodeURIComponent(path)}&version=${encodeURIComponent(String(v1))}`,
      );
      const ok = r.status === 200 && r.body?.value === first;
      return record(
        'GET &version= returns that version',
        ok,
        ok ? '200' : `${said(r)}${r.status === 200 ? ', not the first value' : ''}`,
      );
    },
  ]);
  steps.push([
    'DELETE /secrets (all versions)',
    async () => {
      const r = await send('DELETE', '', { path });
      return record('DELETE /secrets (all versions)', r.status >= 200 && r.status < 300, said(r));
    },
  ]);
  steps.push([
    'GET after DELETE is 404',
    async () => {
      const r = await send('GET', `?path=${encodeURIComponent(path)}`);
      return record('GET after DELETE is 404', r.status === 404, said(r));
    },
  ]);

  let failed = false;
  for (const [name, step] of steps) {
    // Later steps build on earlier ones: after a failure they are reported, not run.
    if (failed) {
      results.push({ check: name, ok: null, detail: 'skipped after a failure' });
      continue;
    }
    try {
      if (!(await step())) failed = true;
    } catch (err) {
      record(
        name,
        false,
        `request failed: ${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}`,
      );
      failed = true;
    }
  }
  // Best effort: leave no test secret behind when a middle step failed.
  if (failed) await send('DELETE', '', { path }).catch(() => undefined);
  return results;
}

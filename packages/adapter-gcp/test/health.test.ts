import { type GcpEmulator, startGcpEmulator } from '@secret-gateway/emulators/gcp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GcpAdapter, mapGcpError } from '../src/index.ts';
import { adapterFor } from './helpers.ts';

// check() against the gRPC emulator, and the credentials path that used to end the process.
let emu: GcpEmulator;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(async () => {
  emu = await startGcpEmulator();
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  emu.denied.clear();
  await new Promise((r) => setTimeout(r, 50));
  expect(unhandled).toEqual([]);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await emu.stop();
});

describe('GCP with no usable Application Default Credentials', () => {
  it.each([
    ['GOOGLE_APPLICATION_CREDENTIALS names a missing file', '/nonexistent/key.json'],
    ['GOOGLE_APPLICATION_CREDENTIALS names a file that is not a key', '/etc/hostname'],
  ])('%s: every call rejects with a typed denial, no unhandled rejection', async (_, file) => {
    const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = file;
    // TLS to the emulator, as production talks to Google: only then does the SDK look for ADC.
    const adapter = new GcpAdapter({ projectId: emu.project, endpoint: emu.url, timeoutMs: 2000 });
    try {
      const denied = {
        code: 'backend_error',
        reason: 'denied',
        message:
          'GCP credentials not found: set GOOGLE_APPLICATION_CREDENTIALS to a readable key file or run on a workload identity',
        detail: { backend: 'gcp', backendCode: 'NO_CREDENTIALS' },
      };
      await expect(adapter.check()).rejects.toMatchObject(denied);
      await expect(adapter.read('tfy-secret/a/b', undefined)).rejects.toMatchObject(denied);
      await expect(adapter.write('tfy-secret/a/b', 'v')).rejects.toMatchObject(denied);
      // Concurrent first calls share one credentials lookup, and all of them settle.
      const all = await Promise.allSettled([adapter.check(), adapter.deleteSecret('tfy-secret/a/b')]);
      expect(all.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    } finally {
      if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
      await adapter.close();
    }
  });
});

describe('GCP check() proves reachable, authenticated, right project and permitted', () => {
  it('passes on the emulator, and stores nothing', async () => {
    await expect(adapterFor(emu).check()).resolves.toBeUndefined();
    expect(emu.state.secrets.size).toBe(0);
  });

  it('a project the credentials cannot see (PERMISSION_DENIED, as GCP answers): denied, naming the project', async () => {
    const wrong = new GcpAdapter({
      projectId: 'not-my-project',
      endpoint: emu.url,
      insecure: true,
      accessToken: emu.token,
    });
    await expect(wrong.check()).rejects.toMatchObject({
      reason: 'denied',
      message:
        "GCP denied secretmanager.secrets.get in project not-my-project: check GOOGLE_CLOUD_PROJECT and the service account's roles",
      detail: { backend: 'gcp', operation: 'GetSecret', backendCode: 'PERMISSION_DENIED' },
    });
    await wrong.close();
  });

  it.each([
    ['AccessSecretVersion', 'secretmanager.versions.access'],
    ['AddSecretVersion', 'secretmanager.versions.add'],
  ])('a role without %s: denied, naming %s', async (method, permission) => {
    emu.denied.add(method);
    await expect(adapterFor(emu).check()).rejects.toMatchObject({
      reason: 'denied',
      message: expect.stringContaining(`GCP denied ${permission} in project ${emu.project}`),
    });
  });

  it('unreachable: backend_unavailable', async () => {
    const closed = new GcpAdapter({
      projectId: 'p',
      endpoint: '127.0.0.1:1',
      insecure: true,
      timeoutMs: 1000,
    });
    await expect(closed.check()).rejects.toMatchObject({ code: 'backend_unavailable' });
    await closed.close();
  });
});

describe('mapGcpError keeps GCP text out of messages', () => {
  it('PERMISSION_DENIED whose details name the principal and project number: message without them', () => {
    const details =
      "Permission 'secretmanager.versions.access' denied for principal serviceAccount:sgw@acme-123456789012.iam.gserviceaccount.com";
    const mapped = mapGcpError(
      Object.assign(new Error(`7 PERMISSION_DENIED: ${details}`), { code: 7, details }),
      'access',
    );
    expect(mapped.message).not.toMatch(/serviceAccount|123456789012/);
    expect(mapped).toMatchObject({
      reason: 'denied',
      detail: { backend: 'gcp', operation: 'access', backendCode: 'PERMISSION_DENIED' },
    });
  });

  it.each([3, 13, 14, 10, 2, 99])('code %i: no details in the message', (code) => {
    const details = 'payload hunter2 for arn 123456789012';
    const mapped = mapGcpError(Object.assign(new Error(details), { code, details }), 'add version');
    expect(mapped.message).not.toMatch(/hunter2|123456789012/);
    expect(mapped.detail?.backendCode).toMatch(/^[A-Z_]+$|^99$/);
  });
});

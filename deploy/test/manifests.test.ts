import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The Kubernetes manifests and the systemd unit, checked structurally (no cluster, no systemd PID 1
// here): what issue 15 lists, consistent with the image (docker/Dockerfile) and the gateway's config,
// whose `config check` the manifests' settings must pass.

const ROOT = resolve(import.meta.dirname, '../..');
const K8S = join(ROOT, 'deploy/kubernetes');
const GATEWAY_BIN = join(ROOT, 'apps/gateway/bin/sgw-gateway.mjs');
// yaml is the gateway's own dependency (config files); the repository root does not list it.
const { parseAllDocuments } = createRequire(join(ROOT, 'apps/gateway/package.json'))('yaml') as {
  parseAllDocuments: (text: string) => { toJS: () => unknown }[];
};
const run = promisify(execFile);

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML, checked field by field below
type Manifest = Record<string, any>;
const load = (file: string): Manifest[] =>
  parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((d) => d.toJS() as Manifest);

const kustomization = load('kustomization.yaml')[0] as Manifest;
const resources: Manifest[] = (kustomization.resources as string[]).flatMap(load);
const byKind = (kind: string) => {
  const found = resources.filter((r) => r.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as Manifest;
};
/** The image's ENV values, from the gateway (last) stage of the Dockerfile. */
const dockerfile = readFileSync(join(ROOT, 'docker/Dockerfile'), 'utf8');
const imageEnv = (name: string) => {
  const stages = dockerfile.split(/^FROM /m);
  const match = new RegExp(`\\b${name}=(\\S+)`).exec(stages[stages.length - 1] as string);
  return match?.[1];
};

describe('deploy/kubernetes', () => {
  const deployment = byKind('Deployment');
  const pod = deployment.spec.template;
  const container = pod.spec.containers[0] as Manifest;
  const podLabels = pod.metadata.labels as Record<string, string>;
  const httpPort = container.ports.find((p: Manifest) => p.name === 'http').containerPort as number;

  it('the Deployment probes /readyz and /healthz on the image port and takes the key from a Secret', () => {
    expect(String(httpPort)).toBe(imageEnv('PORT'));
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    const secret = load('secret.example.yaml')[0] as Manifest;
    expect(container.envFrom).toEqual([{ secretRef: { name: secret.metadata.name } }]);
    expect(Object.keys(secret.stringData)).toEqual(['SGW_API_KEY']);
    expect(container.resources.requests.cpu).toBeDefined();
    expect(container.resources.requests.memory).toBeDefined();
    expect(container.resources.limits.memory).toBeDefined();
  });

  it('runs non-root on a read-only root without privilege escalation or capabilities', () => {
    expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
    // The image's user `node` is 1000:1000; a numeric user lets the kubelet check runAsNonRoot.
    expect(pod.spec.securityContext.runAsUser).toBe(1000);
    expect(container.securityContext).toEqual({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('keeps the embedded store on one writer: one replica, Recreate, the claim mounted at the data directory', () => {
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy.type).toBe('Recreate');
    const mount = container.volumeMounts.find((m: Manifest) => m.name === 'data');
    expect(mount.mountPath).toBe(imageEnv('SGW_DATA_DIR'));
    const claim = pod.spec.volumes.find((v: Manifest) => v.name === 'data').persistentVolumeClaim.claimName;
    expect(byKind('PersistentVolumeClaim').metadata.name).toBe(claim);
  });

  it('gives the gateway longer to stop than its own shutdown timeout', () => {
    const timeoutMs = Number(container.env.find((e: Manifest) => e.name === 'SGW_SHUTDOWN_TIMEOUT_MS').value);
    expect(pod.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(timeoutMs);
  });

  it('selects the pods from the Service, the PodDisruptionBudget and the NetworkPolicy; scrape annotations point at /metrics', () => {
    const matches = (selector: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    expect(matches(deployment.spec.selector.matchLabels)).toBe(true);
    expect(matches(byKind('Service').spec.selector)).toBe(true);
    expect(byKind('Service').spec.ports[0].targetPort).toBe('http');
    const pdb = byKind('PodDisruptionBudget');
    expect(matches(pdb.spec.selector.matchLabels)).toBe(true);
    expect(pdb.spec.maxUnavailable ?? pdb.spec.minAvailable).toBeDefined();
    const policy = byKind('NetworkPolicy');
    expect(matches(policy.spec.podSelector.matchLabels)).toBe(true);
    expect(policy.spec.ingress[0].ports).toEqual([{ port: httpPort, protocol: 'TCP' }]);
    expect(pod.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(httpPort),
      'prometheus.io/path': '/metrics',
    });
  });

  it("passes the gateway's config check with the Secret and the Deployment's environment", async () => {
    const secret = load('secret.example.yaml')[0] as Manifest;
    const env = Object.fromEntries(container.env.map((e: Manifest) => [e.name, e.value]));
    const { stdout } = await run(process.execPath, [GATEWAY_BIN, 'config', 'check'], {
      env: {
        PATH: process.env.PATH,
        SGW_DATA_DIR: mkdtempSync(join(tmpdir(), 'sgw-k8s-')),
        ...secret.stringData,
        ...env,
      },
    });
    expect(stdout).toContain('configuration is valid: backend sqlite, 1 key(s)');
  });
});

describe('deploy/systemd', () => {
  const unitPath = join(ROOT, 'deploy/systemd/secret-gateway.service');
  const unit = readFileSync(unitPath, 'utf8');
  const values = (key: string) =>
    unit
      .split('\n')
      .filter((l) => l.startsWith(`${key}=`))
      .map((l) => l.slice(key.length + 1));

  it('keeps its data in its state directory, the only writable path, and stops after the gateway drains', () => {
    expect(values('StateDirectory')).toEqual(['secret-gateway']);
    expect(values('Environment')).toContain('SGW_DATA_DIR=/var/lib/secret-gateway');
    expect(values('ReadWritePaths')).toEqual(['/var/lib/secret-gateway']);
    expect(values('ProtectSystem')).toEqual(['strict']);
    expect(values('NoNewPrivileges')).toEqual(['true']);
    expect(values('KillSignal')).toEqual(['SIGTERM']);
    // The gateway's default shutdown timeout is 10 s.
    expect(Number(values('TimeoutStopSec')[0])).toBeGreaterThan(10);
    // The deployed folder's layout (pnpm deploy output, as in the image's /app).
    expect(values('ExecStart')[0]).toMatch(/ \/opt\/secret-gateway\/bin\/sgw-gateway\.mjs$/);
    expect(existsSync(join(ROOT, 'apps/gateway/bin/sgw-gateway.mjs'))).toBe(true);
  });

  const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
  it.skipIf(!analyze)('passes systemd-analyze verify with nothing to say', () => {
    // The unit names Debian's /usr/bin/node; where node lives elsewhere, point it at this one.
    const dir = mkdtempSync(join(tmpdir(), 'sgw-unit-'));
    const copy = join(dir, 'secret-gateway.service');
    writeFileSync(copy, existsSync('/usr/bin/node') ? unit : unit.replace('/usr/bin/node', process.execPath));
    const out = execFileSync('sh', ['-c', `"${analyze}" verify "${copy}" 2>&1`], { encoding: 'utf8' });
    expect(out).toBe('');
  });
});

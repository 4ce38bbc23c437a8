import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const execFileAsync = promisify(execFile);

/**
 * A PostgreSQL cluster owned by one test file: a temporary data directory, a free loopback port and
 * the unix socket in the same directory, started with Debian's binaries (`apt-get install postgresql`)
 * and removed by `destroy()`. As root, the server runs as the `postgres` user (it refuses root).
 */
export interface TestCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, loopback only). */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** `pg_ctl stop -m fast`: every connection is closed with admin shutdown (57P01). */
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server and deletes the data directory. Idempotent. */
  destroy(): void;
}

/** The newest /usr/lib/postgresql/<version>/bin, or SGW_PG_BIN. */
export function postgresBinDir(): string {
  if (process.env.SGW_PG_BIN) return process.env.SGW_PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0)
    throw new Error(
      'PostgreSQL is not installed: apt-get install -y postgresql (tests need initdb and pg_ctl)',
    );
  return join(root, versions[0] as string, 'bin');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface TestClusterOptions {
  /** fsync on (as in production), for benchmarks of durable writes; tests leave it off (default false). */
  durable?: boolean;
}

export async function startTestCluster(clusterOptions: TestClusterOptions = {}): Promise<TestCluster> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'sgw-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const command = (tool: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args];
  const run = (tool: string, args: string[]) => {
    const [file, argv] = command(tool, args);
    execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  // Asynchronous, so the test's own clients keep running (and failing) while the server stops.
  const runAsync = async (tool: string, args: string[]) => {
    const [file, argv] = command(tool, args);
    await execFileAsync(file, argv, { cwd: dir });
  };
  // --no-sync and fsync=off (unless `durable`): a test cluster survives restarts (clean or not), never a machine crash.
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const fsync = clusterOptions.durable ? 'on' : 'off';
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=${fsync} -c max_connections=200`;
  const ctlArgs = (args: string[]) => ['-D', data, '-l', join(dir, 'server.log'), '-w', ...args];
  const pgCtl = (...args: string[]) => runAsync('pg_ctl', ctlArgs(args));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const cluster: TestCluster = {
    url,
    port,
    dir,
    stop: () => pgCtl('stop', '-m', 'fast'),
    start: () => pgCtl('start', '-o', options),
    restart: () => pgCtl('restart', '-m', 'fast', '-o', options),
    createDatabase: async (name) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return url.replace(/\/postgres$/, `/${name}`);
    },
    destroy: () => {
      if (!existsSync(dir)) return;
      try {
        run('pg_ctl', ctlArgs(['stop', '-m', 'immediate']));
      } catch {
        // Already stopped.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../apps/gateway/bin/sgw-gateway.mjs');

export interface GatewayProcess {
  url: string;
  apiKey: string;
  headerName: string;
  dataDir: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far (for leak checks). */
  output: () => string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop: () => Promise<number | null>;
}

export interface StartOptions {
  /** Extra environment (SGW_BACKEND, the backend's variables, ...). */
  env?: Record<string, string>;
  apiKey?: string;
  dataDir?: string;
  /** Give up waiting for "listening" after this many ms. */
  startTimeoutMs?: number;
}

/** Starts the real gateway (the same bin users run) on a free port and waits until it listens. */
export async function startGateway(options: StartOptions = {}): Promise<GatewayProcess> {
  const apiKey = options.apiKey ?? `e2e-key-${Math.random().toString(36).slice(2)}`;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sgw-e2e-'));
  const child = spawn(process.execPath, [BIN], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      SGW_API_KEY: apiKey,
      SGW_DATA_DIR: dataDir,
      SGW_LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`gateway did not start within ${options.startTimeoutMs ?? 20000} ms:\n${out}`)),
      options.startTimeoutMs ?? 20000,
    );
    const onData = () => {
      for (const line of out.split('\n')) {
        if (!line.includes('"listening"')) continue;
        try {
          const parsed = JSON.parse(line) as { url?: string };
          if (parsed.url) {
            clearTimeout(timer);
            child.stdout?.off('data', onData);
            resolveUrl(parsed.url);
            return;
          }
        } catch {
          // not a complete JSON line yet
        }
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    url,
    apiKey,
    headerName: 'X-API-Key',
    dataDir,
    child,
    output: () => out,
    stop: () =>
      new Promise((resolveExit) => {
        if (child.exitCode !== null) return resolveExit(child.exitCode);
        child.once('exit', (code) => resolveExit(code));
        child.kill('SIGTERM');
      }),
  };
}

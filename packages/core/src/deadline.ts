import { BackendUnavailableError, SecretGatewayError } from './errors.ts';
import { sleep } from './toolkit.ts';

/**
 * Runs `fn` with an AbortSignal that fires after `ms`; if `fn` has not settled by then, rejects with
 * BackendUnavailableError('timeout'). SDKs that honour the signal stop work; the rest are abandoned.
 */
export async function withDeadline<T>(
  ms: number,
  what: string,
  fn: (options: { readonly signal: AbortSignal }) => Promise<T>,
  /** Names the backend in the timeout's detail, for the operator's log. */
  backend?: string,
): Promise<T> {
  // The AbortController is made only if the adapter asks for the signal: local stores never do,
  // and an AbortController costs more than the SQLite read it would guard.
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  const options = {
    deadline: performance.now() + ms,
    get signal(): AbortSignal {
      controller ??= new AbortController();
      return controller.signal;
    },
  };
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new BackendUnavailableError('timeout', `backend did not answer ${what} within ${ms} ms`, {
        retryAfterSeconds: 1,
        ...(backend ? { detail: { backend, operation: what, backendCode: 'DEADLINE' } } : {}),
      });
      controller?.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([fn(options), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Serialises async work per key inside one process (writes to one path). */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const current = previous.then(fn, fn);
    const tail = current.catch(() => undefined);
    this.#tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}

/**
 * Retries `fn` while it fails with VersionConflictError (another writer took the version), with
 * jittered backoff so racing replicas spread out (longer when the error carries `retryAfterMs`).
 * Gives up as BackendUnavailableError('busy').
 */
export async function retryOnConflict<T>(path: string, retries: number, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(SecretGatewayError.isInstance(error) && error.code === 'conflict')) throw error;
      if (attempt >= retries) {
        throw new BackendUnavailableError('busy', `too many concurrent writers on ${path}`, { cause: error });
      }
      // The adapter's hint (an eventually consistent backend needs its reads to catch up), growing
      // with each attempt, else a few ms; jittered either way.
      const hint = (error as { retryAfterMs?: unknown }).retryAfterMs;
      const base = typeof hint === 'number' && hint > 0 ? hint : 5;
      await sleep(
        base * (attempt + 1) * (typeof hint === 'number' ? 0.5 + Math.random() / 2 : Math.random()),
      );
    }
  }
}

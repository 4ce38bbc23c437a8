import { afterEach, describe, expect, it, vi } from 'vitest';
import { envBoolean, envInteger, operationBudget, parseBoolean, raceAbort, sleep } from '../src/index.ts';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** A promise and its handles, settled by the test. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('raceAbort', () => {
  it('settles with the promise while the signal is quiet, and leaves no listener behind', async () => {
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    await expect(raceAbort(Promise.resolve('v'), controller.signal)).resolves.toBe('v');
    await expect(raceAbort(Promise.reject(new Error('backend')), controller.signal)).rejects.toThrow(
      'backend',
    );
    expect(remove).toHaveBeenCalledTimes(2);
  });

  it('rejects with onAbort() as soon as the signal fires, and absorbs the late rejection', async () => {
    const controller = new AbortController();
    const call = deferred<string>();
    const raced = raceAbort(call.promise, controller.signal, () => new Error('cancelled at the deadline'));
    controller.abort(new Error('reason'));
    await expect(raced).rejects.toThrow('cancelled at the deadline');
    // The loser fails later: no unhandled rejection may follow (vitest fails the run on one).
    call.reject(new Error('late'));
    await new Promise((r) => setImmediate(r));
  });

  it('rejects at once with the signal reason when it has already fired', async () => {
    const call = deferred<string>();
    const reason = new Error('already');
    await expect(raceAbort(call.promise, AbortSignal.abort(reason))).rejects.toBe(reason);
    call.reject(new Error('late'));
    await new Promise((r) => setImmediate(r));
  });
});

describe('sleep', () => {
  it('waits, and ends early with the signal reason, clearing its timer', async () => {
    vi.useFakeTimers();
    let done = false;
    const waiting = sleep(1000).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await waiting;
    expect(done).toBe(true);

    const controller = new AbortController();
    const cut = sleep(60_000, controller.signal, () => new Error('deadline while waiting'));
    controller.abort();
    await expect(cut).rejects.toThrow('deadline while waiting');
    expect(vi.getTimerCount()).toBe(0);
    await expect(sleep(10, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
  });
});

describe('operationBudget', () => {
  it("fires with the caller's signal, and counts down what is left of the budget", async () => {
    const controller = new AbortController();
    const budget = operationBudget(60_000, controller.signal, 50);
    expect(budget.remainingMs()).toBeLessThanOrEqual(59_950);
    expect(budget.remainingMs()).toBeGreaterThan(0);
    expect(budget.signal.aborted).toBe(false);
    controller.abort(new Error('gateway deadline'));
    expect(budget.signal.aborted).toBe(true);
  });

  it('fires on its own at the end of the budget, for callers without a signal', async () => {
    const budget = operationBudget(5);
    await new Promise((r) => budget.signal.addEventListener('abort', r, { once: true }));
    expect(budget.remainingMs()).toBe(0);
  });
});

describe('boolean and integer environment variables', () => {
  it('accept true/false/1/0 in any case, and nothing else', () => {
    for (const text of ['true', 'TRUE', 'True', '1']) expect(parseBoolean(text)).toBe(true);
    for (const text of ['false', 'FALSE', 'False', '0']) expect(parseBoolean(text)).toBe(false);
    for (const text of ['yes', 'no', 'on', ' true', '', 'maybe']) expect(parseBoolean(text)).toBeUndefined();
  });

  it('unset or empty takes the default; a bad spelling names the variable', () => {
    expect(envBoolean({}, 'SGW_X', true)).toBe(true);
    expect(envBoolean({ SGW_X: '' }, 'SGW_X', false)).toBe(false);
    expect(envBoolean({ SGW_X: '0' }, 'SGW_X', true)).toBe(false);
    expect(() => envBoolean({ SGW_X: 'yes' }, 'SGW_X', true)).toThrow(
      'SGW_X must be true, false, 1 or 0 (got "yes")',
    );
    expect(envInteger({}, 'SGW_N', 1, 10)).toBeUndefined();
    expect(envInteger({ SGW_N: '10' }, 'SGW_N', 1, 10)).toBe(10);
    for (const text of ['0', '11', '1.5', '-1', '0x5', ' 5', 'five'])
      expect(() => envInteger({ SGW_N: text }, 'SGW_N', 1, 10)).toThrow(
        /^SGW_N must be a whole number from 1 to 10/,
      );
  });
});

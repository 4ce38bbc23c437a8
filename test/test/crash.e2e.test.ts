import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromEnv } from '@secret-gateway/adapter-sqlite';
import { describe, expect, it } from 'vitest';
import { type GatewayProcess, startGateway } from '../src/index.ts';

// SIGKILL the gateway at random moments while clients write; after every restart each acknowledged
// write must be readable with its version, no version number may be handed out twice, and SQLite's
// integrity check must pass. 20 rounds on one data directory. Kill times and the versions deleted
// come from a seeded generator: the seed is printed, and SGW_CRASH_SEED=<seed> replays a run's choices.
const ROUNDS = 20;
const SEED = Number(process.env.SGW_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 32));

/** mulberry32: a small seeded generator, uniform in [0, 1). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const PATHS = Array.from({ length: 4 }, (_, i) => `tfy-secret/crash/p${i}`);

interface Ack {
  version: number;
  value: string;
}

describe('crash safety of the embedded store', () => {
  it(`keeps every acknowledged write across ${ROUNDS} SIGKILLs (seed ${SEED})`, {
    timeout: 300_000,
  }, async () => {
    console.log(`crash test seed: ${SEED} (replay with SGW_CRASH_SEED=${SEED})`);
    const random = seededRandom(SEED);
    const dataDir = mkdtempSync(join(tmpdir(), 'sgw-crash-'));
    const apiKey = 'crash-test-key-0123456789';
    const acked = new Map<string, Map<number, Ack>>(PATHS.map((p) => [p, new Map()]));
    const deleted = new Map<string, Set<number>>(PATHS.map((p) => [p, new Set()]));
    // Deletes sent but not answered (yet): they may or may not have happened, so they are never resent.
    const maybeDeleted = new Map<string, Set<number>>(PATHS.map((p) => [p, new Set()]));
    let totalAcks = 0;

    // Rounds 0..ROUNDS-1 write and get killed; the extra last pass only restarts and verifies.
    for (let round = 0; round <= ROUNDS; round++) {
      const gw: GatewayProcess = await startGateway({ dataDir, apiKey });
      const headers = { 'X-API-Key': apiKey, 'Content-Type': 'application/json' };

      // After the restart: everything acknowledged before is there, exactly.
      for (const path of PATHS) {
        for (const [version, ack] of acked.get(path) ?? []) {
          const res = await fetch(`${gw.url}/secrets?path=${path}&version=${version}`, { headers });
          if (deleted.get(path)?.has(version)) expect(res.status).toBe(404);
          else if (maybeDeleted.get(path)?.has(version) && res.status === 404)
            deleted.get(path)?.add(version);
          else
            expect(await res.json(), `${path} v${version} after round ${round}`).toEqual({
              path,
              version,
              value: ack.value,
            });
        }
      }

      if (round === ROUNDS) {
        expect(await gw.stop()).toBe(0);
        break;
      }

      let stop = false;
      /** Sends a request; undefined when the connection died with the process (nothing was acknowledged). */
      const send = async (method: string, body: object) => {
        let answer: { status: number; text: string };
        try {
          const res = await fetch(`${gw.url}/secrets`, { method, headers, body: JSON.stringify(body) });
          answer = { status: res.status, text: await res.text() };
        } catch {
          return undefined;
        }
        // Outside the try: a complete answer that is not JSON is a failure, not a dead connection.
        return { status: answer.status, body: JSON.parse(answer.text) as { version?: number } };
      };
      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const path = PATHS[(w + i) % PATHS.length] as string;
          if (i % 7 === 6) {
            // Now and then delete one acknowledged version no delete was sent for yet.
            const candidates = [...(acked.get(path)?.keys() ?? [])].filter(
              (v) => !deleted.get(path)?.has(v) && !maybeDeleted.get(path)?.has(v),
            );
            const version = candidates[Math.floor(random() * candidates.length)];
            if (version === undefined) continue;
            maybeDeleted.get(path)?.add(version);
            const answer = await send('DELETE', { path, version });
            if (answer === undefined) return;
            expect(answer.status, `DELETE ${path} v${version}: ${JSON.stringify(answer.body)}`).toBe(200);
            deleted.get(path)?.add(version);
            continue;
          }
          const value = `r${round}-w${w}-i${i}`;
          const answer = await send('PUT', { path, value });
          if (answer === undefined) return;
          expect(answer.status, `PUT ${path}: ${JSON.stringify(answer.body)}`).toBe(200);
          const version = answer.body.version as number;
          const seen = acked.get(path) as Map<number, Ack>;
          // A version number is never handed out twice (rule 3), across crashes too.
          expect(seen.has(version), `${path} v${version} handed out twice`).toBe(false);
          seen.set(version, { version, value });
          totalAcks++;
        }
      };
      // One promise from the start, so a writer's failed expectation is never an unhandled rejection.
      const writers = Promise.all(Array.from({ length: 6 }, (_, w) => writer(w)));
      await new Promise((r) => setTimeout(r, 100 + random() * 400));
      gw.child.kill('SIGKILL');
      stop = true;
      await writers;
      if (gw.child.exitCode === null && gw.child.signalCode === null)
        await new Promise((r) => gw.child.once('exit', r));
      // After every kill, before the restart: the file itself is sound.
      const adapter = fromEnv({}, { dataDir });
      expect(adapter.db.pragma('integrity_check', { simple: true }), `after kill ${round}`).toBe('ok');
      await adapter.close();
    }

    expect(totalAcks).toBeGreaterThan(ROUNDS);
  });
});

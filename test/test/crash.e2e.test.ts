import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromEnv } from '@secret-gateway/adapter-sqlite';
import { describe, expect, it } from 'vitest';
import { type GatewayProcess, startGateway } from '../src/index.ts';

// SIGKILL the gateway at random moments while clients write; after every restart each acknowledged
// write must be readable with its version, no version number may be handed out twice, and SQLite's
// integrity check must pass. 20 rounds on one data directory.
const ROUNDS = 20;
const PATHS = Array.from({ length: 4 }, (_, i) => `tfy-secret/crash/p${i}`);

interface Ack {
  version: number;
  value: string;
}

describe('crash safety of the embedded store', () => {
  it(`keeps every acknowledged write across ${ROUNDS} SIGKILLs`, { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sgw-crash-'));
    const apiKey = 'crash-test-key-0123456789';
    const acked = new Map<string, Map<number, Ack>>(PATHS.map((p) => [p, new Map()]));
    const deleted = new Map<string, Set<number>>(PATHS.map((p) => [p, new Set()]));
    // Deletes sent but not answered before the kill: they may or may not have happened.
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
      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const path = PATHS[(w + i) % PATHS.length] as string;
          const value = `r${round}-w${w}-i${i}`;
          try {
            if (i % 7 === 6) {
              // Now and then delete one acknowledged version.
              const candidates = [...(acked.get(path)?.keys() ?? [])].filter(
                (v) => !deleted.get(path)?.has(v),
              );
              const version = candidates[Math.floor(Math.random() * candidates.length)];
              if (version === undefined) continue;
              maybeDeleted.get(path)?.add(version);
              const res = await fetch(`${gw.url}/secrets`, {
                method: 'DELETE',
                headers,
                body: JSON.stringify({ path, version }),
              });
              if (res.status === 200) deleted.get(path)?.add(version);
              continue;
            }
            const res = await fetch(`${gw.url}/secrets`, {
              method: 'PUT',
              headers,
              body: JSON.stringify({ path, value }),
            });
            if (res.status !== 200) continue;
            const { version } = (await res.json()) as { version: number };
            const seen = acked.get(path) as Map<number, Ack>;
            // A version number is never handed out twice (rule 3), across crashes too.
            expect(seen.has(version), `${path} v${version} handed out twice`).toBe(false);
            seen.set(version, { version, value });
            totalAcks++;
          } catch {
            return; // the connection died with the process: that write was never acknowledged
          }
        }
      };
      const writers = Array.from({ length: 6 }, (_, w) => writer(w));
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
      gw.child.kill('SIGKILL');
      stop = true;
      await Promise.all(writers);
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

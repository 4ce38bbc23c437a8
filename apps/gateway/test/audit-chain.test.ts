import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, openAuditLog } from '../src/audit.ts';
import { GENESIS, readCheckpoint, sealLine } from '../src/audit-chain.ts';
import { verifyAuditText } from '../src/audit-verify.ts';
import { auditLines, entry, memoryLogger, newKey, tempDir, verifyFile } from './audit-helpers.ts';

const BIN = resolve(import.meta.dirname, '../bin/sgw-gateway.mjs');

/** A keyed trail of `count` lines, closed. */
async function trail(count: number, key = newKey()) {
  const file = join(tempDir(), 'audit.log');
  const audit = new AuditLog(file, { key });
  for (let i = 0; i < count; i++) await audit.record(entry());
  await audit.close();
  return { file, key, lines: readFileSync(file, 'utf8').trimEnd().split('\n') };
}

const text = (lines: string[]) => `${lines.join('\n')}\n`;
const reasons = (r: ReturnType<typeof verifyAuditText>) =>
  r.problems.map((p) => `${p.line ?? '-'}: ${p.reason}`);

/** What someone without the key can do: recompute every later link with a key of their own. */
function rechain(lines: string[], from: number, forgerKey: Buffer): string[] {
  const out = lines.slice(0, from);
  let prev = from === 0 ? GENESIS : (JSON.parse(lines[from - 1] as string).mac as string);
  for (const line of lines.slice(from)) {
    const { mac: _mac, prev: _prev, ...body } = JSON.parse(line);
    const sealed = sealLine(forgerKey, body, prev);
    out.push(sealed.text.trimEnd());
    prev = sealed.mac;
  }
  return out;
}

describe('keyed chain', () => {
  it('verifies a trail under its key and its checkpoint, and not under another key', async () => {
    const { file, key, lines } = await trail(5);
    expect(lines.every((l) => /"mac":"[0-9a-f]{64}"/.test(l) && !l.includes('"hash"'))).toBe(true);
    expect(verifyFile(file, key)).toEqual({
      ok: true,
      lines: 5,
      verified: 5,
      problems: [],
      error: undefined,
    });
    const other = verifyFile(file, newKey());
    expect(other.ok).toBe(false);
    expect(reasons(other)).toContain(
      '-: no line verifies under this key: is it the audit key that wrote this file?',
    );
    expect(reasons(other)).toContain(
      '-: the checkpoint was written under another audit key (key id ' +
        JSON.parse(readFileSync(`${file}.head`, 'utf8')).keyId +
        ')',
    );
  });

  it('finds an edited line even when every later link is recomputed', async () => {
    const { file, key, lines } = await trail(6);
    const edited = [...lines];
    edited[2] = (edited[2] as string).replace('"outcome":200', '"outcome":404');
    const forged = rechain(edited, 2, newKey());
    const result = verifyAuditText(text(forged), key, readCheckpoint(`${file}.head`, key));
    expect(result.ok).toBe(false);
    expect(reasons(result).slice(0, 4)).toEqual([
      '3: MAC does not match: edited or forged (or another audit key)',
      '4: MAC does not match: edited or forged (or another audit key)',
      '5: MAC does not match: edited or forged (or another audit key)',
      '6: MAC does not match: edited or forged (or another audit key)',
    ]);
    // The plain-hash chain of old could be rebuilt like this: rebuild one and it still fails.
    const plain = edited.map((l) => {
      const { mac: _m, ...body } = JSON.parse(l);
      return JSON.stringify({
        ...body,
        hash: createHash('sha256').update(JSON.stringify(body)).digest('hex'),
      });
    });
    expect(verifyAuditText(text(plain), key).ok).toBe(false);
  });

  it('finds a forged appended line, a removed line and an inserted line', async () => {
    const { file, key, lines } = await trail(4);
    const cp = readCheckpoint(`${file}.head`, key);
    const forgedTail = sealLine(
      newKey(),
      entry() as unknown as Record<string, unknown>,
      JSON.parse(lines[3] as string).mac,
    );
    expect(reasons(verifyAuditText(text([...lines, forgedTail.text.trimEnd()]), key, cp))).toEqual([
      '5: MAC does not match: edited or forged (or another audit key)',
    ]);
    expect(reasons(verifyAuditText(text([lines[0], lines[2], lines[3]] as string[]), key))).toEqual([
      '2: does not follow the line before (lines removed, inserted or reordered)',
    ]);
    const inserted = [lines[0], lines[1], lines[1], lines[2], lines[3]] as string[];
    expect(reasons(verifyAuditText(text(inserted), key))).toEqual([
      '3: does not follow the line before (lines removed, inserted or reordered)',
    ]);
  });

  it('finds a cut tail through the checkpoint, and says when there is no checkpoint', async () => {
    const { file, key, lines } = await trail(6);
    writeFileSync(file, text(lines.slice(0, 4)));
    const result = verifyFile(file, key);
    expect(result.ok).toBe(false);
    expect(reasons(result)).toEqual([
      expect.stringMatching(/^-: tail cut: the checkpoint \(.*\) records 6 lines, the file has 4$/),
    ]);
    expect(reasons(verifyFile(file, key, join(tempDir(), 'none.head')))).toEqual([
      '-: no checkpoint: a cut tail cannot be detected',
    ]);
  });

  it('a gateway starting on a cut file says so loudly and writes a gap line that verify reports', async () => {
    const { file, key, lines } = await trail(6);
    writeFileSync(file, text(lines.slice(0, 3)));
    const { logger, lines: logs } = memoryLogger();
    const audit = new AuditLog(file, { key, logger });
    await audit.record(entry());
    await audit.close();
    expect(logs.find((l) => l.level === 50)?.msg).toBe(
      'audit trail: its tail was cut: the checkpoint records 6 lines, the file has 3; lines may have been removed',
    );
    const after = auditLines(file);
    expect(after[3]).toMatchObject({ event: 'gap', expected: { lines: 6 }, found: { lines: 3 } });
    // The gap line links to the lost head; the checkpoint now follows the new head.
    const result = verifyFile(file, key);
    expect(reasons(result)).toEqual([
      '4: lines missing before this line: the gateway found at start that its tail was cut: the checkpoint records 6 lines, the file has 3',
    ]);
    expect(result.verified).toBe(5);
  });

  it('a deleted checkpoint is reported at the next start', async () => {
    const { file, key } = await trail(2);
    execFileSync('rm', [`${file}.head`]);
    const audit = new AuditLog(file, { key });
    await audit.close();
    expect(reasons(verifyFile(file, key))).toEqual([
      '3: lines missing before this line: the gateway found at start that its checkpoint is missing',
    ]);
  });

  it('old unkeyed files are named as such, and a gateway continues them keyed', async () => {
    const file = join(tempDir(), 'old.log');
    let prev = GENESIS;
    const old: string[] = [];
    for (let i = 0; i < 3; i++) {
      const body = { time: new Date().toISOString(), ...entry(), prev };
      prev = createHash('sha256').update(JSON.stringify(body)).digest('hex');
      old.push(JSON.stringify({ ...body, hash: prev }));
    }
    writeFileSync(file, text(old));
    const key = newKey();
    expect(reasons(verifyFile(file, key))).toEqual([
      '1: lines 1-3 are unkeyed (written before the audit key was used): they cannot be verified as keyed',
      '-: no checkpoint: a cut tail cannot be detected',
    ]);
    const audit = new AuditLog(file, { key });
    await audit.record(entry());
    await audit.close();
    const result = verifyFile(file, key);
    expect(reasons(result)).toEqual([
      '1: lines 1-3 are unkeyed (written before the audit key was used): they cannot be verified as keyed',
    ]);
    expect(result.verified).toBe(1);
  });

  it('generates the key 0600 beside the data, never beside a keyed file, and refuses another key', async () => {
    const dir = tempDir();
    const file = join(dir, 'audit.log');
    const keyFile = join(dir, 'data', 'audit.key');
    const audit = openAuditLog({ target: file, failClosed: false, keyFile });
    await audit.record(entry());
    await audit.close();
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(verifyFile(file, Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64')).ok).toBe(true);
    expect(() => openAuditLog({ target: file, failClosed: false, keyFile: join(dir, 'lost.key') })).toThrow(
      /holds keyed lines but its key .*lost.key is missing/,
    );
    expect(existsSync(join(dir, 'lost.key'))).toBe(false);
    expect(() =>
      openAuditLog({ target: file, failClosed: false, keyFile, keyBase64: newKey().toString('base64') }),
    ).toThrow(/was written under another audit key/);
  });
});

describe('sgw-gateway audit verify', { timeout: 60_000 }, () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [BIN, 'audit', 'verify', ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, SGW_DATA_DIR: tempDir(), ...env },
    });

  it('takes the key from --key-file or SGW_AUDIT_KEY, and the checkpoint beside the file', async () => {
    const { file, key, lines } = await trail(3);
    const keyFile = join(tempDir(), 'audit.key');
    writeFileSync(keyFile, key.toString('base64'));
    expect(run([file, '--key-file', keyFile])).toMatchObject({
      status: 0,
      stdout: 'audit chain intact: 3 lines, checkpoint matches\n',
    });
    expect(run([file], { SGW_AUDIT_KEY: key.toString('base64') }).status).toBe(0);

    writeFileSync(file, text(lines.slice(0, 2)));
    const cut = run([file, '--key-file', keyFile]);
    expect(cut.status).toBe(1);
    expect(cut.stdout).toMatch(
      /^tail cut: the checkpoint \(.*\) records 3 lines, the file has 2\naudit chain NOT intact: 2 lines, 2 verified\n$/,
    );
  });

  it('says what is missing instead of crashing', async () => {
    const { file } = await trail(1);
    const noKey = run([file]);
    expect(noKey.status).toBe(1);
    expect(noKey.stderr).toMatch(
      /no audit key: .*audit.key does not exist: give --key-file or SGW_AUDIT_KEY/,
    );
    const oldFile = join(tempDir(), 'old.log');
    writeFileSync(oldFile, `${JSON.stringify({ op: 'read', prev: GENESIS, hash: GENESIS })}\n`);
    const old = run([oldFile], { SGW_AUDIT_KEY: newKey().toString('base64') });
    expect(old.status).toBe(1);
    expect(old.stdout).toContain(
      'line 1: lines 1-1 are unkeyed (written before the audit key was used): they cannot be verified as keyed',
    );
  });
});

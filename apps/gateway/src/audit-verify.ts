import { type CheckpointRead, GENESIS, macOf, sameHex } from './audit-chain.ts';

export interface VerifyProblem {
  /** 1-based line number, when the problem sits at a line. */
  line?: number;
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  lines: number;
  /** Lines whose MAC verifies under the key. */
  verified: number;
  /** Everything found, in file order (the checkpoint last); at most MAX_PROBLEMS, then a count. */
  problems: VerifyProblem[];
  /** The first problem, for callers that only need one. */
  error?: VerifyProblem;
}

const MAX_PROBLEMS = 50;

/**
 * Checks every line's MAC under the audit key and its link to the line before, then the file
 * against its checkpoint (the signed head kept in another file). Goes on past a broken line, so
 * one removed line is one problem, not every line after it.
 */
export function verifyAuditText(text: string, key: Buffer, checkpoint?: CheckpointRead): VerifyResult {
  const lines = text.split('\n');
  const complete = lines[lines.length - 1] === '';
  if (complete) lines.pop();
  const problems: VerifyProblem[] = [];
  let prev = GENESIS;
  let verified = 0;
  let unkeyed = 0;
  let keyedSeen = false;
  for (const [i, line] of lines.entries()) {
    const n = i + 1;
    if (!complete && n === lines.length) {
      problems.push({ line: n, reason: 'the last line is incomplete (a write cut short)' });
      break;
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      problems.push({ line: n, reason: 'not a JSON line (a torn write or text added by hand)' });
      continue;
    }
    const { mac, ...body } = parsed;
    const hash = body.hash;
    if (typeof mac !== 'string') {
      if (typeof hash !== 'string') {
        problems.push({ line: n, reason: 'not an audit line' });
      } else if (keyedSeen) {
        problems.push({ line: n, reason: 'an unkeyed line among keyed ones (forged)' });
        prev = hash;
      } else {
        unkeyed++;
        prev = hash;
      }
      continue;
    }
    keyedSeen = true;
    if (body.event === 'gap') {
      problems.push({
        line: n,
        reason: `lines missing before this line: the gateway found at start that ${String(body.reason)}`,
      });
    } else if (body.prev !== prev) {
      problems.push({
        line: n,
        reason: 'does not follow the line before (lines removed, inserted or reordered)',
      });
    }
    if (sameHex(mac, macOf(key, JSON.stringify(body)))) verified++;
    else problems.push({ line: n, reason: 'MAC does not match: edited or forged (or another audit key)' });
    prev = mac;
  }
  if (unkeyed > 0) {
    problems.unshift({
      line: 1,
      reason: `lines 1-${unkeyed} are unkeyed (written before the audit key was used): they cannot be verified as keyed`,
    });
  }
  const keyed = lines.length - unkeyed;
  if (keyed > 0 && verified === 0) {
    problems.unshift({
      reason: 'no line verifies under this key: is it the audit key that wrote this file?',
    });
  }
  const checkpointProblem = checkAgainst(checkpoint, lines);
  if (checkpointProblem) problems.push(checkpointProblem);
  const shown = problems.slice(0, MAX_PROBLEMS);
  if (problems.length > MAX_PROBLEMS)
    shown.push({ reason: `and ${problems.length - MAX_PROBLEMS} more problems` });
  return { ok: problems.length === 0, lines: lines.length, verified, problems: shown, error: shown[0] };
}

function checkAgainst(read: CheckpointRead | undefined, lines: string[]): VerifyProblem | undefined {
  if (!read) return undefined;
  switch (read.state) {
    case 'missing':
      return { reason: 'no checkpoint: a cut tail cannot be detected' };
    case 'other-key':
      return { reason: `the checkpoint was written under another audit key (key id ${read.keyId})` };
    case 'invalid':
      return { reason: `the checkpoint ${read.reason}` };
  }
  const c = read.checkpoint;
  if (lines.length < c.lines) {
    return {
      reason: `tail cut: the checkpoint (${c.time}) records ${c.lines} lines, the file has ${lines.length}`,
    };
  }
  const head = lines[c.lines - 1];
  let link: unknown;
  try {
    link = head === undefined ? GENESIS : (JSON.parse(head) as { mac?: unknown }).mac;
  } catch {
    link = undefined;
  }
  if (link !== c.mac) {
    return {
      line: c.lines,
      reason: `the checkpointed head (line ${c.lines}, ${c.time}) is not in the file: lines removed, inserted or rewritten`,
    };
  }
  return undefined;
}

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A key file the gateway makes on first start: 32 random bytes in `encoding`, mode 0600, in a 0700
 * directory. Two processes starting at once both read the one that was written first. Returns the
 * file's text (trimmed) and whether this call made it.
 */
export function ensureKeyFile(
  file: string,
  encoding: 'base64' | 'base64url',
): { text: string; generated: boolean } {
  let generated = false;
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${randomBytes(32).toString(encoding)}\n`, { mode: 0o600, flag: 'wx' });
      generated = true;
    } catch (error) {
      // Another process created it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  chmodSync(file, 0o600);
  return { text: readFileSync(file, 'utf8').trim(), generated };
}

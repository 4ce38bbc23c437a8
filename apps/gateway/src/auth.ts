import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Checks the static auth header TrueFoundry sends. Both sides are hashed first, so the comparison
 * takes the same time whatever the length or content of the presented value.
 */
export class ApiKeyVerifier {
  readonly headerName: string;
  readonly #expected: Buffer;

  constructor(headerName: string, key: string) {
    this.headerName = headerName.toLowerCase();
    this.#expected = digest(key);
  }

  verify(presented: string | string[] | undefined): boolean {
    if (typeof presented !== 'string') return false;
    return timingSafeEqual(digest(presented), this.#expected);
  }
}

export interface ResolvedKey {
  key: string;
  /** Set when the key was read from or written to a file (logged; the key itself never is). */
  file?: string;
  generated: boolean;
}

/** SGW_API_KEY, or `<dataDir>/api-key`, generated with mode 0600 on first start. */
export function resolveApiKey(configured: string | undefined, dataDir: string): ResolvedKey {
  if (configured) return { key: configured, generated: false };
  const file = join(dataDir, 'api-key');
  let generated = false;
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
      generated = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  chmodSync(file, 0o600);
  const key = readFileSync(file, 'utf8').trim();
  if (key.length < 16) throw new Error(`${file} must hold an API key of at least 16 characters`);
  return { key, file, generated };
}

/**
 * Values at rest, for every store the gateway encrypts itself (the embedded SQLite store, Postgres):
 * AES-256-GCM under the master key, each ciphertext bound to its path, version and generation.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { BackendError } from './errors.ts';

/** AES-256-GCM with a random 96-bit IV per value; the 128-bit tag is stored beside the ciphertext. */
const ALGORITHM = 'aes-256-gcm';

let pool: Buffer = Buffer.alloc(0);
let poolOffset = 0;

/**
 * `size` bytes from the CSPRNG, taken from a 4 KiB block drawn at once: one randomBytes(12) call
 * costs about 7 us (measured), more than the AES-GCM seal itself; a copy from the block, 0.3 us.
 * Each block is used once, front to back, and each answer is its own copy.
 */
export function pooledRandomBytes(size: number): Buffer {
  if (size > 256) return randomBytes(size);
  if (poolOffset + size > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + size));
  poolOffset += size;
  return bytes;
}

export interface Sealed {
  keyId: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/** Short, stable id of a key (not secret: a truncated SHA-256 of it). */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('sgw-key-id:').update(key).digest('hex').slice(0, 16);
}

/**
 * The current key encrypts; every key it knows decrypts, so the master key can be rotated by adding
 * a new current key and keeping the old one until `rotate` has re-encrypted every row.
 */
export class Keyring {
  readonly current: { id: string; key: Buffer };
  readonly #byId = new Map<string, Buffer>();

  constructor(current: Buffer, previous: Buffer[] = []) {
    for (const key of [current, ...previous]) {
      if (key.length !== 32) throw new Error('master key must be 32 bytes (base64 of 32 random bytes)');
      this.#byId.set(keyIdOf(key), key);
    }
    this.current = { id: keyIdOf(current), key: current };
  }

  has(keyId: string): boolean {
    return this.#byId.has(keyId);
  }

  /** Ids of every key held, the current one first. */
  ids(): string[] {
    return [...this.#byId.keys()];
  }

  seal(plaintext: string, aad: Buffer): Sealed {
    const iv = pooledRandomBytes(12);
    const cipher = createCipheriv(ALGORITHM, this.current.key, iv);
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { keyId: this.current.id, iv, tag: cipher.getAuthTag(), ciphertext };
  }

  open(sealed: Sealed, aad: Buffer): string {
    const key = this.#byId.get(sealed.keyId);
    if (!key) throw new BackendError('invalid', `value was encrypted with unknown key id ${sealed.keyId}`);
    try {
      const decipher = createDecipheriv(ALGORITHM, key, sealed.iv);
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.tag);
      return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
    } catch (cause) {
      // Tampering, or a row moved to another path/version/generation: refuse rather than serve it.
      throw new BackendError('invalid', 'stored value failed authentication', { cause });
    }
  }
}

/** Binds a ciphertext to where it belongs: copied to another path, version or generation it fails. */
export function associatedData(path: string, version: number, generation: Buffer): Buffer {
  return Buffer.from(`sgw/v1\0${path}\0${version}\0${generation.toString('hex')}`, 'utf8');
}

/** A master key as configured: base64 of exactly 32 bytes; the error names where it came from. */
export function decodeMasterKey(text: string, source: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) {
    throw new Error(
      `${source} must be base64 of exactly 32 bytes (got ${key.length} bytes); make one with: openssl rand -base64 32`,
    );
  }
  return key;
}

/** SGW_MASTER_KEY_PREVIOUS: older keys (comma-separated) kept readable during a rotation. */
export function previousMasterKeys(env: Record<string, string | undefined>): Buffer[] {
  return (env.SGW_MASTER_KEY_PREVIOUS ?? '')
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((s) => decodeMasterKey(s, 'SGW_MASTER_KEY_PREVIOUS'));
}

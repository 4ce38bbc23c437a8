/**
 * Payloads with the CRC32C (Castagnoli) checksum Google recommends: sent with every AddSecretVersion
 * so Secret Manager refuses a corrupted write, and checked on every AccessSecretVersion answer.
 */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function encodePayload(value: string): { data: Buffer; dataCrc32c: number } {
  const data = Buffer.from(value, 'utf8');
  return { data, dataCrc32c: crc32c(data) };
}

/**
 * The UTF-8 text of an access answer's payload; `null` when the checksum GCP sent does not match
 * (int64 arrives as a string, a number or a Long depending on the transport's decoding).
 */
export function decodePayload(
  payload: { data?: Uint8Array | string | null; dataCrc32c?: unknown } | null | undefined,
): string | null {
  const raw = payload?.data ?? new Uint8Array();
  const data = typeof raw === 'string' ? Buffer.from(raw, 'base64') : Buffer.from(raw);
  const sent = payload?.dataCrc32c;
  if (sent !== undefined && sent !== null && String(sent) !== String(crc32c(data))) return null;
  return data.toString('utf8');
}

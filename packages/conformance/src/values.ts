import type { SuiteContext } from './context.ts';

/** Values that break naive encodings, stores and JSON handling. */
export function sampleValues(maxBytes: number): Array<[string, string]> {
  const big = Math.min(64 * 1024, maxBytes);
  return [
    ['empty', ''],
    ['a single space', ' '],
    [`${big} bytes of ASCII`, 'x'.repeat(big)],
    ['multi-line with CRLF and tabs', 'line one\nline two\r\n\tindented\n\n'],
    ['non-ASCII UTF-8', 'pässwörd-密码-🔐-\u0301e-Ω'],
    ['JSON text', JSON.stringify({ user: 'admin', password: 'p"w\\d', nested: { list: [1, null, true] } })],
    [
      'a PEM block',
      '-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----\n',
    ],
    ['characters that look like markup or shell', `<script>&amp;'$(rm -rf /)'\`x\` %s %n {{x}}`],
    ['multi-byte characters up to the size limit', '€'.repeat(Math.floor(big / 3))],
  ];
}

export function values({ runner: { describe, expect }, adapter, freshPath, test }: SuiteContext): void {
  describe('values', () => {
    test('values survive a round trip byte for byte', async () => {
      for (const [label, value] of sampleValues(adapter().capabilities.maxValueBytes)) {
        const path = freshPath();
        const version = await adapter().write(path, value);
        const read = await adapter().read(path, undefined);
        expect(read, label).not.toBeNull();
        expect(read?.value === value, `${label} changed in the round trip`).toBe(true);
        expect(read?.version).toBe(version);
      }
    });

    test('an empty version between non-empty ones stays empty', async () => {
      const path = freshPath();
      await adapter().write(path, 'a');
      await adapter().write(path, '');
      await adapter().write(path, 'c');
      expect(await adapter().read(path, 2)).toEqual({ value: '', version: 2 });
      expect(await adapter().deleteVersion(path, 3)).toBe(true);
      expect(await adapter().read(path, undefined)).toEqual({ value: '', version: 2 });
    });
  });
}

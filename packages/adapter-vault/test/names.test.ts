import { describe, expect, it } from 'vitest';
import { dataPath, destroyPath, kvPath, metadataPath } from '../src/names.ts';

describe('Vault path mapping', () => {
  it('keeps gateway paths as they are under the mount', () => {
    expect(kvPath('tfy-secret/acme/prod/db-password')).toBe('tfy-secret/acme/prod/db-password');
    expect(dataPath('secret', 'tfy-secret/a/B_c.d-e')).toBe('secret/data/tfy-secret/a/B_c.d-e');
    expect(dataPath('kv', 'tfy-secret/a', 3)).toBe('kv/data/tfy-secret/a?version=3');
    expect(metadataPath('secret', 'tfy-secret/a')).toBe('secret/metadata/tfy-secret/a');
    expect(destroyPath('kv/team', 'tfy-secret/a')).toBe('kv/team/destroy/tfy-secret/a');
  });

  it('URI-encodes each segment, so nothing can escape the path', () => {
    expect(kvPath('tfy-secret/a b/c?d#e')).toBe('tfy-secret/a%20b/c%3Fd%23e');
  });
});

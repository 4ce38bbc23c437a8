/**
 * Gateway path -> Vault KV path. Vault takes any path without a trailing slash, so the mapping is the
 * path itself with each segment URI-encoded (gateway segments are already `[A-Za-z0-9_.-]`, so in
 * practice nothing changes: secrets stay browsable under the same names in Vault's UI and CLI).
 */
export function kvPath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export function dataPath(mount: string, path: string, version?: number): string {
  return `${mount}/data/${kvPath(path)}${version === undefined ? '' : `?version=${version}`}`;
}

export function metadataPath(mount: string, path: string): string {
  return `${mount}/metadata/${kvPath(path)}`;
}

export function destroyPath(mount: string, path: string): string {
  return `${mount}/destroy/${kvPath(path)}`;
}

import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { planIntegrations } from '../src/server.ts';

// Configuration of the secret-groups API and of several integrations: each mistake is a
// ConfigError naming the field, before anything starts.
const HASH = 'a'.repeat(64);
const problem = (file: unknown, env: Record<string, string> = {}) => {
  try {
    loadConfig(env, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  return undefined;
};

describe('secret-groups and integrations configuration', () => {
  it.each([
    [
      'an integration id used twice',
      {
        integrations: [
          { id: 'a', backend: 'memory' },
          { id: 'a', backend: 'memory' },
        ],
      },
      /integrations: id a is used more than once/,
    ],
    [
      'two defaults',
      {
        integrations: [
          { id: 'a', backend: 'memory', default: true },
          { id: 'b', backend: 'memory', default: true },
        ],
      },
      /only one may be the default/,
    ],
    [
      'a mount naming no integration',
      { mounts: [{ prefix: 'tfy-secret/legacy', integration: 'vault' }] },
      /names integration vault, which is not configured/,
    ],
    [
      'a mount outside the root',
      { mounts: [{ prefix: 'elsewhere/x', integration: 'default' }] },
      /mounts: "elsewhere\/x" is not a path under tfy-secret\//,
    ],
    [
      'a subject listed twice',
      {
        subjects: [
          { subject: 'user:a@b.c', tokenSha256: HASH },
          { subject: 'user:a@b.c', tokenSha256: HASH },
        ],
      },
      /subjects: user:a@b.c is listed more than once/,
    ],
    ['a team as a subject', { subjects: [{ subject: 'team:x', tokenSha256: HASH }] }, /subjects\.0\.subject/],
    ['a team inside a team', { teams: [{ name: 't', members: ['team:other'] }] }, /teams\.0\.members\.0/],
    [
      'a token that is not a SHA-256',
      { subjects: [{ subject: 'user:a@b.c', tokenSha256: 'abc' }] },
      /tokenSha256/,
    ],
  ])('%s', (_name, file, message) => {
    expect(problem(file)).toMatch(message);
  });

  it('SGW_ADMIN_TOKEN must be a usable key, and SGW_ADMIN_SUBJECT a subject', () => {
    expect(problem({}, { SGW_ADMIN_TOKEN: 'short' })).toMatch(
      /SGW_ADMIN_TOKEN: must be at least 16 characters/,
    );
    expect(problem({}, { SGW_ADMIN_TOKEN: 'a-long-enough-token-123', SGW_ADMIN_SUBJECT: 'team:x' })).toMatch(
      /SGW_ADMIN_SUBJECT/,
    );
    const ok = loadConfig({ SGW_ADMIN_TOKEN: 'a-long-enough-token-123' });
    expect(ok.subjects).toEqual([
      expect.objectContaining({ subject: 'serviceaccount:admin', tenantAdmin: true }),
    ]);
    // Only the digest is kept.
    expect(JSON.stringify(ok)).not.toContain('a-long-enough-token-123');
  });

  it('integration settings take ${NAME} from the environment; an unset one is a ConfigError naming it', () => {
    const config = loadConfig(
      {},
      {
        integrations: [
          { id: 'main', backend: 'memory' },
          {
            id: 'v',
            backend: 'vault',
            settings: { VAULT_ADDR: 'http://127.0.0.1:1', VAULT_TOKEN: '${MY_TOKEN}' },
          },
        ],
      },
    );
    const planned = planIntegrations(config, { MY_TOKEN: 'tok', OTHER: 'x' });
    expect(planned.map((p) => [p.id, p.isDefault])).toEqual([
      ['main', true],
      ['v', false],
    ]);
    // The default one sees the process environment; the others only their settings.
    expect(planned[0]?.env.OTHER).toBe('x');
    expect(planned[1]?.env).toEqual({ VAULT_ADDR: 'http://127.0.0.1:1', VAULT_TOKEN: 'tok' });
    expect(() => planIntegrations(config, {})).toThrow(
      /integrations \(v\)\.settings\.VAULT_TOKEN: environment variable MY_TOKEN is not set/,
    );
  });
});

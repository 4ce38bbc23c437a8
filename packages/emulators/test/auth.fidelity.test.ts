import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretClient } from '@azure/keyvault-secrets';
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEmulator, startAwsEmulator } from '../src/aws/index.ts';
import { type AzureEmulator, startAzureEmulator } from '../src/azure/index.ts';
import { startVaultEmulator, type VaultEmulator } from '../src/vault/index.ts';

// The failures a misconfigured gateway meets, reproduced by each emulator and driven by the official
// SDK (not the adapters): refused credentials, denied permissions, and what Vault reports about them.
let vault: VaultEmulator;
let aws: AwsEmulator;
let azure: AzureEmulator;
beforeAll(async () => {
  [vault, aws, azure] = await Promise.all([startVaultEmulator(), startAwsEmulator(), startAzureEmulator()]);
});
afterAll(() => Promise.all([vault.stop(), aws.stop(), azure.stop()]));

const statusOf = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e: { response?: { statusCode?: number }; statusCode?: number }) =>
      e.response?.statusCode ?? e.statusCode ?? -1,
  );

describe('Vault policies (https://developer.hashicorp.com/vault/docs/concepts/policies)', () => {
  const client = (token: string) => nodeVault({ endpoint: vault.url, token, noCustomHTTPVerbs: true });
  beforeAll(() => {
    vault.tokens.grant('app', [
      { path: 'secret/data/tfy-secret/*', capabilities: ['create', 'read', 'update'] },
      { path: 'secret/data/tfy-secret/locked', capabilities: ['deny'] },
      { path: 'secret/metadata/tfy-secret/+/meta', capabilities: ['read'] },
    ]);
  });

  it('a granted glob allows its capabilities and nothing else; 403 "permission denied" otherwise', async () => {
    const app = client('app');
    expect(await statusOf(app.write('secret/data/tfy-secret/a', { data: { value: 'v' } }))).toBe(200);
    expect((await app.read('secret/data/tfy-secret/a')).data.data).toEqual({ value: 'v' });
    expect(await statusOf(app.delete('secret/metadata/tfy-secret/a'))).toBe(403);
    expect(await statusOf(app.read('secret/data/other/a'))).toBe(403);
    const refused = await app.read('secret/data/other/a').catch((e: Error) => e.message);
    expect(refused).toBe('permission denied');
  });

  it('an exact path beats a glob, and deny takes everything away', async () => {
    expect(await statusOf(client('app').read('secret/data/tfy-secret/locked'))).toBe(403);
  });

  it('`+` matches exactly one segment', async () => {
    const app = client('app');
    expect(await statusOf(app.read('secret/metadata/tfy-secret/x/meta'))).toBe(404); // allowed, absent
    expect(await statusOf(app.read('secret/metadata/tfy-secret/x/y/meta'))).toBe(403);
  });

  it('a token Vault does not know gets 403 on every path', async () => {
    expect(await statusOf(client('nobody').read('secret/data/tfy-secret/a'))).toBe(403);
    expect(await statusOf(client('nobody').write('sys/capabilities-self', { paths: ['x'] }))).toBe(403);
  });

  it('sys/capabilities-self answers per path, under `data` too; root for the root token, deny when unmatched', async () => {
    // https://developer.hashicorp.com/vault/api-docs/system/capabilities-self
    const paths = ['secret/data/tfy-secret/x', 'secret/data/tfy-secret/locked', 'secret/data/elsewhere'];
    const answer = await client('app').write('sys/capabilities-self', { paths });
    expect(answer.data).toEqual({
      'secret/data/tfy-secret/x': ['create', 'read', 'update'],
      'secret/data/tfy-secret/locked': ['deny'],
      'secret/data/elsewhere': ['deny'],
    });
    expect(answer['secret/data/tfy-secret/x']).toEqual(['create', 'read', 'update']);
    const root = await client(vault.token).write('sys/capabilities-self', { paths: ['anything'] });
    expect(root).toMatchObject({ capabilities: ['root'], anything: ['root'] });
  });

  it('a path under a mount that does not exist: 404 with "no handler for route", unlike a missing secret', async () => {
    const root = client(vault.token);
    const missingMount = await root.read('kv/metadata/tfy-secret/x').catch((e) => e.response);
    expect(missingMount).toMatchObject({
      statusCode: 404,
      body: { errors: [expect.stringContaining('no handler for route')] },
    });
    const missingSecret = await root.read('secret/metadata/tfy-secret/nothing').catch((e) => e.response);
    expect(missingSecret).toMatchObject({ statusCode: 404, body: { errors: [] } });
  });
});

describe('AWS credentials and IAM (https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html)', () => {
  const client = (accessKeyId: string) =>
    new SecretsManagerClient({
      region: aws.region,
      endpoint: aws.url,
      credentials: { accessKeyId, secretAccessKey: 'x' },
      maxAttempts: 1,
    });
  const describeError = (c: SecretsManagerClient): Promise<Error> =>
    c.send(new DescribeSecretCommand({ SecretId: 'tfy-secret/none' })).then(
      () => new Error('no error'),
      (e: Error) => e,
    );

  it('an access key id AWS never issued: 400 UnrecognizedClientException', async () => {
    aws.state.accessKeyIds.add('AKIAKNOWN');
    try {
      const error = await describeError(client('AKIAUNKNOWN'));
      expect(error).toMatchObject({
        name: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
        $metadata: { httpStatusCode: 400 },
      });
      expect((await describeError(client('AKIAKNOWN'))).name).toBe('ResourceNotFoundException');
    } finally {
      aws.state.accessKeyIds.clear();
    }
  });

  it('a principal without the action: AccessDeniedException naming the principal ARN (which adapters must not pass on)', async () => {
    aws.state.denied.add('DescribeSecret');
    try {
      const error = await describeError(client('AKIAANY'));
      expect(error).toMatchObject({ name: 'AccessDeniedException' });
      expect((error as Error).message).toMatch(/arn:aws:iam::123456789012/);
    } finally {
      aws.state.denied.clear();
    }
  });
});

describe('Azure Key Vault tokens (https://learn.microsoft.com/azure/key-vault/general/rbac-guide)', () => {
  const client = (token: string) =>
    new SecretClient(
      azure.vaultUrl,
      { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) },
      {
        disableChallengeResourceVerification: true,
        tlsOptions: { ca: azure.certPem },
        retryOptions: { maxRetries: 0 },
      },
    );

  it('with accepted tokens configured, any other token is 401 Unauthorized', async () => {
    azure.tokens.accepted.add('good');
    try {
      expect(await statusOf(client('bad').getSecret('nothing'))).toBe(401);
      expect(await statusOf(client('good').getSecret('nothing'))).toBe(404);
    } finally {
      azure.tokens.accepted.clear();
    }
  });

  it('an identity without a role: 403 Forbidden (ForbiddenByRbac)', async () => {
    azure.tokens.denied.add('no-role');
    try {
      const error = await client('no-role')
        .getSecret('nothing')
        .catch((e: { statusCode?: number; code?: string }) => e);
      expect(error).toMatchObject({ statusCode: 403, code: 'Forbidden' });
    } finally {
      azure.tokens.denied.clear();
    }
  });
});

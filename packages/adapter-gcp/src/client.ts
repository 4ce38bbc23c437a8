import { readFileSync } from 'node:fs';
import { v1 } from '@google-cloud/secret-manager';
import { BackendError } from '@secret-gateway/core';
import { OAuth2Client } from 'google-auth-library';
import { grpc } from 'google-gax';
import type { GcpAdapterOptions } from './config.ts';

export type GcpClient = v1.SecretManagerServiceClient;

/**
 * The official client over gRPC, as production uses it; only the endpoint and credentials may change.
 * Without an access token the SDK finds Application Default Credentials itself.
 */
export function createGcpClient(options: GcpAdapterOptions): GcpClient {
  const [host, port] = options.endpoint ? splitEndpoint(options.endpoint) : [undefined, undefined];
  let authClient: OAuth2Client | undefined;
  if (options.accessToken) {
    // A real OAuth2Client with a fixed token (a bare object fails): the SDK then looks neither for
    // ADC nor for the GCE metadata server.
    authClient = new OAuth2Client();
    authClient.setCredentials({
      access_token: options.accessToken,
      expiry_date: Date.now() + 10 * 365 * 86_400_000,
    });
  }
  let sslCreds = options.insecure ? grpc.credentials.createInsecure() : undefined;
  if (options.caFile) sslCreds = tlsWithCa(options.caFile, () => client);
  const client: GcpClient = new v1.SecretManagerServiceClient({
    projectId: options.projectId,
    ...(host ? { apiEndpoint: host, port } : {}),
    ...(sslCreds ? { sslCreds } : {}),
    ...(authClient ? { authClient } : {}),
  });
  return client;
}

/**
 * TLS trusting one CA, with the client's own credentials on every call. google-gax uses `sslCreds`
 * *instead of* its channel credentials, call credentials included, so they are combined here the
 * way gax combines them for Google's endpoint (grpc.js `_getCredentials`).
 */
function tlsWithCa(caFile: string, client: () => GcpClient): grpc.ChannelCredentials {
  let ca: Buffer;
  try {
    ca = readFileSync(caFile);
  } catch (error) {
    throw new Error(`SGW_GCP_CA_FILE: cannot read ${caFile} (${(error as NodeJS.ErrnoException).code})`);
  }
  const perCall = grpc.credentials.createFromGoogleCredential({
    getRequestHeaders: async (url?: string) => {
      const auth = await client().auth.getClient();
      const headers: Record<string, string> = {};
      (await auth.getRequestHeaders(url)).forEach((value, key) => {
        headers[key] = value;
      });
      return headers;
    },
  });
  return grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(ca), perCall);
}

/**
 * Finds the credentials, then builds the client's gRPC stub, before any RPC method runs. Every
 * generated method starts with `this.initialize().catch(err => { throw err; })`: when Application
 * Default Credentials cannot be found that promise rejects with nobody listening, and Node ends the
 * process. Awaited here instead, the same failure rejects only the call, and a later call tries again.
 * `findCredentials` is false on a plain-text channel, where the SDK sends none.
 */
export async function initializeClient(client: GcpClient, findCredentials: boolean, what: string) {
  if (findCredentials) {
    try {
      await client.auth.getClient();
    } catch (error) {
      throw new BackendError(
        'denied',
        'GCP credentials not found: set GOOGLE_APPLICATION_CREDENTIALS to a readable key file or run on a workload identity',
        { cause: error, detail: { backend: 'gcp', operation: what, backendCode: 'NO_CREDENTIALS' } },
      );
    }
  }
  await client.initialize();
}

/** `host:port`, `host` (443) or `[v6]:port`. */
export function splitEndpoint(endpoint: string): [string, number] {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(endpoint);
  if (!m) throw new Error(`not a host:port endpoint: ${endpoint}`);
  return [m[1] as string, m[2] ? Number(m[2]) : 443];
}

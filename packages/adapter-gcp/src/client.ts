import { v1 } from '@google-cloud/secret-manager';
import { OAuth2Client } from 'google-auth-library';
import { grpc } from 'google-gax';
import type { GcpAdapterOptions } from './config.ts';

export type GcpClient = v1.SecretManagerServiceClient;

/** The official client over gRPC, as production uses it; only endpoint and credentials may change. */
export function createGcpClient(options: GcpAdapterOptions): GcpClient {
  const [host, port] = options.endpoint ? splitEndpoint(options.endpoint) : [undefined, undefined];
  let authClient: OAuth2Client | undefined;
  if (options.accessToken) {
    // A real OAuth2Client with a fixed token: the SDK then neither looks for ADC nor GCE metadata.
    authClient = new OAuth2Client();
    authClient.setCredentials({
      access_token: options.accessToken,
      expiry_date: Date.now() + 10 * 365 * 86_400_000,
    });
  }
  return new v1.SecretManagerServiceClient({
    projectId: options.projectId,
    ...(host ? { apiEndpoint: host, port } : {}),
    ...(options.insecure ? { sslCreds: grpc.credentials.createInsecure() } : {}),
    ...(authClient ? { authClient } : {}),
  });
}

function splitEndpoint(endpoint: string): [string, number] {
  const i = endpoint.lastIndexOf(':');
  return i === -1 ? [endpoint, 443] : [endpoint.slice(0, i), Number(endpoint.slice(i + 1))];
}

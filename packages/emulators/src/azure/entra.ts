import { randomBytes, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson } from '../http.ts';

/** The service principal the emulated Entra ID tenant knows, and how long its tokens last. */
export interface EntraOptions {
  clientId: string;
  clientSecret: string;
  /** expires_in of issued access tokens, in seconds (default 5: short, so tests see a refresh). */
  tokenLifetimeSeconds?: number;
}

/**
 * A tenant of Entra ID as @azure/identity's ClientSecretCredential (through @azure/msal-node) calls
 * it with AZURE_AUTHORITY_HOST pointing here: OpenID discovery
 * (`GET /<tenant>/v2.0/.well-known/openid-configuration`, msal-common Authority.mjs
 * defaultOpenIdConfigurationEndpoint) and the token endpoint (`POST /<tenant>/oauth2/v2.0/token`,
 * grant_type=client_credentials). Instance discovery goes to login.microsoftonline.com whatever the
 * authority, so clients must set disableInstanceDiscovery. Tokens are opaque; Key Vault accepts
 * only those issued here and not yet expired.
 */
export class EntraTenant {
  readonly tenantId: string;
  readonly options: Required<EntraOptions>;
  /** Issued access tokens and when each expires (ms since epoch). */
  readonly issued = new Map<string, number>();

  constructor(tenantId: string, options: EntraOptions) {
    const lifetime = options.tokenLifetimeSeconds ?? 5;
    if (!Number.isInteger(lifetime) || lifetime < 1)
      throw new Error('tokenLifetimeSeconds must be a whole number of seconds, at least 1');
    this.tenantId = tenantId;
    this.options = { ...options, tokenLifetimeSeconds: lifetime };
  }

  /** Whether Key Vault accepts `token`: issued by this tenant and not expired. */
  valid(token: string, now = Date.now()): boolean {
    const expires = this.issued.get(token);
    return expires !== undefined && now < expires;
  }

  /** Answers the request when it is one of the tenant's endpoints; false otherwise. */
  handle(method: string, url: URL, base: string, raw: Buffer, res: ServerResponse): boolean {
    const prefix = `/${this.tenantId}/`;
    if (!url.pathname.startsWith(prefix)) return false;
    const rest = url.pathname.slice(prefix.length);
    const authority = `${base}/${this.tenantId}`;
    if (method === 'GET' && rest === 'v2.0/.well-known/openid-configuration') {
      // The fields msal-common's isOpenIdConfigResponse requires, shaped as login.microsoftonline.com's.
      sendJson(res, 200, {
        token_endpoint: `${authority}/oauth2/v2.0/token`,
        authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
        jwks_uri: `${authority}/discovery/v2.0/keys`,
        issuer: `${authority}/v2.0`,
        token_endpoint_auth_methods_supported: [
          'client_secret_post',
          'private_key_jwt',
          'client_secret_basic',
        ],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        tenant_region_scope: 'WW',
      });
      return true;
    }
    if (method === 'POST' && rest === 'oauth2/v2.0/token') {
      this.#token(new URLSearchParams(raw.toString('utf8')), res);
      return true;
    }
    return false;
  }

  #token(form: URLSearchParams, res: ServerResponse): void {
    const { tokenLifetimeSeconds } = this.options;
    const refusal = this.#refusal(form);
    if (refusal) {
      this.#error(res, ...refusal);
      return;
    }
    const token = `emu-${randomBytes(24).toString('base64url')}`;
    this.issued.set(token, Date.now() + tokenLifetimeSeconds * 1000);
    sendJson(res, 200, {
      token_type: 'Bearer',
      expires_in: tokenLifetimeSeconds,
      ext_expires_in: tokenLifetimeSeconds,
      access_token: token,
    });
  }

  /** Why Entra would refuse this client-credentials request: [status, error, AADSTS code, text]. */
  #refusal(form: URLSearchParams): [number, string, number, string] | undefined {
    const { clientId, clientSecret } = this.options;
    if (form.get('grant_type') !== 'client_credentials')
      return [400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.'];
    if (form.get('client_id') !== clientId) {
      // Entra names the unknown application; the emulator only has the one it was given.
      return [
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${form.get('client_id') ?? ''}' was not found in the directory '${this.tenantId}'.`,
      ];
    }
    if (form.get('client_secret') !== clientSecret) {
      // 401, not 400: what Entra answers to a wrong or expired client secret (e.g.
      // OfficeDev/microsoft-365-agents-toolkit#8621, keycloak/keycloak#31294).
      return [
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      ];
    }
    return undefined;
  }

  #error(res: ServerResponse, status: number, error: string, code: number, text: string): void {
    const trace = randomUUID();
    const timestamp = new Date().toISOString().replace('T', ' ').slice(0, 19);
    sendJson(res, status, {
      error,
      error_description: `AADSTS${code}: ${text} Trace ID: ${trace} Correlation ID: ${randomUUID()} Timestamp: ${timestamp}Z`,
      error_codes: [code],
      timestamp: `${timestamp}Z`,
      trace_id: trace,
      correlation_id: randomUUID(),
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    });
  }
}

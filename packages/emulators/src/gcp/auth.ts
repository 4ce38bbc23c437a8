import { createPublicKey, verify } from 'node:crypto';

/**
 * Who may call: a fixed bearer token, or a service account's self-signed JWT. With a service account
 * key file, google-auth-library does not trade the key for an access token at `token_uri` when the
 * client has only its default scopes: the Secret Manager client sets `useJWTAccessWithScope`, so
 * every call carries a JWT it signs itself (google-auth-library `JWTAccess`: RS256, `iss` = `sub` =
 * the account's email, `scope` = cloud-platform (or an `aud` of `https://<service>/`), valid one
 * hour, re-signed five minutes before `exp`; https://google.aip.dev/auth/4111). The emulator checks
 * the signature against the account's public key, and the expiry.
 */
export class GcpAuth {
  /** Service accounts whose self-signed JWTs are accepted: email -> public key (PEM). */
  readonly serviceAccounts = new Map<string, string>();
  /** Self-signed JWTs accepted so far, per account (tests count refreshes with it). */
  readonly jwtsSeen = new Map<string, Set<string>>();

  constructor(
    readonly token: string,
    readonly now: () => number = () => Date.now(),
  ) {}

  /** Undefined when the `authorization` value is accepted; otherwise what GCP answers. */
  refuse(authorization: string | undefined): string | undefined {
    if (authorization === undefined) {
      return 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.';
    }
    const bearer = /^Bearer (.+)$/.exec(authorization)?.[1];
    if (bearer === this.token) return undefined;
    if (bearer !== undefined && this.#jwtAccepted(bearer)) return undefined;
    return 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.';
  }

  #jwtAccepted(jwt: string): boolean {
    const [head, body, signature] = jwt.split('.');
    if (!head || !body || !signature) return false;
    let header: { alg?: string };
    let claims: { iss?: string; sub?: string; aud?: string; scope?: string; exp?: number };
    try {
      header = JSON.parse(Buffer.from(head, 'base64url').toString());
      claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    } catch {
      return false;
    }
    const pem = claims.iss === undefined ? undefined : this.serviceAccounts.get(claims.iss);
    if (header.alg !== 'RS256' || pem === undefined || claims.sub !== claims.iss) return false;
    const scoped = claims.scope?.split(' ').includes('https://www.googleapis.com/auth/cloud-platform');
    if (!scoped && !/^https:\/\/[^/]+\/$/.test(claims.aud ?? '')) return false;
    const signed = verify(
      'RSA-SHA256',
      Buffer.from(`${head}.${body}`),
      createPublicKey(pem),
      Buffer.from(signature, 'base64url'),
    );
    if (!signed || typeof claims.exp !== 'number' || claims.exp * 1000 <= this.now()) return false;
    const seen = this.jwtsSeen.get(claims.iss as string) ?? new Set<string>();
    seen.add(jwt);
    this.jwtsSeen.set(claims.iss as string, seen);
    return true;
  }
}

import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

export type Trust = (address: string, hop: number) => boolean;

/** The trusted-proxy list compiled once (proxy-addr: addresses, CIDRs, `loopback`...); undefined when empty. */
export function compileTrust(proxies: readonly string[]): Trust | undefined {
  return proxies.length === 0 ? undefined : proxyaddr.compile([...proxies]);
}

/**
 * The client's address: the socket's peer, or, when that peer is a trusted proxy, the nearest
 * address in X-Forwarded-For that is not (proxy-addr's rule, as Express's `trust proxy` uses it).
 * A client cannot pick its own address by sending the header: untrusted peers' headers are ignored.
 */
export function clientAddress(req: IncomingMessage, trust: Trust | undefined): string {
  if (trust === undefined) return req.socket.remoteAddress ?? 'unknown';
  return proxyaddr(req, trust);
}

// The service's own origin, for the absolute URLs it answers with (`links`):
// from SPACE_HOST when the platform sets it, else from a validated request.
//
// A request may name any host and any forwarded scheme; only a `host[:port]` that
// is one (RFC 9112 section 3.2, RFC 3986's reg-name or IP literal) and the schemes
// http and https get into a link. The rule is the contract's; python-backend's
// origin.py implements the same one.
import { isIPv6 } from 'node:net';

// host[:port]: an IP literal ([IPv6]) or a reg-name (unreserved, pct-encoded and
// sub-delims characters; an IPv4 address is one), then an optional port.
const AUTHORITY = /^(?:\[([0-9a-f:.]+)\]|((?:[a-z0-9._~!$&'()*+,;=-]|%[0-9a-f]{2})+))(?::(\d{1,5}))?$/i;
const MAX_HOST_LENGTH = 253; // a DNS name's limit
const SCHEMES = new Set(['http', 'https']);

/** `value` lowercased if it is a valid `host[:port]` (port 1 to 65535), else undefined. */
export function authority(value) {
  const match = AUTHORITY.exec(value);
  if (match === null) return undefined;
  const [, ipv6, name, port] = match;
  if (name !== undefined && name.length > MAX_HOST_LENGTH) return undefined;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return undefined;
  if (ipv6 !== undefined && !isIPv6(ipv6)) return undefined;
  return value.toLowerCase();
}

/**
 * The scheme the one trusted proxy hop set (the last entry of X-Forwarded-Proto)
 * if it is http or https; anything else is ignored.
 */
export function forwardedScheme(value) {
  if (!value) return undefined;
  const scheme = value.slice(value.lastIndexOf(',') + 1).trim().toLowerCase();
  return SCHEMES.has(scheme) ? scheme : undefined;
}

/** `host:port` of a socket address, an IPv6 host in brackets (its zone escaped, RFC 6874). */
export function socketAuthority(address, port) {
  const host = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  return host.includes(':') ? `[${host.replaceAll('%', '%25')}]:${port}` : `${host}:${port}`;
}

/**
 * `scheme://host[:port]` of the service as `req` reached it (its Host, when
 * present, is already validated: middleware.js).
 */
export function publicOrigin(spaceHost, req) {
  if (spaceHost !== null) return `https://${spaceHost}`; // the platform's proxy terminates TLS
  const scheme = forwardedScheme(req.headers['x-forwarded-proto']) ?? 'http';
  const host = req.headers.host;
  if (host) return `${scheme}://${host.toLowerCase()}`;
  // No Host (HTTP/1.0): the address the connection arrived on, never the one bound (0.0.0.0).
  return `${scheme}://${socketAuthority(req.socket.localAddress, req.socket.localPort)}`;
}

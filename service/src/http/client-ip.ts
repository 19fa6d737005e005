/**
 * The client's address: the socket peer by default; the first X-Forwarded-For entry only when
 * the operator says a trusted proxy sets it (TRUST_PROXY), since any client can write that header.
 */
import type { Context } from 'koa';

const MAX_IP_LENGTH = 64;

export function clientIp(ctx: Context, trustProxy: boolean): string {
  if (trustProxy) {
    // Stryker disable next-line OptionalChaining: split() always returns a first element
    const forwarded = ctx.get('x-forwarded-for').split(',')[0]?.trim();
    if (forwarded) return forwarded.slice(0, MAX_IP_LENGTH);
  }
  const peer = ctx.req.socket.remoteAddress ?? 'unknown';
  // Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; show them as the IPv4 address.
  return peer.startsWith('::ffff:') ? peer.slice(7) : peer;
}

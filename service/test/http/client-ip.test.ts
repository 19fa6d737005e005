/**
 * The client address the replica counts and logs: the socket's peer, unless TRUST_PROXY says a
 * proxy in front writes X-Forwarded-For (metrics.test.ts checks both over real HTTP).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Context } from 'koa';
import { clientIp } from '../../src/http/client-ip.ts';

/** The two things clientIp reads from a Koa context: one header and the socket's peer. */
function request(forwardedFor: string | undefined, peer: string | undefined): Context {
  return {
    get: (name: string) => (name.toLowerCase() === 'x-forwarded-for' ? (forwardedFor ?? '') : ''),
    req: { socket: { remoteAddress: peer } },
  } as unknown as Context;
}

const address = fc.oneof(fc.ipV4(), fc.ipV6());

describe('the client address', () => {
  it('is the peer whatever X-Forwarded-For says, without TRUST_PROXY', () => {
    fc.assert(
      fc.property(fc.string(), fc.ipV4(), (header, peer) => {
        assert.equal(clientIp(request(header, peer), false), peer);
      }),
    );
  });

  it('is the first forwarded address, trimmed, with TRUST_PROXY', () => {
    fc.assert(
      fc.property(address, fc.array(address), fc.constantFrom('', ' ', '  '), (first, rest, pad) => {
        const header = [`${pad}${first}${pad}`, ...rest].join(',');
        assert.equal(clientIp(request(header, '10.0.0.1'), true), first);
      }),
    );
  });

  it('is cut to 64 characters, so a forged header cannot make a label of any length', () => {
    assert.equal(clientIp(request('x'.repeat(500), '10.0.0.1'), true), 'x'.repeat(64));
  });

  it('falls back to the peer when a trusted proxy sent no or an empty X-Forwarded-For', () => {
    for (const header of [undefined, '', ' ', ', 10.9.9.9'])
      assert.equal(clientIp(request(header, '192.0.2.5'), true), '192.0.2.5', JSON.stringify(header));
  });

  it('shows an IPv4 peer of a dual-stack socket as IPv4, and an unknown peer as "unknown"', () => {
    assert.equal(clientIp(request(undefined, '::ffff:192.0.2.7'), false), '192.0.2.7');
    assert.equal(clientIp(request(undefined, '2001:db8::1'), false), '2001:db8::1');
    assert.equal(clientIp(request(undefined, undefined), false), 'unknown');
  });
});

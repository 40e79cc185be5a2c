import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TransportConfig } from '../config/types.js';
import { DestinationError, hostAddresses, resolveDestination, type DnsResolver } from './destination.js';

function dnsError(code: string): Error {
  return Object.assign(new Error(code), { code });
}

function resolver(mx: Record<string, { exchange: string; priority: number }[] | string>, a: Record<string, string[] | string> = {}): DnsResolver {
  const answer = <T>(v: T | string | undefined): Promise<T> => (v === undefined ? Promise.reject(dnsError('ENODATA')) : typeof v === 'string' ? Promise.reject(dnsError(v)) : Promise.resolve(v));
  return {
    resolveMx: async (n) => answer(mx[n]),
    resolve4: async (n) => answer(a[n]),
    resolve6: async () => answer<string[]>(undefined),
  };
}

const base = { transports: {} as Record<string, TransportConfig>, hostname: 'mail.ours.example' };

describe('resolveDestination', () => {
  it('orders MX hosts by preference and shuffles ties', async () => {
    const r = resolver({ 'example.com': [{ exchange: 'c.example.com', priority: 30 }, { exchange: 'A.example.com.', priority: 10 }, { exchange: 'b1.example.com', priority: 20 }, { exchange: 'b2.example.com', priority: 20 }] });
    const d = await resolveDestination('Example.COM', { ...base, resolver: r, random: (() => { let i = 0; return () => [0.9, 0.1, 0.5, 0.2][i++ % 4]!; })() });
    assert.deepEqual(d.hosts.map((h) => h.name), ['a.example.com', 'b2.example.com', 'b1.example.com', 'c.example.com']);
    assert.equal(d.tls, 'opportunistic');
    assert.equal(d.port, 25);
    assert.equal(d.transport, null);
  });

  it('uses the domain itself when there is no MX (RFC 5321 5.1 implicit MX)', async () => {
    const d = await resolveDestination('nomx.example', { ...base, resolver: resolver({}) });
    assert.deepEqual(d.hosts, [{ name: 'nomx.example', lookup: 'dns' }]);
  });

  it('fails permanently for a nonexistent domain, a null MX and an MX loop; temporarily for SERVFAIL', async () => {
    const r = resolver({ 'gone.example': 'ENOTFOUND', 'null.example': [{ exchange: '', priority: 0 }], 'loop.example': [{ exchange: 'mail.ours.example', priority: 10 }, { exchange: 'backup.example', priority: 20 }], 'broken.example': 'ESERVFAIL' });
    const check = async (domain: string, permanent: boolean, status: string) => {
      await assert.rejects(resolveDestination(domain, { ...base, resolver: r }), (e: unknown) => e instanceof DestinationError && e.permanent === permanent && e.status === status);
    };
    await check('gone.example', true, '5.1.2');
    await check('null.example', true, '5.1.10');
    await check('loop.example', true, '5.4.6');
    await check('broken.example', false, '4.4.3');
  });

  it('keeps only MX hosts more preferred than ourselves', async () => {
    const r = resolver({ 'd.example': [{ exchange: 'primary.example', priority: 5 }, { exchange: 'mail.ours.example', priority: 10 }, { exchange: 'tertiary.example', priority: 20 }] });
    const d = await resolveDestination('d.example', { ...base, resolver: r });
    assert.deepEqual(d.hosts.map((h) => h.name), ['primary.example']);
  });

  it('prefers a per-domain transport, then "*"', async () => {
    const transports: Record<string, TransportConfig> = {
      'relay.example': { host: 'smarthost.example', port: 587, tls: 'starttls', tlsInsecure: false, username: 'u', password: 'p' },
      '*': { host: '127.0.0.1', port: 2525, tls: 'none', tlsInsecure: true },
    };
    const r = resolver({});
    const a = await resolveDestination('RELAY.example', { ...base, transports, resolver: r });
    assert.equal(a.transport, 'relay.example');
    assert.deepEqual(a.auth, { username: 'u', password: 'p' });
    assert.deepEqual(a.hosts, [{ name: 'smarthost.example', lookup: 'system' }]);
    const b = await resolveDestination('other.example', { ...base, transports, resolver: r });
    assert.equal(b.transport, '*');
    assert.equal(b.port, 2525);
  });

  it('delivers to an address literal directly', async () => {
    const d = await resolveDestination('[192.0.2.1]', { ...base, resolver: resolver({}) });
    assert.deepEqual(d.hosts, [{ name: '192.0.2.1', lookup: 'system' }]);
    await assert.rejects(resolveDestination('[nonsense]', { ...base, resolver: resolver({}) }), DestinationError);
  });
});

describe('hostAddresses', () => {
  it('returns IPv4 then IPv6, an IP as itself, and fails temporarily only on DNS errors', async () => {
    const r: DnsResolver = { resolveMx: async () => [], resolve4: async () => ['192.0.2.1'], resolve6: async () => ['2001:db8::1'] };
    assert.deepEqual(await hostAddresses('mx.example', r), ['192.0.2.1', '2001:db8::1']);
    assert.deepEqual(await hostAddresses('198.51.100.7', r), ['198.51.100.7']);
    assert.deepEqual(await hostAddresses('none.example', resolver({})), []);
    const failing: DnsResolver = { resolveMx: async () => [], resolve4: () => Promise.reject(dnsError('ETIMEOUT')), resolve6: () => Promise.reject(dnsError('ETIMEOUT')) };
    await assert.rejects(hostAddresses('x.example', failing), (e: unknown) => e instanceof DestinationError && !e.permanent);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPublicResolver, publicResolverProvider } from '../../src/probes/public-resolvers.js';

test('recognises the well-known public resolvers, IPv4 and IPv6', () => {
  const known = [
    '8.8.8.8',
    '8.8.4.4',
    '2001:4860:4860::8888',
    '2001:4860:4860::8844',
    '1.1.1.1',
    '1.0.0.1',
    '2606:4700:4700::1111',
    '2606:4700:4700::1001',
    '9.9.9.9',
    '149.112.112.112',
    '2620:fe::fe',
    '2620:fe::9',
    '208.67.222.222',
    '208.67.220.220',
    '94.140.14.14',
    '94.140.15.15',
  ];
  for (const address of known) assert.equal(isPublicResolver(address), true, address);
});

test('compares IPv6 in canonical form: expanded, upper case, zone id, IPv4-mapped', () => {
  assert.equal(isPublicResolver('2001:4860:4860:0:0:0:0:8888'), true);
  assert.equal(isPublicResolver('2001:4860:4860:0000:0000:0000:0000:8844'), true);
  assert.equal(isPublicResolver('2606:4700:4700::1111'.toUpperCase()), true);
  assert.equal(isPublicResolver('2620:FE:0:0:0:0:0:FE'), true);
  assert.equal(isPublicResolver('2001:4860:4860::8888%eth0'), true);
  assert.equal(isPublicResolver('::ffff:8.8.8.8'), true);
  assert.equal(isPublicResolver('::ffff:808:808'), true);
  assert.equal(isPublicResolver(' 1.1.1.1 '), true);
});

test('names the provider', () => {
  assert.equal(publicResolverProvider('8.8.4.4'), 'Google Public DNS');
  assert.equal(publicResolverProvider('2606:4700:4700:0::1001'), 'Cloudflare');
  assert.equal(publicResolverProvider('149.112.112.112'), 'Quad9');
  assert.equal(publicResolverProvider('208.67.220.220'), 'OpenDNS');
  assert.equal(publicResolverProvider('94.140.15.15'), 'AdGuard DNS');
  assert.equal(publicResolverProvider('198.18.0.53'), null);
});

test('private, lab, loopback and near-miss addresses are not public resolvers', () => {
  const notPublic = [
    '198.18.0.53',
    '198.18.1.53',
    '10.0.0.1',
    '172.16.0.10',
    '192.168.1.1',
    '127.0.0.53',
    '127.0.0.1',
    '168.63.129.16', // Azure's platform resolver: virtual, inside every VNet, never blocked
    '8.8.8.9',
    '1.1.1.4',
    '9.9.9.8',
    '2001:4860:4860::8889',
    '2606:4700:4700::1110',
    '2620:fe::fd',
    '::1',
    'fe80::1',
    'fd00::53',
    '::ffff:10.0.0.1',
  ];
  for (const address of notPublic) assert.equal(isPublicResolver(address), false, address);
});

test('text that is not an IP address is not a public resolver, and does not throw', () => {
  for (const text of [
    '',
    'dns.google',
    'one.one.one.one',
    '8.8.8',
    '8.8.8.8.8',
    '008.008.008.008',
    '8.8.8.8:53',
    '[2001:4860:4860::8888]',
    '2001:4860:4860::8888::1',
    '%eth0',
  ]) {
    assert.equal(isPublicResolver(text), false, JSON.stringify(text));
  }
});

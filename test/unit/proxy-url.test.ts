import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  maskProxyUrl,
  noProxyMatch,
  parseNoProxy,
  parseProxyUrl,
  proxyAuthorization,
  proxyIdentity,
  type ProxyUrlInfo,
} from '../../src/probes/proxy-url.js';

type Expect = Partial<ProxyUrlInfo>;

const PARSE: Array<[string, Expect]> = [
  [
    'http://proxy.corp:3128',
    { valid: true, host: 'proxy.corp', port: 3128, portDefaulted: false, url: 'http://proxy.corp:3128' },
  ],
  ['  http://proxy.corp:3128/  ', { valid: true, host: 'proxy.corp', port: 3128, url: 'http://proxy.corp:3128/' }],
  ['http://proxy.corp', { valid: true, port: 80, portDefaulted: true }],
  ['http://proxy.corp:', { valid: true, port: 80, portDefaulted: true }],
  ['HTTP://Proxy.Corp:8080', { valid: true, scheme: 'http', host: 'proxy.corp', port: 8080 }],
  ['http://198.18.0.1:3128', { valid: true, host: '198.18.0.1' }],
  ['http://[fd00::1]:3128', { valid: true, host: 'fd00::1', port: 3128 }],
  [
    'http://user:pass@proxy:3128',
    { valid: true, username: 'user', hasPassword: true, url: 'http://user:***@proxy:3128' },
  ],
  ['http://user@proxy:3128', { valid: true, username: 'user', hasPassword: false, url: 'http://user@proxy:3128' }],
  ['http://u:p@ss@proxy:3128', { valid: true, host: 'proxy', url: 'http://u:***@proxy:3128' }],
  // well formed but wrong: results, not throws
  ['https://proxy.corp:3129', { valid: false, problem: 'scheme', scheme: 'https', host: 'proxy.corp', port: 3129 }],
  ['https://proxy.corp', { valid: false, problem: 'scheme', port: 443, portDefaulted: true }],
  ['socks5://u:p@proxy:1080', { valid: false, problem: 'scheme', url: 'socks5://u:***@proxy:1080' }],
  ['proxy.corp:3128', { valid: false, problem: 'no-scheme', host: 'proxy.corp', port: 3128 }],
  ['', { valid: false, problem: 'empty' }],
  ['http://', { valid: false, problem: 'no-host' }],
  ['http://:3128', { valid: false, problem: 'no-host' }],
  ['http://proxy:0', { valid: false, problem: 'port' }],
  ['http://proxy:65536', { valid: false, problem: 'port' }],
  ['http://proxy:31x8', { valid: false, problem: 'port', url: 'http://proxy:***' }],
  ['http://pro_xy!:3128', { valid: false, problem: 'host' }],
  ['http://[not-v6]:3128', { valid: false, problem: 'host' }],
  ['"http://proxy:3128"', { valid: false, problem: 'syntax' }],
  ['http://proxy :3128', { valid: false, problem: 'syntax' }],
  ['http://u:pa/ss@proxy:3128', { valid: false, problem: 'syntax', url: 'http://u:***@proxy:3128' }],
];

for (const [input, expected] of PARSE) {
  test(`parseProxyUrl(${JSON.stringify(input)})`, () => {
    const info = parseProxyUrl(input);
    for (const [key, value] of Object.entries(expected)) {
      assert.deepEqual(info[key as keyof ProxyUrlInfo], value, `${key} of ${JSON.stringify(input)}`);
    }
    assert.equal(info.valid, info.problem === null, 'valid exactly when there is no problem');
    if (!info.valid) assert.ok(info.detail && info.detail.length > 0, 'an invalid URL says why');
  });
}

test('no password, in any spelling, appears in anything parseProxyUrl returns', () => {
  const secrets: Array<[string, string]> = [
    ['http://user:Sup3r-S3cret@proxy:3128', 'Sup3r-S3cret'],
    ['https://user:Sup3r-S3cret@proxy:3128', 'Sup3r-S3cret'],
    ['http://user:Sup3r/S3cret@proxy:3128', 'Sup3r/S3cret'],
    ['http://user:Sup3r S3cret@proxy:3128', 'Sup3r S3cret'],
    ['http://user:Sup3r"S3cret@proxy:3128', 'Sup3r"S3cret'],
    ['http://user:Sup3r@S3cret@proxy:3128', 'Sup3r@S3cret'],
    ['http://user:Sup3r%40S3cret@proxy:3128', 'Sup3r%40S3cret'],
    ['http://user:Sup3rS3cret@proxy:bad', 'Sup3rS3cret'],
    ['user:Sup3rS3cret@proxy:3128', 'Sup3rS3cret'],
    ['http://user:Sup3rS3cret', 'Sup3rS3cret'],
  ];
  for (const [url, secret] of secrets) {
    const out = JSON.stringify(parseProxyUrl(url));
    for (const part of [secret, ...secret.split(/[^A-Za-z0-9]/).filter((p) => p.length >= 4)])
      assert.ok(!out.includes(part), `${JSON.stringify(part)} leaked from ${url}: ${out}`);
    assert.ok(!maskProxyUrl(url).includes(secret), `maskProxyUrl leaked ${secret}`);
  }
});

test('maskProxyUrl keeps everything but the password', () => {
  assert.equal(maskProxyUrl('http://alice:pw@proxy:3128/'), 'http://alice:***@proxy:3128/');
  assert.equal(maskProxyUrl('http://alice@proxy:3128'), 'http://alice@proxy:3128');
  assert.equal(maskProxyUrl('http://proxy:3128'), 'http://proxy:3128');
  assert.equal(maskProxyUrl('alice:pw@proxy:3128'), 'alice:***@proxy:3128');
});

test('proxyAuthorization: Basic of the percent-decoded user and password, null without credentials', () => {
  const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  assert.equal(proxyAuthorization('http://alice:pw@proxy:3128'), basic('alice:pw'));
  assert.equal(proxyAuthorization('http://al%40ice:p%3Aw%2F@proxy:3128'), basic('al@ice:p:w/'));
  assert.equal(proxyAuthorization('http://alice@proxy:3128'), basic('alice:'));
  assert.equal(proxyAuthorization('http://alice:100%@proxy:3128'), basic('alice:100%'), 'a stray % is literal');
  assert.equal(proxyAuthorization('http://proxy:3128'), null);
});

test('proxyIdentity: the same proxy written two ways is one identity; the password does not count', () => {
  const id = (s: string) => proxyIdentity(parseProxyUrl(s));
  assert.equal(id('http://proxy:80'), id('HTTP://PROXY'));
  assert.equal(id('http://u:a@proxy:3128'), id('http://u:b@proxy:3128/'));
  assert.notEqual(id('http://proxy:3128'), id('http://proxy:8080'));
  assert.notEqual(id('http://proxy:3128'), id('https://proxy:3128'));
  assert.notEqual(id('http://u@proxy:3128'), id('http://v@proxy:3128'));
  assert.equal(id('http://'), null);
});

// [no_proxy, host, port, bypass, matching entry]
const NO_PROXY: Array<[string | null, string, number, boolean, string | null]> = [
  [null, 'hub.azure-devices.net', 443, false, null],
  ['', 'hub.azure-devices.net', 443, false, null],
  ['*', 'hub.azure-devices.net', 443, true, '*'],
  ['a.example, *', 'anything', 443, true, '*'],
  // a bare domain: the name and every subdomain, on label boundaries only
  ['azure-devices.net', 'azure-devices.net', 443, true, 'azure-devices.net'],
  ['azure-devices.net', 'hub.azure-devices.net', 443, true, 'azure-devices.net'],
  ['azure-devices.net', 'evilazure-devices.net', 443, false, null],
  // a leading dot or *.: subdomains only (Go), not the name itself (curl differs)
  ['.azure-devices.net', 'hub.azure-devices.net', 443, true, '.azure-devices.net'],
  ['.azure-devices.net', 'azure-devices.net', 443, false, null],
  ['*.azure-devices.net', 'hub.azure-devices.net', 443, true, '*.azure-devices.net'],
  ['*.azure-devices.net', 'azure-devices.net', 443, false, null],
  // case and spaces
  [' Corp.Example , other ', 'HUB.CORP.EXAMPLE', 443, true, 'corp.example'],
  // ports
  ['hub.example:443', 'hub.example', 443, true, 'hub.example:443'],
  ['hub.example:8883', 'hub.example', 443, false, null],
  // IP literals and CIDR
  ['198.18.0.10', '198.18.0.10', 443, true, '198.18.0.10'],
  ['198.18.0.10', '198.18.0.11', 443, false, null],
  ['198.18.0.10:443', '198.18.0.10', 443, true, '198.18.0.10:443'],
  ['198.18.0.0/15', '198.19.255.1', 443, true, '198.18.0.0/15'],
  ['198.18.0.0/16', '198.19.0.1', 443, false, null],
  ['fd00::/8', 'fd12::1', 443, true, 'fd00::/8'],
  ['[fd00::1]:443', '[fd00::1]', 443, true, '[fd00::1]:443'],
  ['fd00::1', 'fd00:0::1', 443, true, 'fd00::1'],
  // a domain entry never matches an address, and a network never matches a name
  ['0.10', '198.18.0.10', 443, false, null],
  ['198.18.0.0/15', 'hub.example', 443, false, null],
  // malformed entries are skipped, not fatal
  ['300.1.1.1/8, hub.example', 'hub.example', 443, true, 'hub.example'],
  // Go never proxies localhost and loopback
  [null, 'localhost', 443, true, null],
  [null, '127.0.0.1', 443, true, null],
  [null, '::1', 443, true, null],
];

for (const [noProxy, host, port, bypass, entry] of NO_PROXY) {
  test(`noProxyMatch(${JSON.stringify(noProxy)}, ${host}:${port}) → ${bypass ? 'direct' : 'proxy'}`, () => {
    const d = noProxyMatch(noProxy, host, port);
    assert.equal(d.bypass, bypass);
    assert.equal(d.entry, entry);
    assert.equal(d.reason, bypass ? (entry === null ? 'loopback' : 'entry') : 'no-match');
  });
}

test('parseNoProxy: kinds of entries, `*` short-circuits', () => {
  assert.deepEqual(
    parseNoProxy('a.com,.b.com,*.c.com,1.2.3.4:80,10.0.0.0/8').map((e) => e.kind),
    ['domain', 'domain', 'domain', 'ip', 'cidr'],
  );
  assert.deepEqual(parseNoProxy('a.com,*,b.com'), [{ kind: 'all', entry: '*' }]);
  assert.deepEqual(parseNoProxy(' , ,'), []);
});

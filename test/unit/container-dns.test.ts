/**
 * Container DNS derivation, case by case from moby's rules (see the header of
 * src/probes/container-dns.ts for the files and functions each case comes from).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { containerDns, mobyNameservers, readContainerDns } from '../../src/probes/container-dns.js';
import type { ContainerDns, ContainerDnsInputs } from '../../src/probes/container-dns.js';
import { errorWithCode } from '../../src/util/errors.js';

const STUB = '# managed by systemd-resolved\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lab\n';
const RESOLVED = 'nameserver 198.18.0.53\nnameserver 198.18.1.53\n';
const PLAIN = 'nameserver 198.18.0.53\nnameserver 198.18.1.53\n';
const noDaemon = null;

function derive(inputs: Partial<ContainerDnsInputs>): ContainerDns {
  return containerDns({ daemon: noDaemon, resolvConf: null, resolvedConf: null, ...inputs });
}

type Expect = Pick<ContainerDns, 'source' | 'servers' | 'fallbackPublic'> & Partial<ContainerDns>;

function check(inputs: Partial<ContainerDnsInputs>, expected: Expect): ContainerDns {
  const got = derive(inputs);
  const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, got[k as keyof ContainerDns]]));
  assert.deepEqual(picked, expected, got.note);
  assert.ok(got.note.length > 10, 'every derivation says how it was made');
  return got;
}

describe('mobyNameservers reads nameserver lines as moby processLine does', () => {
  test('comments only in the first column, invalid addresses skipped, order kept, no dedupe', () => {
    const text =
      '# x\n; y\nnameserver 198.18.0.53 # trailing\n  nameserver 198.18.0.54\nnameserver nonsense\nnameserver\nnameserver fe80::1%eth0\nnameserver 198.18.0.53\nsearch lab\n';
    assert.deepEqual(mobyNameservers(text), ['198.18.0.53', '198.18.0.54', 'fe80::1%eth0', '198.18.0.53']);
    assert.deepEqual(mobyNameservers(null), []);
  });
});

describe('daemon.json "dns" wins (buildSandboxOptions: OptionDNS(cfg.DNS))', () => {
  const daemon = { state: 'ok' as const, dns: ['198.18.9.53', '198.18.9.54'] };

  test('on the user-defined network and the default bridge, whatever resolv.conf says', () => {
    for (const network of ['user-defined', 'default-bridge'] as const) {
      check(
        { daemon, resolvConf: STUB, resolvedConf: RESOLVED, network },
        { source: 'daemon.json', servers: ['198.18.9.53', '198.18.9.54'], fallbackPublic: false, hostLoopback: [] },
      );
    }
  });

  test('used as written: a loopback address is kept (it means the container itself) and noted', () => {
    const got = check(
      { daemon: { state: 'ok', dns: ['127.0.0.1'] }, network: 'default-bridge' },
      { source: 'daemon.json', servers: ['127.0.0.1'], fallbackPublic: false },
    );
    assert.match(got.note, /container itself/);
  });

  test('more than three: only the first three are used', () => {
    check(
      { daemon: { state: 'ok', dns: ['198.18.9.1', '198.18.9.2', '198.18.9.3', '198.18.9.4'] } },
      {
        source: 'daemon.json',
        servers: ['198.18.9.1', '198.18.9.2', '198.18.9.3'],
        fallbackPublic: false,
        ignored: ['198.18.9.4'],
      },
    );
  });

  test('an empty "dns" list, an absent or unreadable file: the host-derived servers', () => {
    for (const d of [
      { state: 'ok' as const, dns: [] },
      { state: 'absent' as const, dns: null },
      { state: 'unreadable' as const, dns: null },
    ]) {
      check(
        { daemon: d, resolvConf: PLAIN },
        { source: 'resolv.conf', servers: ['198.18.0.53', '198.18.1.53'], fallbackPublic: false },
      );
    }
  });

  test('an invalid daemon.json: dockerd does not start, no container uses anything', () => {
    const got = check(
      { daemon: { state: 'invalid', dns: null }, resolvConf: PLAIN },
      { source: 'daemon.json', servers: [], fallbackPublic: false },
    );
    assert.match(got.note, /refuses to start/);
  });
});

describe('user-defined network (azure-iot-edge): the embedded resolver forwards to /etc/resolv.conf', () => {
  test('plain servers: used in order', () => {
    check(
      { resolvConf: PLAIN },
      {
        source: 'resolv.conf',
        servers: ['198.18.0.53', '198.18.1.53'],
        fallbackPublic: false,
        hostLoopback: [],
        rules: 'v20.10-v25',
      },
    );
  });

  test('the systemd-resolved stub: forwarded to it from the host namespace, i.e. its upstreams', () => {
    for (const engineVersion of [null, '20.10.24', '24.0.9', '27.3.1']) {
      check(
        { resolvConf: STUB, resolvedConf: RESOLVED, engineVersion },
        {
          source: 'systemd-resolved',
          servers: ['198.18.0.53', '198.18.1.53'],
          fallbackPublic: false,
          hostLoopback: ['127.0.0.53'],
        },
      );
    }
  });

  test('the stub and resolved has no upstream: none (not the public fallback)', () => {
    const got = check(
      { resolvConf: STUB, resolvedConf: '# no servers\n' },
      { source: 'systemd-resolved', servers: [], fallbackPublic: false },
    );
    assert.match(got.note, /no upstream/);
  });

  test('another host loopback resolver (a local dnsmasq): kept, reached from the VM namespace', () => {
    check(
      { resolvConf: 'nameserver 127.0.0.1\n' },
      { source: 'resolv.conf', servers: ['127.0.0.1'], fallbackPublic: false, hostLoopback: ['127.0.0.1'] },
    );
  });

  test('the stub next to another server: both, as listed (no stub following, like the VM check)', () => {
    check(
      { resolvConf: 'nameserver 127.0.0.53\nnameserver 198.18.0.53\n', resolvedConf: RESOLVED },
      {
        source: 'resolv.conf',
        servers: ['127.0.0.53', '198.18.0.53'],
        fallbackPublic: false,
        hostLoopback: ['127.0.0.53'],
      },
    );
  });

  test('no nameserver at all, v20.10–v25: FilterResolvDNS filled in 8.8.8.8/8.8.4.4, which become the upstreams', () => {
    for (const resolvConf of [null, '', '# empty\nsearch lab\n', 'nameserver ::1\n']) {
      for (const engineVersion of [null, '20.10.24', '25.0.3']) {
        check(
          { resolvConf, engineVersion },
          { source: 'docker-default', servers: ['8.8.8.8', '8.8.4.4'], fallbackPublic: true },
        );
      }
    }
  });

  test('no nameserver at all, v26+: no fallback, the embedded resolver has no upstream', () => {
    const got = check(
      { resolvConf: '', engineVersion: '26.1.4' },
      { source: 'resolv.conf', servers: [], fallbackPublic: false, rules: 'v26+' },
    );
    assert.match(got.note, /no upstream/);
    // v26+ keeps ::1 as a host loopback upstream; v20.10–v25 dropped it.
    check(
      { resolvConf: 'nameserver ::1\n', engineVersion: '27.0.0' },
      { source: 'resolv.conf', servers: ['::1'], fallbackPublic: false, hostLoopback: ['::1'] },
    );
  });

  test('IPv6 servers: after the IPv4 ones (v20.10–v25 lists them in the container file), in order on v26+', () => {
    const text = 'nameserver 2001:db8::53\nnameserver 198.18.0.53\n';
    check(
      { resolvConf: text },
      { source: 'resolv.conf', servers: ['198.18.0.53', '2001:db8::53'], fallbackPublic: false },
    );
    check(
      { resolvConf: text, engineVersion: '28.0.1' },
      { source: 'resolv.conf', servers: ['2001:db8::53', '198.18.0.53'], fallbackPublic: false },
    );
    check(
      { resolvConf: 'nameserver 2001:db8::53\n' },
      { source: 'resolv.conf', servers: ['2001:db8::53'], fallbackPublic: false },
    );
  });

  test('more than three: the embedded resolver keeps three upstreams (maxExtDNS)', () => {
    const text = ['1', '2', '3', '4'].map((n) => `nameserver 198.18.0.${n}`).join('\n');
    for (const engineVersion of [null, '26.0.0']) {
      check(
        { resolvConf: text, engineVersion },
        {
          source: 'resolv.conf',
          servers: ['198.18.0.1', '198.18.0.2', '198.18.0.3'],
          fallbackPublic: false,
          ignored: ['198.18.0.4'],
        },
      );
    }
  });

  test('before v20.10: the systemd-aware file, and the fallback when it is empty', () => {
    check(
      { resolvConf: STUB, resolvedConf: RESOLVED, engineVersion: '19.03.15' },
      {
        source: 'systemd-resolved',
        servers: ['198.18.0.53', '198.18.1.53'],
        fallbackPublic: false,
        hostLoopback: [],
        rules: 'before-v20.10',
      },
    );
    check(
      { resolvConf: STUB, resolvedConf: '', engineVersion: '19.03.15' },
      { source: 'docker-default', servers: ['8.8.8.8', '8.8.4.4'], fallbackPublic: true },
    );
  });
});

describe('default bridge (docker0): a filtered copy, the public fallback when nothing is left', () => {
  test('the stub (only nameserver): /run/systemd/resolve/resolv.conf instead (resolvconf.Path)', () => {
    check(
      { network: 'default-bridge', resolvConf: STUB, resolvedConf: RESOLVED },
      { source: 'systemd-resolved', servers: ['198.18.0.53', '198.18.1.53'], fallbackPublic: false },
    );
  });

  test('the stub and resolved has no upstream: 8.8.8.8/8.8.4.4', () => {
    check(
      { network: 'default-bridge', resolvConf: STUB, resolvedConf: '' },
      { source: 'docker-default', servers: ['8.8.8.8', '8.8.4.4'], fallbackPublic: true },
    );
  });

  test('loopback servers are removed; only loopback left: the fallback', () => {
    check(
      { network: 'default-bridge', resolvConf: 'nameserver 127.0.0.1\nnameserver 198.18.0.53\n' },
      { source: 'resolv.conf', servers: ['198.18.0.53'], fallbackPublic: false, ignored: ['127.0.0.1'] },
    );
    check(
      { network: 'default-bridge', resolvConf: 'nameserver 127.0.0.1\nnameserver ::1\n' },
      {
        source: 'docker-default',
        servers: ['8.8.8.8', '8.8.4.4'],
        fallbackPublic: true,
        ignored: ['127.0.0.1', '::1'],
      },
    );
  });

  test('the stub with a second server is not detected: the stub is removed as loopback', () => {
    check(
      {
        network: 'default-bridge',
        resolvConf: 'nameserver 127.0.0.53\nnameserver 198.18.0.53\n',
        resolvedConf: RESOLVED,
      },
      { source: 'resolv.conf', servers: ['198.18.0.53'], fallbackPublic: false },
    );
  });

  test('IPv6 servers only with IPv6 enabled; the fallback then includes Google IPv6 (3 used)', () => {
    check(
      { network: 'default-bridge', resolvConf: 'nameserver 2001:db8::53\n' },
      { source: 'docker-default', servers: ['8.8.8.8', '8.8.4.4'], fallbackPublic: true, ignored: ['2001:db8::53'] },
    );
    check(
      { network: 'default-bridge', resolvConf: 'nameserver 2001:db8::53\n', ipv6: true },
      { source: 'resolv.conf', servers: ['2001:db8::53'], fallbackPublic: false },
    );
    check(
      { network: 'default-bridge', resolvConf: '', ipv6: true },
      { source: 'docker-default', servers: ['8.8.8.8', '8.8.4.4', '2001:4860:4860::8888'], fallbackPublic: true },
    );
  });
});

describe('readContainerDns', () => {
  test('reads the three files through the seams, never throws', async () => {
    const files: Record<string, string> = {
      '/etc/resolv.conf': STUB,
      '/run/systemd/resolve/resolv.conf': RESOLVED,
    };
    const got = await readContainerDns({
      read: (p) => (p in files ? Promise.resolve(files[p] ?? '') : Promise.reject(errorWithCode(p, 'ENOENT'))),
      readBytes: () => Promise.reject(errorWithCode('no daemon.json', 'ENOENT')),
    });
    assert.equal(got.daemon.state, 'absent');
    assert.equal(got.containers.source, 'systemd-resolved');
    assert.deepEqual(got.containers.servers, ['198.18.0.53', '198.18.1.53']);

    const withDaemon = await readContainerDns({
      read: () => Promise.reject(errorWithCode('x', 'EACCES')),
      readBytes: () => Promise.resolve(new TextEncoder().encode('{"dns": ["198.18.9.53"]}')),
    });
    assert.equal(withDaemon.containers.source, 'daemon.json');
    assert.deepEqual(withDaemon.containers.servers, ['198.18.9.53']);
  });
});

/**
 * Checks the field lab itself (field-lab.ts), as harness.test.ts checks the base lab: independent
 * probes from inside the namespaces (ns-probe.ts and its field kinds, ping, arping, ip, getent) and
 * never the code under test, prove each part does what it claims, and nothing is left behind.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import tls from 'node:tls';
import { HUB_NAME, INSPECTION_CA_NAME, LAB_ADDR, LAB_CA_NAME, LabSetupError } from './harness.js';
import { listLabNetns, NETNS_DIR } from './lab-names.js';
import { exec, ipPath } from './lab-process.js';
import { GENUINE_INTERMEDIATE_NAME, GENUINE_ROOT_NAME, LARGE_CHAIN_MIN_BYTES, WRONG_CERT_NAME } from './field-certs.js';
import { CONTAINER_ADDR, EMBEDDED_DNS } from './field-container.js';
import { BLOCK_PAGE_TITLE } from './field-hub-types.js';
import { createFieldLab, FIELD_HOSTS } from './field-lab.js';
import type { FieldLab, FieldLabOptions } from './field-lab.js';
import { ETH1_ADDR } from './field-plumbing.js';
import type {
  ExchangePayload,
  ExchangeResult,
  FieldProbe,
  ProxyConnectResult,
  TlsOptions,
} from './field-probe-kinds.js';

import { PROXY_ADDRESS, PROXY_PORT } from './field-proxy.js';
import { requireFieldLab } from './require-lab.js';

const skip = requireFieldLab();

const AUTH = { user: 'alice', password: 's3cret' };
const MQTT: ExchangePayload = {
  type: 'mqtt-connect',
  clientId: 'netdiag-probe-selftest',
  username: `${HUB_NAME}/netdiag-probe-selftest/?api-version=2021-04-12`,
  password: 'not-a-sas-token',
};
const AMQP: ExchangePayload = { type: 'amqp-header' };
const httpGet = (host: string): ExchangePayload => ({ type: 'http-get', host });
const wsUpgrade = (host: string, protocol: string): ExchangePayload => ({ type: 'ws-upgrade', host, protocol });
const CONNACK_5 = '20020005';
const AMQP_SASL = '414d515003010000';

function tlsFor(lab: FieldLab, name: string, caFile: string | null = lab.paths.caFile): TlsOptions {
  return { servername: name, caFile };
}

function exchange(
  lab: FieldLab,
  role: keyof typeof FIELD_HOSTS,
  port: number,
  send: ExchangePayload,
  opts: { tls?: TlsOptions | null; timeoutMs?: number } = {},
): FieldProbe {
  const host = FIELD_HOSTS[role];
  return {
    kind: 'exchange',
    host: host.address,
    port,
    tls: opts.tls === undefined ? tlsFor(lab, host.name) : opts.tls,
    send,
    timeoutMs: opts.timeoutMs ?? 3000,
  };
}

function asExchange(r: unknown): ExchangeResult {
  assert.ok(r !== null && typeof r === 'object' && 'kind' in r && r.kind === 'exchange', JSON.stringify(r));
  return r as ExchangeResult;
}

function asProxy(r: unknown): ProxyConnectResult {
  assert.ok(r !== null && typeof r === 'object' && 'kind' in r && r.kind === 'proxy-connect', JSON.stringify(r));
  return r as ProxyConnectResult;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function withFieldLab(options: FieldLabOptions, body: (lab: FieldLab) => Promise<void>): Promise<void> {
  const lab = await createFieldLab(options);
  try {
    await body(lab);
  } catch (err) {
    if (err instanceof Error) err.stack = `${err.stack ?? ''}\nserver logs:\n${lab.serverLogs()}`;
    throw err;
  } finally {
    await lab.destroy();
  }
}

async function forwarding(lab: FieldLab, ns: Parameters<FieldLab['exec']>[0]): Promise<string> {
  return (await lab.exec(ns, 'cat', ['/proc/sys/net/ipv4/ip_forward'])).stdout.trim();
}

describe('field lab harness', { skip, concurrency: 4, timeout: 120_000 }, () => {
  test('proxy: tinyproxy asks for credentials, denies a port, tunnels to the hub; the direct path is dropped', async () => {
    await withFieldLab({ proxy: { auth: AUTH, connectPorts: [443] } }, async (lab) => {
      const proxy = {
        kind: 'proxy-connect' as const,
        proxyHost: PROXY_ADDRESS,
        proxyPort: PROXY_PORT,
        timeoutMs: 3000,
      };
      const results = await lab.probe('vm', [
        { kind: 'tcp', host: LAB_ADDR.hub, port: 443, timeoutMs: 800 },
        exchange(lab, 'dps', 443, httpGet(FIELD_HOSTS.dps.name), { timeoutMs: 800 }),
        { ...proxy, target: `${HUB_NAME}:443` },
        {
          ...proxy,
          target: `${HUB_NAME}:443`,
          auth: AUTH,
          then: { tls: tlsFor(lab, HUB_NAME), send: httpGet(HUB_NAME) },
        },
        { ...proxy, target: `${HUB_NAME}:8883`, auth: AUTH },
        {
          ...proxy,
          target: `${FIELD_HOSTS.dps.name}:443`,
          auth: AUTH,
          then: { tls: tlsFor(lab, FIELD_HOSTS.dps.name), send: httpGet(FIELD_HOSTS.dps.name) },
        },
      ]);
      const [direct, directDps, noAuth, tunnel, denied, dps] = results;
      assert.deepEqual(direct, { kind: 'tcp', outcome: 'timeout' });
      assert.equal(asExchange(directDps).outcome, 'timeout');
      assert.equal(asExchange(directDps).stage, 'tcp');
      const na = asProxy(noAuth);
      assert.equal(na.httpStatus, 407, JSON.stringify(na));
      assert.match(na.headers['proxy-authenticate'] ?? '', /^Basic/i);
      for (const [r, host] of [
        [tunnel, HUB_NAME],
        [dps, FIELD_HOSTS.dps.name],
      ] as const) {
        const p = asProxy(r);
        assert.equal(p.httpStatus, 200, JSON.stringify(p));
        // The name was resolved by tinyproxy through the lab DNS: it reached the lab endpoint.
        assert.equal(p.tunnel?.tls?.authorized, true, JSON.stringify(p.tunnel));
        assert.equal(p.tunnel?.tls?.subject, host);
        assert.equal(p.tunnel?.http?.status, 404);
      }
      assert.equal(asProxy(denied).httpStatus, 403, JSON.stringify(denied));
      assert.equal(lab.proxy?.url({ credentials: true }), `http://alice:s3cret@${PROXY_ADDRESS}:${PROXY_PORT}`);
      assert.equal(lab.proxy?.url(), `http://${PROXY_ADDRESS}:${PROXY_PORT}`);
      // The tunnelled connections came from the proxy's side, not from the vm.
      assert.ok(
        lab.hubLog().some((l) => l.startsWith('CONN hub:443 from ') && !l.includes(LAB_ADDR.vm)),
        lab.hubLog().join('\n'),
      );
    });
  });

  test('exchanges: CONNACK 5 on 8883 (script and mosquitto), AMQP header, HTTP Date offset, WebSocket 101', async () => {
    const options: FieldLabOptions = {
      serverClockOffsetSeconds: 600,
      hosts: {
        dps: { ports: { 443: { dateOffsetSeconds: -45 } } },
        parent: { ports: { 8883: { broker: 'mosquitto' } } },
      },
    };
    await withFieldLab(options, async (lab) => {
      const before = Date.now();
      const results = await lab.fieldProbe('vm', [
        exchange(lab, 'hub', 8883, MQTT),
        exchange(lab, 'hub', 5671, AMQP),
        exchange(lab, 'hub', 443, httpGet(HUB_NAME)),
        exchange(lab, 'hub', 443, wsUpgrade(HUB_NAME, 'mqtt')),
        exchange(lab, 'hub', 443, wsUpgrade(HUB_NAME, 'AMQPWSB10')),
        exchange(lab, 'dps', 443, httpGet(FIELD_HOSTS.dps.name)),
        exchange(lab, 'registry', 443, httpGet(FIELD_HOSTS.registry.name)),
        exchange(lab, 'parent', 8883, MQTT),
        exchange(lab, 'parent', 5671, AMQP),
      ]);
      const after = Date.now();
      const [mqtt, amqp, http, wsMqtt, wsAmqp, dps, registry, parentMqtt, parentAmqp] = results.map(asExchange);
      for (const r of results.map(asExchange)) assert.equal(r.tls?.authorized, true, JSON.stringify(r));
      assert.equal(mqtt?.answerHex, CONNACK_5);
      assert.equal(amqp?.answerHex, AMQP_SASL);
      assert.equal(parentAmqp?.answerHex, AMQP_SASL);
      // mosquitto, refusing every client, answers the device-shaped CONNECT with CONNACK 5 too.
      assert.equal(parentMqtt?.answerHex, CONNACK_5);
      assert.match(lab.mosquitto?.output() ?? '', /not authori[sz]ed/);
      // The Date was made between `before` and `after` by a clock `seconds` ahead, at 1 s resolution.
      const assertDateOffset = (r: ExchangeResult | undefined, seconds: number): void => {
        const date = Date.parse(r?.http?.headers['date'] ?? '');
        assert.ok(Number.isFinite(date), `no Date header: ${JSON.stringify(r)}`);
        const lo = before + seconds * 1000 - 1000;
        const hi = after + seconds * 1000 + 1000;
        assert.ok(date >= lo && date <= hi, `Date ${r?.http?.headers['date']} is not ${seconds} s ahead`);
      };
      assert.equal(http?.http?.status, 404);
      assertDateOffset(http, 600);
      assertDateOffset(dps, -45);
      assertDateOffset(registry, 600);
      for (const [r, protocol] of [
        [wsMqtt, 'mqtt'],
        [wsAmqp, 'AMQPWSB10'],
      ] as const) {
        assert.equal(r?.http?.status, 101, JSON.stringify(r));
        assert.equal(r?.http?.headers['sec-websocket-protocol'], protocol);
        assert.equal(r?.http?.headers['upgrade']?.toLowerCase(), 'websocket');
      }
      assert.ok(
        lab.hubLog().some((l) => /^EXCHANGE hub:8883 mqtt-connect .*clientId=netdiag-probe-selftest /.test(l)),
        lab.hubLog().join('\n'),
      );

      // The hub made unreachable: the parent (nested edge) still answers.
      await lab.makeUnreachable('hub');
      const [hubAfter, parentAfter] = (
        await lab.fieldProbe('vm', [
          exchange(lab, 'hub', 8883, MQTT, { timeoutMs: 800 }),
          exchange(lab, 'parent', 443, httpGet(FIELD_HOSTS.parent.name)),
        ])
      ).map(asExchange);
      assert.equal(hubAfter?.outcome, 'timeout');
      assert.equal(hubAfter?.stage, 'tcp');
      assert.equal(parentAfter?.http?.status, 404);
    });
  });

  test('middleboxes and certificate modes', async () => {
    const options: FieldLabOptions = {
      hosts: {
        hub: {
          ports: {
            8883: 'http-block-page',
            5671: 'tls-then-cut',
            443: 'tls-silent',
            9443: 'inspection',
            10443: 'tls-then-close',
          },
        },
        dps: { ports: { 443: 'reset' } },
        registry: { ports: { 443: 'wrong-name' } },
        parent: { ports: { 8883: 'root-missing', 5671: 'not-yet-valid', 443: 'expired' } },
      },
    };
    await withFieldLab(options, async (lab) => {
      const parent = FIELD_HOSTS.parent.name;
      const publicRoots = join(lab.paths.dir, 'public-roots.pem');
      writeFileSync(publicRoots, tls.rootCertificates.join('\n'));
      assert.ok(
        tls.rootCertificates.some((pem) => new X509Certificate(pem).subject.includes(`CN=${GENUINE_ROOT_NAME}`)),
        'the public roots hold a certificate of the same name',
      );
      const results = await lab.fieldProbe('vm', [
        exchange(lab, 'hub', 8883, MQTT),
        exchange(lab, 'hub', 5671, AMQP),
        exchange(lab, 'hub', 443, httpGet(HUB_NAME), { timeoutMs: 1000 }),
        exchange(lab, 'hub', 9443, { type: 'none' }),
        exchange(lab, 'hub', 10443, { type: 'raw', hex: '00' }),
        exchange(lab, 'dps', 443, httpGet(FIELD_HOSTS.dps.name)),
        exchange(lab, 'registry', 443, { type: 'none' }),
        exchange(lab, 'parent', 8883, { type: 'none' }),
        exchange(lab, 'parent', 8883, { type: 'none' }, { tls: tlsFor(lab, parent, lab.certs.genuineRootFile()) }),
        exchange(lab, 'parent', 5671, { type: 'none' }),
        exchange(lab, 'parent', 443, { type: 'none' }),
        // A public root store (Node's bundle, like the machine's) holds the real DigiCert Global
        // Root G2, same name, other key: the lab chain must stay unverified against it.
        exchange(lab, 'parent', 8883, { type: 'none' }, { tls: tlsFor(lab, parent, publicRoots) }),
      ]);
      const [block, cut, silent, inspection, closed, reset, wrongName, rootMissing, genuine, notYet, expired, system] =
        results.map(asExchange);
      assert.equal(block?.tls?.authorized, true);
      assert.equal(block?.http?.status, 403, JSON.stringify(block));
      assert.ok(block?.answerText.includes(BLOCK_PAGE_TITLE));
      assert.equal(cut?.tls?.authorized, true);
      assert.equal(cut?.outcome, 'reset', JSON.stringify(cut));
      assert.equal(silent?.outcome, 'timeout');
      assert.equal(silent?.stage, 'tls', 'TCP connected, the handshake never answered');
      assert.equal(inspection?.outcome, 'secured');
      assert.equal(inspection?.tls?.authorized, false);
      assert.equal(inspection?.tls?.issuer, INSPECTION_CA_NAME);
      assert.equal(closed?.tls?.authorized, true);
      assert.equal(closed?.outcome, 'closed', JSON.stringify(closed));
      // A reset right after accept may beat the connect callback: it ends at connect or at TLS.
      assert.equal(reset?.outcome, 'reset', JSON.stringify(reset));
      assert.equal(reset?.tls, null);
      assert.equal(wrongName?.tls?.authorized, false);
      assert.equal(wrongName?.tls?.authorizationError, 'ERR_TLS_CERT_ALTNAME_INVALID');
      assert.equal(wrongName?.tls?.issuer, LAB_CA_NAME, 'a valid lab-CA chain, only the name is wrong');
      assert.match(wrongName?.tls?.subjectAltName ?? '', new RegExp(`DNS:${WRONG_CERT_NAME.replace(/\./g, '\\.')}`));
      assert.equal(rootMissing?.tls?.authorized, false);
      assert.equal(rootMissing?.tls?.authorizationError, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
      assert.deepEqual(rootMissing?.tls?.chain, [parent, GENUINE_INTERMEDIATE_NAME]);
      assert.equal(system?.tls?.authorizationError, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', JSON.stringify(system));
      // The chain is whole: a store holding that root trusts it.
      assert.equal(genuine?.tls?.authorized, true, JSON.stringify(genuine));
      const root = new X509Certificate(readFileSync(lab.certs.genuineRootFile(), 'utf8'));
      assert.match(root.subject, new RegExp(`CN=${GENUINE_ROOT_NAME}`));
      assert.equal(notYet?.tls?.authorizationError, 'CERT_NOT_YET_VALID');
      assert.ok(Date.parse(notYet?.tls?.validFrom ?? '') > Date.now() + 12 * 3_600_000, String(notYet?.tls?.validFrom));
      assert.equal(expired?.tls?.authorizationError, 'CERT_HAS_EXPIRED');
      assert.ok(Date.parse(expired?.tls?.validTo ?? '') < Date.now(), String(expired?.tls?.validTo));
    });
  });

  test('path MTU: a black hole stalls the large chain after connect; eth0 MTU 1400', async () => {
    const options: FieldLabOptions = {
      hosts: { hub: { ports: { 443: 'large-chain' } }, dps: false, registry: false, parent: false },
      pathMtuBlackhole: { maxPacketBytes: 1280 },
    };
    await withFieldLab(options, async (lab) => {
      // 1252 + 28 = 1280 bytes passes; 1253 vanishes, and no "fragmentation needed" comes back.
      const small = await lab.dfPing('vm', LAB_ADDR.gateway, 1252);
      const large = await lab.dfPing('vm', LAB_ADDR.gateway, 1253);
      assert.ok(small.answered, small.output);
      assert.ok(!large.answered, large.output);
      assert.doesNotMatch(large.output, /Frag needed|mtu=/i);
      const [stalled, smallChain] = (
        await lab.fieldProbe('vm', [
          exchange(lab, 'hub', 443, httpGet(HUB_NAME), { timeoutMs: 1500 }),
          exchange(lab, 'hub', 8883, MQTT),
        ])
      ).map(asExchange);
      assert.equal(stalled?.outcome, 'timeout', JSON.stringify(stalled));
      assert.equal(stalled?.stage, 'tls', 'TCP connects, the TLS handshake stalls');
      // The small chain's handshake fits under the hole: only size decides.
      assert.equal(smallChain?.answerHex, CONNACK_5, JSON.stringify(smallChain));

      await lab.setEth0Mtu(1400);
      const link = JSON.parse(await lab.ip('vm', ['-j', 'link', 'show', 'dev', 'eth0'])) as Array<{ mtu: number }>;
      assert.equal(link[0]?.mtu, 1400);
      const tooBig = await lab.dfPing('vm', LAB_ADDR.gateway, 1373);
      assert.ok(!tooBig.answered);
      assert.match(tooBig.output, /message too long|mtu\s*=\s*1400/i);
    });
    // Without the hole, the large chain completes: it is the hole, not the chain, that stalls.
    await withFieldLab(
      { hosts: { hub: { ports: { 443: 'large-chain' } }, dps: false, registry: false, parent: false } },
      async (lab) => {
        const [r] = (await lab.fieldProbe('vm', [exchange(lab, 'hub', 443, httpGet(HUB_NAME))])).map(asExchange);
        assert.equal(r?.tls?.authorized, true, JSON.stringify(r));
        assert.equal(r?.tls?.chain.length, 5, 'leaf, three intermediates, the lab root');
        assert.equal(r?.tls?.chain.at(-1), LAB_CA_NAME);
        assert.equal(r?.http?.status, 404);
        // What the server sends: the leaf and the three intermediates, over several full packets.
        const served = readFileSync(lab.certs.files('large-chain', HUB_NAME).certFile, 'utf8');
        const pems = served.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
        assert.equal(pems.length, 4);
        const der = pems.reduce((n, pem) => n + new X509Certificate(pem).raw.length, 0);
        assert.ok(der > LARGE_CHAIN_MIN_BYTES, `the large chain is only ${der} bytes`);
      },
    );
  });

  test('plumbing: bridges route needed destinations, daemon.json, two default routes, no duplicate', async () => {
    const options: FieldLabOptions = {
      hosts: { dps: false, registry: false, parent: false },
      eth0Mtu: 1400,
      bridges: [
        { name: 'docker0', cidr: '198.18.1.49/28', mtu: 1500 },
        { cidr: '198.18.1.9/30', carrier: false },
      ],
      dockerConfig: { dns: ['198.18.1.54'] },
      secondDefaultRoute: true,
    };
    await withFieldLab(options, async (lab) => {
      const routeDev = async (dst: string): Promise<string> => {
        const r = JSON.parse(await lab.ip('vm', ['-j', 'route', 'get', dst])) as Array<{
          dev: string;
          gateway?: string;
        }>;
        return `${r[0]?.dev ?? '?'}${r[0]?.gateway === undefined ? '' : ` via ${r[0].gateway}`}`;
      };
      const links = JSON.parse(await lab.ip('vm', ['-j', 'link', 'show'])) as Array<{ ifname: string; mtu: number }>;
      const mtu = (name: string) => links.find((l) => l.ifname === name)?.mtu;
      const br = links.find((l) => /^br-[0-9a-f]{12}$/.test(l.ifname))?.ifname;
      assert.ok(br !== undefined, links.map((l) => l.ifname).join(' '));
      assert.equal(mtu('eth0'), 1400);
      assert.equal(mtu('docker0'), 1500);
      assert.equal(await routeDev(LAB_ADDR.dns), 'docker0');
      assert.equal(await routeDev(LAB_ADDR.hub), br);
      // Anything else leaves by the default route of lower metric: eth1, whose gateway is silent.
      assert.equal(await routeDev(FIELD_HOSTS.dps.address), `eth1 via ${ETH1_ADDR.gateway}`);
      const defaults = JSON.parse(await lab.ip('vm', ['-j', 'route', 'show', 'default'])) as Array<{
        dev: string;
        metric?: number;
      }>;
      assert.deepEqual(defaults.map((r) => `${r.dev} ${r.metric ?? 0}`).sort(), ['eth0 100', 'eth1 50']);
      const viaEth0 = await lab.exec('vm', 'ping', ['-c', '1', '-W', '1', '-I', 'eth0', LAB_ADDR.gateway]);
      const viaEth1 = await lab.exec('vm', 'ping', ['-c', '1', '-W', '1', '-I', 'eth1', ETH1_ADDR.gateway]);
      assert.equal(viaEth0.code, 0, viaEth0.stdout);
      assert.notEqual(viaEth1.code, 0, viaEth1.stdout);
      assert.deepEqual(JSON.parse(readFileSync(lab.dockerConfigPath, 'utf8')), { dns: ['198.18.1.54'] });
      const dad = await lab.arpingDuplicate();
      assert.equal(dad.duplicate, false, dad.output);
    });
  });

  test('duplicate address: arping -D is answered; the gateway and the fault rules still work', async () => {
    await withFieldLab(
      { hosts: { dps: false, registry: false, parent: false }, duplicateAddress: true },
      async (lab) => {
        const dad = await lab.arpingDuplicate();
        assert.equal(dad.duplicate, true, dad.output);
        const dupAddrs = await lab.ip('dup', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']);
        assert.match(dupAddrs, new RegExp(`inet ${LAB_ADDR.vm.replace(/\./g, '\\.')}/24`));
        const ping = await lab.exec('vm', 'ping', ['-c', '2', '-W', '1', LAB_ADDR.gateway]);
        assert.equal(ping.code, 0, ping.stdout);
        await lab.drop({ protocol: 'tcp', address: LAB_ADDR.hub, port: 5671 });
        const [mqtt, amqp] = (
          await lab.fieldProbe('vm', [
            exchange(lab, 'hub', 8883, MQTT),
            exchange(lab, 'hub', 5671, AMQP, { timeoutMs: 800 }),
          ])
        ).map(asExchange);
        assert.equal(mqtt?.answerHex, CONNACK_5, JSON.stringify(mqtt));
        assert.equal(amqp?.outcome, 'timeout');
        assert.equal(amqp?.stage, 'tcp');
        // A gateway outside eth0's prefix (CONTRACT 7.5 IP_GATEWAY_INVALID): the route can still exist.
        await lab.setDefaultRoute('198.18.5.1', { onlink: true });
        assert.match(await lab.ip('vm', ['route', 'show', 'default']), /^default via 198\.18\.5\.1 dev eth0 onlink/);
      },
    );
  });

  test('container vantage: ctr resolves through 127.0.0.11 and reaches the hub via NAT; each break hits ctr only', async () => {
    await withFieldLab({ hosts: { dps: false, registry: false, parent: false }, container: true }, async (lab) => {
      assert.equal(await forwarding(lab, 'vm'), '1');
      assert.equal(await forwarding(lab, 'net'), '0');
      assert.equal(await forwarding(lab, 'ctr'), '0');
      assert.equal(
        (await lab.exec('ctr', 'cat', ['/etc/resolv.conf'])).stdout,
        `nameserver ${EMBEDDED_DNS}\noptions ndots:0\n`,
      );
      const dnsVia = (server: string, ns: 'vm' | 'ctr') =>
        lab.probe(ns, [{ kind: 'dns', server, name: HUB_NAME, type: 'A', timeoutMs: 800 }]);
      const [embedded] = await dnsVia(EMBEDDED_DNS, 'ctr');
      assert.deepEqual(embedded, { kind: 'dns', outcome: 'answered', rcode: 'NOERROR', answers: [LAB_ADDR.hub] });
      const [lookup, mqtt] = await lab.fieldProbe('ctr', [
        { kind: 'lookup', name: HUB_NAME, timeoutMs: 2000 },
        exchange(lab, 'hub', 8883, MQTT),
      ]);
      assert.deepEqual(lookup, { kind: 'lookup', outcome: 'resolved', addresses: [LAB_ADDR.hub] });
      assert.equal(asExchange(mqtt).answerHex, CONNACK_5);
      // Masqueraded: the hub saw the vm's address, never the container's.
      const conns = lab.hubLog().filter((l) => l.startsWith('CONN hub:8883'));
      assert.ok(conns.length > 0 && conns.every((l) => l.includes(`from ${LAB_ADDR.vm}:`)), conns.join('\n'));
      assert.ok(!lab.hubLog().some((l) => l.includes(CONTAINER_ADDR.ctr)));

      await lab.breakContainerPath('resolver');
      assert.notEqual((await dnsVia(EMBEDDED_DNS, 'ctr'))[0]?.outcome, 'answered');
      assert.equal((await dnsVia(LAB_ADDR.dns, 'vm'))[0]?.outcome, 'answered');
      await lab.breakContainerPath('forwarding');
      const tcp = { kind: 'tcp' as const, host: LAB_ADDR.hub, port: 8883, timeoutMs: 800 };
      assert.deepEqual((await lab.probe('ctr', [tcp]))[0], { kind: 'tcp', outcome: 'timeout' });
      assert.deepEqual((await lab.probe('vm', [tcp]))[0], { kind: 'tcp', outcome: 'connected' });
    });
  });

  test('container vantage: an MTU black hole on the container path only', async () => {
    const options: FieldLabOptions = {
      hosts: { hub: { ports: { 443: 'large-chain' } }, dps: false, registry: false, parent: false },
      container: { resolverUpstream: null },
    };
    await withFieldLab(options, async (lab) => {
      await lab.breakContainerPath({ mtuBlackhole: 1280 });
      const probe = exchange(lab, 'hub', 443, httpGet(HUB_NAME), { timeoutMs: 1500 });
      const [inCtr] = (await lab.fieldProbe('ctr', [probe])).map(asExchange);
      const [inVm] = (await lab.fieldProbe('vm', [probe])).map(asExchange);
      assert.equal(inCtr?.outcome, 'timeout', JSON.stringify(inCtr));
      assert.equal(inCtr?.stage, 'tls');
      assert.equal(inVm?.http?.status, 404, JSON.stringify(inVm));
      assert.equal(lab.container?.resolver, null);
    });
  });

  test('runCheckIn runs the CLI inside the container namespace', async () => {
    await withFieldLab({ hosts: { dps: false, registry: false, parent: false }, container: true }, async (lab) => {
      const run = await lab.runCheckInContainer([...lab.hubArgs(), '--timeout', '1500', '--deadline', '5000'], {
        env: { NETDIAG_VANTAGE: 'container' },
      });
      assert.ok(run.report !== null, `${run.command}\n${run.stderr}`);
      const eth0 = run.report.components.ip.interfaces.find((i) => i.name === 'eth0');
      assert.deepEqual(
        eth0?.ipv4.map((a) => a.address),
        [CONTAINER_ADDR.ctr],
        run.stdout,
      );
      assert.ok(
        run.report.components.dns.servers.some((s) => s.address === EMBEDDED_DNS),
        run.stdout,
      );
    });
  });

  test('destroy leaves nothing: every namespace, server, file and CA folder', async () => {
    const lab = await createFieldLab({
      proxy: { auth: AUTH },
      hosts: { parent: { ports: { 8883: { broker: 'mosquitto' } } }, hub: { ports: { 443: 'root-missing' } } },
      container: true,
      duplicateAddress: true,
      secondDefaultRoute: true,
      dockerConfig: '{"dns": [',
    });
    const namespaces = [lab.vmNs, lab.netNs, lab.nsName('ctr'), lab.nsName('dup'), lab.nsName('alt')];
    const live = listLabNetns();
    for (const ns of namespaces) assert.ok(live.includes(ns), `${ns} should exist`);
    const pids = lab.servers.map((s) => s.pid);
    // dnsmasq (lab DNS), dnsmasq (127.0.0.11), field hub, mosquitto, tinyproxy.
    assert.equal(pids.length, 5, lab.servers.map((s) => s.name).join(', '));
    const genuineRootDir = join(lab.certs.genuineRootFile(), '..');
    const paths = [lab.paths.dir, genuineRootDir, lab.ca.dir, ...namespaces.map((ns) => join(NETNS_DIR, ns))];
    for (const p of paths) assert.ok(existsSync(p), `${p} should exist while the lab runs`);
    await lab.destroy();
    const left = listLabNetns();
    for (const ns of namespaces) assert.ok(!left.includes(ns), `${ns} left behind`);
    for (const p of paths) assert.ok(!existsSync(p), `${p} left behind`);
    for (const pid of pids) assert.ok(!pidAlive(pid), `server pid ${pid} still running`);
    await lab.destroy(); // idempotent
  });

  test('a failed field setup removes what it had made, extra namespaces included', async () => {
    // nft refuses a negative length: the last setup step fails, after the extra namespaces and
    // every server were made.
    const err: unknown = await createFieldLab({
      container: true,
      duplicateAddress: true,
      proxy: {},
      pathMtuBlackhole: { maxPacketBytes: -1 },
    }).then(
      () => assert.fail('createFieldLab should have failed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof LabSetupError, String(err));
    assert.match(String(err.cause), /nft in net namespace failed/);
    const left = listLabNetns();
    const id = err.vmNs.slice(0, -1);
    assert.deepEqual(
      left.filter((ns) => ns.startsWith(id)),
      [],
    );
    assert.ok(!existsSync(err.dir));
    for (const letter of ['c', 'd']) {
      assert.ok(!existsSync(join(NETNS_DIR, `${id}${letter}`)));
      const gone = await exec(ipPath(), ['netns', 'pids', `${id}${letter}`]);
      assert.notEqual(gone.code, 0, `${id}${letter} still exists`);
    }
  });
});

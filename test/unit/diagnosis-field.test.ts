/**
 * The firewall, clock and DNS rules the field adds (CONTRACT 7.2-7.4), table-tested on literal
 * observations: severities by role and path, the TLS causes, the application exchanges, the
 * handshake that stalls vs the one reset, certificate dates between the clock and the firewall,
 * the clock's thresholds and its time service.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clockExplains } from '../../src/diagnosis/certificate-dates.js';
import { diagnose } from '../../src/diagnosis/diagnose.js';
import { endpointSeverity } from '../../src/diagnosis/endpoints.js';
import { judgeFirewall } from '../../src/diagnosis/firewall.js';
import type { Observations } from '../../src/diagnosis/observations.js';
import { finding } from '../../src/findings/finding.js';
import type { Finding } from '../../src/report/types.js';
import {
  DPS,
  PARENT,
  REGISTRY,
  application,
  behindProxy,
  clock,
  roleEndpoint,
  timedOut,
} from '../support/field-observations.js';
import { HUB, endpoint, healthy } from '../support/observations.js';

const line = (f: Finding) => `${f.code} ${f.severity} ${f.subject}`;
const NOW = Date.parse('2026-11-26T06:00:00Z');
const HOUR = 3_600_000;
const iso = (t: number) => new Date(t).toISOString();

const blocked = { outcome: 'blocked', tcpConnectMs: null, tls: undefined, error: timedOut() } as const;

function tlsWith(over: Record<string, unknown>) {
  return {
    handshakeMs: 5,
    protocol: 'TLSv1.3',
    authorized: false,
    authorizationError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    subject: HUB,
    issuer: 'Contoso Inspection CA',
    rootIssuer: 'Contoso Inspection CA',
    validFrom: iso(NOW - 30 * 24 * HOUR),
    validTo: iso(NOW + 300 * 24 * HOUR),
    altNames: [HUB],
    ...over,
  };
}

function untrusted443(over: Record<string, unknown>, o = healthy()): Observations {
  o.firewall!.endpoints[2] = endpoint(443, {
    outcome: 'tls-untrusted',
    tls: tlsWith(over),
    error: { phase: 'tls', code: String(over['authorizationError'] ?? 'X'), message: 'not trusted' },
  });
  return o;
}

interface Case {
  name: string;
  obs: () => Observations;
  status: string;
  failing: string | null;
  /** Every finding of these components, `CODE severity subject`, in any order. */
  findings: string[];
  of?: Array<'firewall' | 'clock' | 'dns'>;
  components?: Partial<Record<string, string>>;
  message?: RegExp;
  /** What the words must not say. */
  notMessage?: RegExp;
}

const CASES: Case[] = [
  // --- roles and paths ---
  {
    name: 'the registry unreachable: a warning',
    obs: () => {
      const o = healthy();
      o.firewall!.endpoints.push(roleEndpoint('registry', 443, blocked));
      return o;
    },
    status: 'degraded',
    failing: null,
    findings: [`FW_PORT_BLOCKED warning ${REGISTRY}:443`],
  },
  {
    name: 'DPS unreachable: an error (identityd provisions at every start), and no WebSocket advice for DPS',
    obs: () => {
      const o = healthy();
      o.firewall!.endpoints.push(roleEndpoint('dps', 443, blocked));
      return o;
    },
    status: 'unhealthy',
    failing: 'firewall',
    findings: [`FW_PORT_BLOCKED error ${DPS}:443`],
    message: /Test-NetConnection lab-dps\.azure-devices-provisioning\.net -Port 443/,
  },
  {
    name: 'DPS unreachable on a device provisioned by hand (config.toml source = manual): info',
    obs: () => {
      const o = healthy();
      o.config.provisioningSource = 'manual';
      o.firewall!.endpoints.push(roleEndpoint('dps', 443, blocked));
      return o;
    },
    status: 'healthy',
    failing: null,
    findings: [`FW_PORT_BLOCKED info ${DPS}:443`],
    message: /provisioned by hand/,
  },
  {
    name: 'a nested child: the hub, DPS and registry dropped are info; the parent is judged as the hub',
    obs: () => {
      const o = healthy();
      o.config.parent = PARENT;
      o.config.upstreamProtocol = 'Mqtt';
      o.firewall!.endpoints = [
        roleEndpoint('parent', 8883, blocked),
        roleEndpoint('parent', 5671),
        roleEndpoint('parent', 443),
        endpoint(8883, blocked),
        endpoint(443, blocked),
        roleEndpoint('dps', 443, blocked),
        roleEndpoint('registry', 443, blocked),
      ];
      return o;
    },
    status: 'unhealthy',
    failing: 'firewall',
    findings: [
      `FW_PORT_BLOCKED error ${PARENT}:8883`,
      `FW_PROTOCOL_FALLBACK warning ${PARENT}:8883`,
      `FW_PORT_BLOCKED info ${HUB}:8883`,
      `FW_PORT_BLOCKED info ${HUB}:443`,
      `FW_PORT_BLOCKED info ${DPS}:443`,
      `FW_PORT_BLOCKED info ${REGISTRY}:443`,
    ],
  },
  {
    name: 'behind a proxy, a 443 that no_proxy sends direct and that fails is an error (it is the real path)',
    obs: () => {
      const o = behindProxy({ bypassed: [`${REGISTRY}:443`] });
      o.firewall!.endpoints.push(roleEndpoint('registry', 443, blocked));
      return o;
    },
    status: 'degraded',
    failing: null,
    findings: [
      `FW_PORT_BLOCKED info ${HUB}:8883`,
      `FW_PORT_BLOCKED info ${HUB}:5671`,
      `FW_PORT_BLOCKED warning ${REGISTRY}:443`,
    ],
  },
  {
    name: 'behind a proxy the direct ports are only for the record, and never told to be opened',
    obs: () => behindProxy(),
    status: 'healthy',
    failing: null,
    findings: [`FW_PORT_BLOCKED info ${HUB}:8883`, `FW_PORT_BLOCKED info ${HUB}:5671`],
    message: /IoT Edge reaches Azure through the proxy/,
    notMessage: /Ask the network team|allow outbound TCP/,
  },
  // --- exchanges ---
  {
    name: 'TLS fine, the MQTT exchange cut with Mqtt in use: FW_PROTOCOL_BLOCKED error, and the WebSocket way out',
    obs: () => {
      const o = healthy();
      o.config.upstreamProtocol = 'Mqtt';
      o.firewall!.endpoints[0] = endpoint(8883, {
        outcome: 'protocol-blocked',
        application: application(8883, { outcome: 'cut', detail: 'the peer reset the connection (ECONNRESET)' }),
      });
      return o;
    },
    status: 'unhealthy',
    failing: 'firewall',
    findings: [`FW_PROTOCOL_BLOCKED error ${HUB}:8883`, `FW_PROTOCOL_FALLBACK warning ${HUB}:8883`],
    message: /mqtt exchange after it does not: the peer reset/,
  },
  {
    name: 'an AMQP header answered by HTTP with Mqtt in use: a warning (5671 is not the port in use)',
    obs: () => {
      const o = healthy();
      o.config.upstreamProtocol = 'Mqtt';
      o.firewall!.endpoints[1] = endpoint(5671, {
        outcome: 'protocol-blocked',
        application: application(5671, { outcome: 'unexpected', detail: 'answered with an HTTP answer' }),
      });
      return o;
    },
    status: 'degraded',
    failing: null,
    findings: [`FW_PROTOCOL_BLOCKED warning ${HUB}:5671`],
  },
  // --- TLS failures and causes ---
  {
    name: 'a handshake that stalls after connect (ETIMEDOUT): the path MTU',
    obs: () => {
      const o = healthy();
      o.firewall!.endpoints[2] = endpoint(443, {
        outcome: 'tls-failed',
        error: { phase: 'tls', code: 'ETIMEDOUT', message: 'tls got no answer within 3000 ms' },
      });
      return o;
    },
    status: 'unhealthy',
    failing: 'firewall',
    findings: [`FW_TLS_FAILED error ${HUB}:443`],
    message: /path-MTU black hole/,
  },
  {
    name: 'a handshake reset by the peer: inspection, not the MTU',
    obs: () => {
      const o = healthy();
      o.firewall!.endpoints[2] = endpoint(443, {
        outcome: 'tls-failed',
        error: { phase: 'tls', code: 'ECONNRESET', message: 'socket hang up' },
      });
      return o;
    },
    status: 'unhealthy',
    failing: 'firewall',
    findings: [`FW_TLS_FAILED error ${HUB}:443`],
    message: /resets or closes it during the handshake[\s\S]*without inspection/,
  },
  {
    name: 'an unknown issuer: interception (FW_TLS_UNTRUSTED naming it, with the X.509 note)',
    obs: () => untrusted443({}),
    status: 'unhealthy',
    failing: 'firewall',
    findings: [`FW_TLS_UNTRUSTED error ${HUB}:443`],
    message: /"Contoso Inspection CA"[\s\S]*X\.509/,
  },
  {
    name: 'a certificate for another name: FW_TLS_NAME_MISMATCH naming the address and the names',
    obs: () =>
      untrusted443({
        authorized: false,
        authorizationError: 'ERR_TLS_CERT_ALTNAME_INVALID',
        altNames: ['portal.contoso-guest.net'],
      }),
    status: 'unhealthy',
    failing: 'firewall',
    findings: [`FW_TLS_NAME_MISMATCH error ${HUB}:443`],
    message: /at 198\.18\.1\.10 is not for lab-hub\.azure-devices\.net: it names portal\.contoso-guest\.net/,
  },
  {
    name: 'a DigiCert-rooted chain the VM store lacks: FW_TLS_ROOT_MISSING by the name',
    obs: () =>
      untrusted443({
        issuer: 'Microsoft Azure RSA TLS Issuing CA 03',
        rootIssuer: 'DigiCert Global Root G2',
        publicRootsVerify: false,
      }),
    status: 'unhealthy',
    failing: 'firewall',
    findings: [`FW_TLS_ROOT_MISSING error ${HUB}:443`],
    message: /"DigiCert Global Root G2"[\s\S]*If no public root verifies this chain either/,
  },
  {
    name: "a chain Node's public roots verify: FW_TLS_ROOT_MISSING with that strong evidence",
    obs: () => untrusted443({ issuer: 'Some Issuing CA', rootIssuer: 'Some Public Root', publicRootsVerify: true }),
    status: 'unhealthy',
    failing: 'firewall',
    findings: [`FW_TLS_ROOT_MISSING error ${HUB}:443`],
    message: /verify the same chain, so it is genuine/,
  },
  {
    name: "a registry's untrusted chain: a warning, like a closed registry",
    obs: () => {
      const o = healthy();
      o.firewall!.endpoints.push(roleEndpoint('registry', 443, { outcome: 'tls-untrusted', tls: tlsWith({}) }));
      return o;
    },
    status: 'degraded',
    failing: null,
    findings: [`FW_TLS_UNTRUSTED warning ${REGISTRY}:443`],
  },
  {
    name: "the parent's untrusted chain: pass the device's trust bundle",
    obs: () => {
      const o = healthy();
      o.config.parent = PARENT;
      o.firewall!.endpoints = [
        roleEndpoint('parent', 443, { outcome: 'tls-untrusted', tls: tlsWith({ issuer: 'Edge CA' }) }),
      ];
      return o;
    },
    status: 'unhealthy',
    failing: 'firewall',
    findings: [`FW_TLS_UNTRUSTED error ${PARENT}:443`],
    message: /trust_bundle_cert/,
  },
  // --- certificate dates: the clock's or the firewall's ---
  {
    name: 'not yet valid, and the offset explains it (the VM is a day behind): CLOCK_SKEW error naming the certificate',
    obs: () => {
      const o = untrusted443({
        authorizationError: 'CERT_NOT_YET_VALID',
        issuer: 'Lab CA',
        validFrom: iso(NOW + 2 * HOUR),
      });
      o.clock = clock(-24 * HOUR, { observedAt: NOW });
      return o;
    },
    status: 'unhealthy',
    failing: 'clock',
    of: ['firewall', 'clock'],
    components: { firewall: 'healthy' },
    findings: ['CLOCK_SKEW error clock'],
    message: /24 h 0 min behind[\s\S]*certificate of lab-hub\.azure-devices\.net:443 is not valid yet/,
  },
  {
    name: 'not yet valid with no offset measured: the clock (an error), not the firewall',
    obs: () => {
      const o = untrusted443({ authorizationError: 'CERT_NOT_YET_VALID', validFrom: iso(NOW + HOUR) });
      o.clock = clock(null);
      return o;
    },
    status: 'unhealthy',
    failing: 'clock',
    of: ['firewall', 'clock'],
    findings: ['CLOCK_SKEW error clock'],
    message: /could not be compared/,
  },
  {
    name: 'expired while the clock is right: the firewall, naming the expiry date',
    obs: () => {
      const o = untrusted443({ authorizationError: 'CERT_HAS_EXPIRED', validTo: iso(NOW - 48 * HOUR) });
      o.clock = clock(200, { observedAt: NOW });
      return o;
    },
    status: 'unhealthy',
    failing: 'firewall',
    of: ['firewall', 'clock'],
    findings: [`FW_TLS_UNTRUSTED error ${HUB}:443`],
    message: new RegExp(`expired on ${iso(NOW - 48 * HOUR).replace(/[.]/g, '\\.')}`),
  },
  {
    name: 'a date error while the clock layer is not examined: the firewall reports it',
    obs: () => untrusted443({ authorizationError: 'CERT_HAS_EXPIRED', validTo: iso(NOW - HOUR) }),
    status: 'unhealthy',
    failing: 'firewall',
    findings: [`FW_TLS_UNTRUSTED error ${HUB}:443`],
  },
  // --- the clock ---
  ...(
    [
      [29_000, 'healthy', []],
      [30_000, 'degraded', ['CLOCK_SKEW warning clock']],
      [-45_000, 'degraded', ['CLOCK_SKEW warning clock']],
      [299_000, 'degraded', ['CLOCK_SKEW warning clock']],
      [-300_000, 'unhealthy', ['CLOCK_SKEW error clock']],
      [600_000, 'unhealthy', ['CLOCK_SKEW error clock']],
    ] as const
  ).map(([offset, status, findings]): Case => ({
    name: `an offset of ${offset / 1000} s: ${findings.length ? findings[0] : 'nothing'}`,
    obs: () => ({ ...healthy(), clock: clock(offset) }),
    status,
    failing: status === 'unhealthy' ? 'clock' : null,
    of: ['clock'],
    findings: [...findings],
  })),
  {
    name: 'the time service says "not synchronised": a warning, alongside a good offset',
    obs: () => ({
      ...healthy(),
      clock: clock(800, { synchronized: false, service: 'systemd-timesyncd', detail: 'no synchronized file' }),
    }),
    status: 'degraded',
    failing: null,
    of: ['clock'],
    findings: ['CLOCK_NOT_SYNCHRONIZED warning systemd-timesyncd'],
    message: /UDP 123/,
  },
  {
    name: 'synchronised and no offset measured: healthy (the time service speaks)',
    obs: () => ({ ...healthy(), clock: clock(null, { synchronized: true, service: 'chronyd' }) }),
    status: 'healthy',
    failing: null,
    of: ['clock'],
    components: { clock: 'healthy' },
    findings: [],
  },
  {
    name: 'no offset and nothing from a time service, 443 dropped: inconclusive because of the firewall',
    obs: () => {
      const o = healthy();
      o.firewall!.endpoints[2] = endpoint(443, blocked);
      o.clock = clock(null);
      return o;
    },
    status: 'unhealthy',
    failing: 'firewall',
    of: ['clock'],
    components: { clock: 'inconclusive' },
    findings: [],
  },
  // --- DNS of names the path does not need ---
  {
    name: "a nested child that cannot resolve the hub's name: only info, not a DNS failure",
    obs: () => {
      const o = healthy();
      o.config.parent = PARENT;
      o.dns!.names = [PARENT];
      o.firewall!.endpoints = [
        roleEndpoint('parent', 443),
        endpoint(443, {
          outcome: 'unresolved',
          address: null,
          tls: undefined,
          error: { phase: 'resolve', code: 'ENOTFOUND', message: 'x' },
        }),
      ];
      return o;
    },
    status: 'healthy',
    failing: null,
    of: ['dns'],
    components: { dns: 'healthy' },
    findings: [`DNS_NAME_NOT_FOUND info ${HUB}`],
  },
  {
    name: "a registry's name that does not resolve: a warning, not blocking",
    obs: () => {
      const o = healthy();
      o.firewall!.endpoints.push(
        roleEndpoint('registry', 443, {
          outcome: 'unresolved',
          address: null,
          tls: undefined,
          error: { phase: 'resolve', code: 'ENOTFOUND', message: 'x' },
        }),
      );
      return o;
    },
    status: 'degraded',
    failing: null,
    of: ['dns'],
    findings: [`DNS_NAME_NOT_FOUND warning ${REGISTRY}`],
  },
  {
    name: "behind a proxy with a WebSocket protocol the hub's name need not resolve in the VM: info",
    obs: () => {
      const o = behindProxy();
      o.dns!.servers[0]!.queries[0] = {
        ...o.dns!.servers[0]!.queries[0]!,
        outcome: 'nxdomain',
        rcode: 'NXDOMAIN',
        answers: [],
      };
      return o;
    },
    status: 'healthy',
    failing: null,
    of: ['dns'],
    components: { dns: 'healthy', firewall: 'healthy' },
    findings: [`DNS_NAME_NOT_FOUND info ${HUB}`],
  },
];

describe('firewall, clock and DNS rules of the field', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const d = diagnose(c.obs());
      const of = new Set<string>(c.of ?? ['firewall']);
      const mine = d.findings.filter((f) => of.has(f.component));
      assert.deepEqual(mine.map(line).sort(), [...c.findings].sort(), d.findings.map(line).join('\n'));
      assert.equal(d.status, c.status, 'status');
      assert.equal(d.failingComponent, c.failing, 'failingComponent');
      for (const [component, status] of Object.entries(c.components ?? {}))
        assert.equal(d.components[component as keyof typeof d.components], status, component);
      const words = mine.map((f) => `${f.message} ${f.guidance}`).join('\n');
      if (c.message) assert.match(words, c.message);
      if (c.notMessage) assert.doesNotMatch(words, c.notMessage);
    });
  }
});

test('a stalled handshake the IP layer explains (IP_MTU_BLACKHOLE) is only info: root cause first', () => {
  const o = healthy();
  o.firewall!.endpoints[2] = endpoint(443, {
    outcome: 'tls-failed',
    error: { phase: 'tls', code: 'ETIMEDOUT', message: 'tls got no answer within 3000 ms' },
  });
  const mtu = finding('IP_MTU_BLACKHOLE', 'eth0', {
    iface: 'eth0',
    target: '198.18.0.1',
    largestPassing: 1280,
    smallestFailing: 1400,
    interfaceMtu: 1500,
    stalled: [`${HUB}:443`],
  });
  const verdict = judgeFirewall(o, { ip: { status: 'unhealthy', blocking: false, findings: [mtu] } });
  assert.deepEqual(verdict.findings.map(line), [`FW_TLS_FAILED info ${HUB}:443`]);
  assert.match(verdict.findings[0]!.guidance, /IP_MTU_BLACKHOLE/);
  // A reset is not explained by the MTU.
  o.firewall!.endpoints[2] = endpoint(443, {
    outcome: 'tls-failed',
    error: { phase: 'tls', code: 'ECONNRESET', message: 'x' },
  });
  const reset = judgeFirewall(o, { ip: { status: 'unhealthy', blocking: false, findings: [mtu] } });
  assert.deepEqual(reset.findings.map(line), [`FW_TLS_FAILED error ${HUB}:443`]);
});

describe('endpointSeverity and clockExplains', () => {
  test('severity by port, role and path (table)', () => {
    const o = healthy();
    const rows: Array<[Parameters<typeof endpointSeverity>[0], string]> = [
      [{ port: 443, protocol: 'https', role: 'hub' }, 'error'],
      [{ port: 5671, protocol: 'amqp', role: 'hub' }, 'error'],
      [{ port: 8883, protocol: 'mqtt', role: 'hub' }, 'warning'],
      [{ port: 443, protocol: 'https', role: 'dps' }, 'error'],
      [{ port: 443, protocol: 'https', role: 'registry' }, 'warning'],
      [{ port: 8443, protocol: 'custom', role: 'custom' }, 'error'],
      [{ port: 443, protocol: 'https', role: 'extra' }, 'error'],
      [{ port: 8883, protocol: 'mqtt', role: 'parent' }, 'warning'],
    ];
    for (const [e, severity] of rows) assert.equal(endpointSeverity(e, o), severity, JSON.stringify(e));
  });

  test('a date error is the clock’s when the offset explains it or none was measured', () => {
    const notYet = { tls: { ...tlsWith({ authorizationError: 'CERT_NOT_YET_VALID', validFrom: iso(NOW + HOUR) }) } };
    assert.equal(clockExplains(notYet, clock(-2 * HOUR, { observedAt: NOW })), true, 'behind by more than the gap');
    assert.equal(clockExplains(notYet, clock(-10 * 60_000, { observedAt: NOW })), false, 'behind by less');
    assert.equal(clockExplains(notYet, clock(null)), true, 'nothing measured');
    assert.equal(clockExplains(notYet, null), false, 'the clock not examined');
    const expired = { tls: { ...tlsWith({ authorizationError: 'CERT_HAS_EXPIRED', validTo: iso(NOW - HOUR) }) } };
    assert.equal(clockExplains(expired, clock(2 * HOUR, { observedAt: NOW })), true, 'ahead by more than the gap');
    assert.equal(clockExplains(expired, clock(0, { observedAt: NOW })), false, 'the clock is right');
    assert.equal(clockExplains({ tls: tlsWith({}) }, clock(null)), false, 'not a date error');
  });
});

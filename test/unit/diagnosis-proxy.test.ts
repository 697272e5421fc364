/**
 * The proxy layer's rules (CONTRACT 7.1), table-tested on literal observations: every code, its
 * severity and subject, when the layer blocks the path behind it, and what it must not say.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diagnose } from '../../src/diagnosis/diagnose.js';
import type { Observations } from '../../src/diagnosis/observations.js';
import { proxyDifferences } from '../../src/diagnosis/proxy.js';
import type { Finding } from '../../src/report/types.js';
import {
  DPS,
  PROXY_SUBJECT,
  PROXY_URL,
  REGISTRY,
  behindProxy,
  connect,
  proxied,
  roleEndpoint,
  source,
  timedOut,
} from '../support/field-observations.js';
import { HUB, endpoint, healthy } from '../support/observations.js';

interface Case {
  name: string;
  obs: () => Observations;
  status: string;
  failing: string | null;
  components?: Partial<Record<string, string>>;
  /** `CODE severity subject` of every finding of the proxy component, in any order. */
  proxy: string[];
  /** Other findings that must be there (`CODE severity subject`). */
  also?: string[];
  message?: RegExp;
}

const line = (f: Finding) => `${f.code} ${f.severity} ${f.subject}`;

function noProxyAllDropped(): Observations {
  const o = healthy();
  o.proxy = { url: null, source: null, sources: [source('docker', null)], connect: [] };
  o.firewall!.endpoints = [8883, 5671, 443].map((p) =>
    endpoint(p, { outcome: 'blocked', tcpConnectMs: null, tls: undefined, error: timedOut() }),
  );
  o.firewall!.endpoints.push(
    roleEndpoint('dps', 443, { outcome: 'blocked', tcpConnectMs: null, tls: undefined, error: timedOut() }),
  );
  return o;
}

function failedTunnel(outcome: 'unreachable' | 'timeout' | 'malformed', phase: 'resolve' | 'connect' | 'answer') {
  return () => {
    const o = behindProxy({
      connect: [connect(HUB, 443, { outcome, httpStatus: null, phase, detail: `${outcome} (${phase})` })],
    });
    o.firewall!.endpoints[2] = proxied(443, { outcome: 'proxy-failed', tls: undefined, application: undefined });
    return o;
  };
}

const CASES: Case[] = [
  {
    name: 'no proxy: skipped, nothing said',
    obs: () => {
      const o = healthy();
      o.proxy = { url: null, source: null, sources: [], connect: [] };
      return o;
    },
    status: 'healthy',
    failing: null,
    components: { proxy: 'skipped' },
    proxy: [],
  },
  {
    name: 'no proxy and every direct port to Azure dropped: skipped with the hint (info), the firewall errors stay',
    obs: noProxyAllDropped,
    status: 'unhealthy',
    failing: 'firewall',
    components: { proxy: 'skipped' },
    proxy: ['PROXY_MAY_BE_REQUIRED info proxy'],
    also: [`FW_PORT_BLOCKED error ${HUB}:443`],
    message: /netsh winhttp show proxy/,
  },
  {
    name: 'no proxy, everything dropped but one port answers: no hint',
    obs: () => {
      const o = noProxyAllDropped();
      o.firewall!.endpoints[1] = endpoint(5671);
      return o;
    },
    status: 'unhealthy',
    failing: 'firewall',
    proxy: [],
  },
  {
    name: 'no proxy, a nested child whose Azure paths are dropped: no hint (a lower layer must not reach Azure)',
    obs: () => {
      const o = noProxyAllDropped();
      o.config.parent = 'lab-parent.local';
      o.firewall!.endpoints.push(roleEndpoint('parent', 443));
      return o;
    },
    status: 'healthy',
    failing: null,
    proxy: [],
  },
  {
    name: 'a working proxy with AmqpWs: healthy, the dropped direct ports are info',
    obs: () => behindProxy(),
    status: 'healthy',
    failing: null,
    components: { proxy: 'healthy', firewall: 'healthy' },
    proxy: [],
    also: [`FW_PORT_BLOCKED info ${HUB}:8883`, `FW_PORT_BLOCKED info ${HUB}:5671`],
  },
  {
    name: 'a proxy with Amqp while 5671 is dropped: PROXY_PROTOCOL_MISMATCH error',
    obs: () => {
      const o = behindProxy();
      o.config.upstreamProtocol = 'Amqp';
      return o;
    },
    status: 'unhealthy',
    failing: 'proxy',
    proxy: [`PROXY_PROTOCOL_MISMATCH error ${PROXY_SUBJECT}`],
    message: /UpstreamProtocol=AmqpWs/,
  },
  {
    name: 'a proxy with Mqtt while 8883 is open directly: still an error (CONTRACT 7.1), saying it works only without the proxy',
    obs: () => {
      const o = behindProxy();
      o.config.upstreamProtocol = 'Mqtt';
      o.firewall!.endpoints[0] = endpoint(8883, { via: 'direct' });
      return o;
    },
    status: 'unhealthy',
    failing: 'proxy',
    proxy: [`PROXY_PROTOCOL_MISMATCH error ${PROXY_SUBJECT}`],
    message: /works today only because port 8883 is open directly/,
  },
  {
    name: 'the proxy refused: PROXY_UNREACHABLE blocks, the firewall is inconclusive and quiet',
    obs: failedTunnel('unreachable', 'connect'),
    status: 'unhealthy',
    failing: 'proxy',
    components: { firewall: 'inconclusive' },
    proxy: [`PROXY_UNREACHABLE error ${PROXY_SUBJECT}`],
    message: /Test-NetConnection 198\.18\.1\.30 -Port 3128/,
  },
  {
    name: 'the proxy accepts TCP but never answers CONNECT: unreachable as a proxy',
    obs: failedTunnel('timeout', 'answer'),
    status: 'unhealthy',
    failing: 'proxy',
    proxy: [`PROXY_UNREACHABLE error ${PROXY_SUBJECT}`],
    message: /does not answer an HTTP CONNECT/,
  },
  {
    name: 'garbage instead of an HTTP answer (malformed): unreachable as a proxy',
    obs: failedTunnel('malformed', 'answer'),
    status: 'unhealthy',
    failing: 'proxy',
    proxy: [`PROXY_UNREACHABLE error ${PROXY_SUBJECT}`],
  },
  {
    name: "the proxy's name does not resolve because DNS is broken: DNS is the root cause, the proxy inconclusive",
    obs: () => {
      const o = failedTunnel('unreachable', 'resolve')();
      o.dns!.servers = [];
      return o;
    },
    status: 'unhealthy',
    failing: 'dns',
    components: { proxy: 'inconclusive', firewall: 'inconclusive' },
    proxy: [],
  },
  {
    name: "the proxy's name does not resolve while DNS works: the proxy's fault",
    obs: failedTunnel('unreachable', 'resolve'),
    status: 'unhealthy',
    failing: 'proxy',
    proxy: [`PROXY_UNREACHABLE error ${PROXY_SUBJECT}`],
    message: /cannot resolve the proxy's name/,
  },
  {
    name: "one tunnel fails while others work: the endpoint's severity, not blocking",
    obs: () => {
      const o = behindProxy({
        connect: [
          connect(HUB, 443),
          connect(REGISTRY, 443, { outcome: 'timeout', httpStatus: null, phase: 'answer', detail: 'no answer' }),
        ],
      });
      o.firewall!.endpoints.push(
        roleEndpoint('registry', 443, { via: 'proxy', outcome: 'proxy-failed', address: null, tls: undefined }),
      );
      return o;
    },
    status: 'degraded',
    failing: null,
    components: { firewall: 'healthy' },
    proxy: [`PROXY_UNREACHABLE warning ${PROXY_SUBJECT}`],
  },
  {
    name: '407 without credentials: PROXY_AUTH_REQUIRED blocks',
    obs: () => {
      const o = behindProxy({
        connect: [
          connect(HUB, 443, { outcome: 'auth-required', httpStatus: 407, proxyAuthenticate: ['Basic realm="x"'] }),
        ],
      });
      o.firewall!.endpoints[2] = proxied(443, { outcome: 'proxy-failed', tls: undefined, application: undefined });
      return o;
    },
    status: 'unhealthy',
    failing: 'proxy',
    components: { firewall: 'inconclusive', clock: 'skipped' },
    proxy: [`PROXY_AUTH_REQUIRED error ${PROXY_SUBJECT}`],
    message: /requires authentication \(HTTP 407\) and the proxy URL carries none/,
  },
  {
    name: '407 offering only NTLM to a URL with credentials: says IoT Edge cannot do NTLM',
    obs: () =>
      behindProxy({
        connect: [
          connect(HUB, 443, {
            outcome: 'auth-required',
            httpStatus: 407,
            sentCredentials: true,
            proxyAuthenticate: ['NTLM', 'Negotiate'],
          }),
        ],
      }),
    status: 'unhealthy',
    failing: 'proxy',
    proxy: [`PROXY_AUTH_REQUIRED error ${PROXY_SUBJECT}`],
    message: /refused the credentials[\s\S]*offers NTLM, Negotiate, which IoT Edge cannot do/,
  },
  {
    name: "CONNECT denied: one finding per endpoint, at the endpoint's severity",
    obs: () => {
      const o = behindProxy({
        connect: [
          connect(HUB, 443, { outcome: 'denied', httpStatus: 403, reason: 'Forbidden' }),
          connect(DPS, 443, { outcome: 'denied', httpStatus: 403, reason: 'Forbidden' }),
          connect(REGISTRY, 443, { outcome: 'denied', httpStatus: 403, reason: 'Forbidden' }),
        ],
      });
      const failed = { outcome: 'proxy-failed', tls: undefined, application: undefined } as const;
      o.firewall!.endpoints[2] = proxied(443, failed);
      o.firewall!.endpoints.push(roleEndpoint('dps', 443, { via: 'proxy', address: null, ...failed }));
      o.firewall!.endpoints.push(roleEndpoint('registry', 443, { via: 'proxy', address: null, ...failed }));
      return o;
    },
    status: 'unhealthy',
    failing: 'proxy',
    components: { firewall: 'healthy' },
    proxy: [
      `PROXY_CONNECT_DENIED error ${HUB}:443`,
      `PROXY_CONNECT_DENIED error ${DPS}:443`,
      `PROXY_CONNECT_DENIED warning ${REGISTRY}:443`,
    ],
    message: /HTTP 403 Forbidden/,
  },
  {
    name: 'an https:// proxy URL that works as http://: PROXY_URL_INVALID, the path behind it is judged',
    obs: () =>
      behindProxy({
        url: 'https://198.18.1.30:3128',
        valid: false,
        problem: 'the proxy must be reached over plain HTTP (http://host:port); this one uses https://',
        testedAs: PROXY_URL,
      }),
    status: 'unhealthy',
    failing: 'proxy',
    components: { firewall: 'healthy' },
    proxy: ['PROXY_URL_INVALID error --proxy'],
    message: /gives a tunnel when asked over plain HTTP/,
  },
  {
    name: 'a socks5:// proxy URL (nothing tested through it): PROXY_URL_INVALID blocks',
    obs: () => {
      const o = behindProxy({
        url: 'socks5://198.18.1.30:1080',
        valid: false,
        problem: 'the proxy must be reached over plain HTTP (http://host:port)',
        connect: [],
      });
      o.firewall!.endpoints[2] = endpoint(443, {
        via: 'direct',
        outcome: 'blocked',
        tls: undefined,
        error: timedOut(),
      });
      return o;
    },
    status: 'unhealthy',
    failing: 'proxy',
    components: { firewall: 'inconclusive' },
    proxy: ['PROXY_URL_INVALID error --proxy'],
  },
  {
    name: "another source's https:// URL is invalid too (edgeAgent would fail), named by its component",
    obs: () => behindProxy({ sources: [source('edgeAgent', 'https://198.18.1.30:3128'), source('docker', PROXY_URL)] }),
    status: 'unhealthy',
    failing: 'proxy',
    proxy: ['PROXY_URL_INVALID error edgeAgent', 'PROXY_INCONSISTENT warning proxy sources'],
  },
  {
    name: 'the daemons disagree: one names a proxy, another readable one none; unknown ones are no difference',
    obs: () =>
      behindProxy({
        sources: [
          source('process', null),
          source('edgeAgent', null, { state: 'unknown', unknownReason: 'absent' }),
          source('aziot-identityd', PROXY_URL),
          source('docker', null),
        ],
      }),
    status: 'degraded',
    failing: null,
    proxy: ['PROXY_INCONSISTENT warning proxy sources'],
    message: /aziot-identityd http:\/\/198\.18\.1\.30:3128; docker names none/,
  },
];

describe('proxy rules', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const d = diagnose(c.obs());
      const proxyFindings = d.findings.filter((f) => f.component === 'proxy');
      assert.deepEqual(proxyFindings.map(line).sort(), [...c.proxy].sort(), d.findings.map(line).join('\n'));
      assert.equal(d.status, c.status);
      assert.equal(d.failingComponent, c.failing);
      for (const [component, status] of Object.entries(c.components ?? {}))
        assert.equal(d.components[component as keyof typeof d.components], status, component);
      for (const want of c.also ?? [])
        assert.ok(
          d.findings.some((f) => line(f) === want),
          `missing ${want}`,
        );
      if (c.message) {
        const text = proxyFindings.map((f) => `${f.message} ${f.guidance}`).join('\n');
        assert.match(text, c.message);
      }
    });
  }
});

describe('proxyDifferences: what counts as the same proxy', () => {
  test('the same proxy written with different passwords, or only by unknown sources, is no difference', () => {
    assert.deepEqual(
      proxyDifferences([
        source('aziot-edged', 'http://u:***@p.example:3128'),
        source('docker', 'http://u:***@P.example:3128'),
        source('edgeAgent', null, { state: 'unknown', unknownReason: 'unreadable' }),
      ]),
      [],
    );
  });

  test('the process and --proxy are not IoT Edge components: they are not compared', () => {
    assert.deepEqual(proxyDifferences([source('process', null), source('docker', PROXY_URL)]), []);
  });

  test('another port is another proxy; port 80 is what http:// without a port means', () => {
    assert.equal(
      proxyDifferences([source('docker', 'http://p:3128'), source('aziot-edged', 'http://p:8080')]).length,
      2,
    );
    assert.deepEqual(proxyDifferences([source('docker', 'http://p'), source('aziot-edged', 'http://p:80')]), []);
  });
});

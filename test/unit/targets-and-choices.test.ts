/**
 * What a check decides before it measures (CONTRACT 7.1-7.4): the endpoints and their roles,
 * ports and exchanges; the names DNS is asked for; which proxy is used and from where; the http://
 * form an https:// proxy URL is tried as; which Date is the clock's reference; how the WebSocket
 * upgrade and a tunnel's result become the endpoint's report. Fake probes only.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dnsNamesFor, endpointTargets } from '../../src/config/targets.js';
import { resolveSync } from '../../src/config/resolve.js';
import type { CheckConfig } from '../../src/config/types.js';
import { Deadline } from '../../src/deadline.js';
import { clockObservation, clockReference, UNKNOWN_TIME_SYNC } from '../../src/examine/clock.js';
import { proxiedReport, withUpgrade } from '../../src/examine/firewall.js';
import { chooseProxy, plainHttpForm, proxyObservation } from '../../src/examine/proxy.js';
import { discoverProxySources } from '../../src/probes/proxy-sources.js';
import { parseProxyUrl } from '../../src/probes/proxy-url.js';
import type { CheckDeps } from '../../src/probes/types.js';
import { DPS, PARENT, REGISTRY, application, roleEndpoint } from '../support/field-observations.js';
import { HUB, endpoint } from '../support/observations.js';

function config(over: Partial<CheckConfig> = {}): CheckConfig {
  return {
    ...resolveSync({ env: {} }),
    hub: HUB,
    dps: DPS,
    registries: [REGISTRY],
    aziotConfig: '/nonexistent/config.toml',
    systemdDir: '/nonexistent/systemd',
    ...over,
  };
}

describe('endpointTargets: roles, ports, exchanges', () => {
  test('hub on its three ports, DPS on 443 only, each registry, then the custom endpoints; each named once', () => {
    const targets = endpointTargets(
      config({
        registries: [REGISTRY, HUB],
        endpoints: [
          { host: DPS, port: 443 },
          { host: 'c.lab', port: 8443 },
        ],
      }),
    );
    assert.deepEqual(
      targets.map((t) => `${t.host}:${t.port} ${t.role} ${t.exchange ?? 'tls'}`),
      [
        `${HUB}:8883 hub mqtt`,
        `${HUB}:5671 hub amqp`,
        `${HUB}:443 hub http`,
        `${DPS}:443 dps http`,
        `${REGISTRY}:443 registry http`,
        `c.lab:8443 custom tls`,
      ],
    );
  });

  test('no hub known: DPS (and the registry) alone, the default DPS host when none is given', () => {
    const targets = endpointTargets(config({ hub: null, dps: null, registries: [] }));
    assert.deepEqual(
      targets.map((t) => `${t.host}:${t.port} ${t.role}`),
      ['global.azure-devices-provisioning.net:443 dps'],
    );
  });

  test('a WebSocket protocol adds the upgrade to the hub’s 443 with its subprotocol', () => {
    for (const [protocol, sub] of [
      ['AmqpWs', 'AMQPWSB10'],
      ['MqttWs', 'mqtt'],
    ] as const) {
      const ws = endpointTargets(config({ upstreamProtocol: protocol })).filter((t) => t.webSocket !== undefined);
      assert.deepEqual(
        ws.map((t) => `${t.host}:${t.port} ${t.webSocket}`),
        [`${HUB}:443 ${sub}`],
      );
    }
    assert.ok(
      endpointTargets(config()).every((t) => t.webSocket === undefined),
      'Amqp: no upgrade',
    );
  });

  test('nested: the parent first, on the hub’s ports, with the hub’s name in its MQTT username', () => {
    const targets = endpointTargets(config({ parent: PARENT }));
    assert.deepEqual(
      targets.slice(0, 3).map((t) => `${t.host}:${t.port} ${t.role} ${t.exchangeHost ?? '-'}`),
      [`${PARENT}:8883 parent ${HUB}`, `${PARENT}:5671 parent ${HUB}`, `${PARENT}:443 parent ${HUB}`],
    );
    assert.equal(targets[3]?.role, 'hub');
  });

  test('--no-exchange: TLS alone everywhere, no upgrade', () => {
    const targets = endpointTargets(config({ exchanges: false, upstreamProtocol: 'MqttWs' }));
    assert.ok(targets.every((t) => (t.exchange ?? null) === null && t.webSocket === undefined));
  });

  test('the names DNS is asked for: the configured ones, else the parent (a name), else the hub, else DPS', () => {
    assert.deepEqual(dnsNamesFor(config({ dnsNames: ['n.lab'] })), ['n.lab']);
    assert.deepEqual(dnsNamesFor(config({ parent: PARENT })), [PARENT]);
    assert.deepEqual(dnsNamesFor(config({ parent: '198.18.1.22' })), [HUB], 'an IP parent needs no name');
    assert.deepEqual(dnsNamesFor(config({ hub: null })), [DPS]);
    assert.deepEqual(dnsNamesFor(config({ hub: null, dps: null })), ['global.azure-devices-provisioning.net']);
  });
});

describe('chooseProxy: which proxy the check tests through', () => {
  const deadline = () => new Deadline(5000);
  /** Proxy sources from a literal environment and fixture files, through the real discovery. */
  function depsWith(env: Record<string, string>, files: Record<string, string> = {}): CheckDeps {
    const readText = async (p: string) => {
      const text = files[p];
      if (text === undefined) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
      return text;
    };
    const readDir = async (p: string) => {
      const names = Object.keys(files)
        .filter((f) => f.startsWith(`${p}/`))
        .map((f) => f.slice(p.length + 1));
      if (names.length === 0) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
      return names;
    };
    return {
      proxySources: (r) =>
        discoverProxySources({
          env,
          configToml: r.configToml,
          systemdDir: r.systemdDir,
          rawUrls: r.rawUrls,
          readText,
          readDir,
        }),
    } as CheckDeps;
  }
  const dropIn = (unit: string, url: string) => ({
    [`/s/${unit}.service.d/proxy.conf`]: `[Service]\nEnvironment="HTTPS_PROXY=${url}"\n`,
  });

  test('the option first, then the process, then edgeAgent, aziot-identityd, aziot-edged, docker', async () => {
    const files = { ...dropIn('docker', 'http://docker-proxy:1'), ...dropIn('aziot-identityd', 'http://id-proxy:2') };
    const c = config({ systemdDir: '/s' });
    const d = deadline();
    try {
      const fromOption = await chooseProxy(
        { ...c, proxy: 'http://u:pw@opt-proxy:3', proxySource: '--proxy' },
        depsWith({ https_proxy: 'http://env-proxy:4' }, files),
        d,
      );
      assert.equal(fromOption.raw, 'http://u:pw@opt-proxy:3');
      assert.equal(fromOption.source, '--proxy');
      const fromEnv = await chooseProxy(c, depsWith({ HTTPS_PROXY: 'http://env-proxy:4', NO_PROXY: '.lab' }, files), d);
      assert.equal(fromEnv.raw, 'http://env-proxy:4');
      assert.equal(fromEnv.source, 'HTTPS_PROXY');
      assert.equal(fromEnv.noProxy, '.lab');
      const fromHost = await chooseProxy(c, depsWith({}, files), d);
      assert.equal(fromHost.raw, 'http://id-proxy:2');
      assert.match(fromHost.source ?? '', /^aziot-identityd \(\/s\/aziot-identityd\.service\.d\/proxy\.conf\)$/);
      const none = await chooseProxy(c, depsWith({}), d);
      assert.equal(none.raw, null);
      assert.equal(none.sources.length, 5, 'every source is still listed');
    } finally {
      d.dispose();
    }
  });

  test('the observation is masked: the password of the URL in use is nowhere in it', async () => {
    const d = deadline();
    try {
      const chosen = await chooseProxy(config(), depsWith({ https_proxy: 'http://edge:Secr3t@p.lab:3128' }), d);
      assert.equal(chosen.raw, 'http://edge:Secr3t@p.lab:3128', 'kept for Proxy-Authorization');
      const obs = proxyObservation(chosen, [], []);
      assert.equal(obs.url, 'http://edge:***@p.lab:3128');
      assert.ok(!JSON.stringify(obs).includes('Secr3t'));
    } finally {
      d.dispose();
    }
  });

  test('no proxy sources probe at all (fake deps): no proxy', async () => {
    const d = deadline();
    try {
      assert.equal((await chooseProxy(config(), {} as CheckDeps, d)).raw, null);
    } finally {
      d.dispose();
    }
  });
});

describe('plainHttpForm: the http:// form an unusable proxy URL is tried as', () => {
  const cases: Array<[string, string | null]> = [
    ['https://p.lab:3129', 'http://p.lab:3129'],
    ['https://u:p%40w@p.lab:3129/', 'http://u:p%40w@p.lab:3129/'],
    ['https://p.lab', 'http://p.lab:443'],
    ['p.lab:3128', 'http://p.lab:3128'],
    ['socks5://p.lab:1080', null],
    ['http://p.lab:99999', null],
  ];
  for (const [url, form] of cases) {
    test(`${url} → ${String(form)}`, () => assert.equal(plainHttpForm(url, parseProxyUrl(url)), form));
  }
});

describe('the clock’s reference and the WebSocket upgrade', () => {
  test('a trusted chain’s Date first, then the upstream before DPS and the registry', () => {
    const dated = (o: ReturnType<typeof endpoint>, offsetMs: number) => ({
      ...o,
      application: application(443, { clock: { offsetMs, uncertaintyMs: 500 } }),
    });
    const untrustedHub = dated(endpoint(443, { tls: { ...endpoint(443).tls!, authorized: false } }), 1);
    const dps = dated(roleEndpoint('dps', 443), 2);
    const registry = dated(roleEndpoint('registry', 443), 3);
    assert.equal(clockReference([registry, untrustedHub, dps]), dps);
    assert.equal(clockReference([registry, dated(endpoint(443), 4), dps])?.role, 'hub');
    assert.equal(clockReference([untrustedHub]), untrustedHub, 'an untrusted Date is better than none');
    assert.equal(clockReference([endpoint(443)]), undefined);
    const obs = clockObservation(UNKNOWN_TIME_SYNC, [dps], 1000);
    assert.deepEqual([obs.offsetMs, obs.reference, obs.observedAt], [2, `${DPS}:443`, 1000]);
  });

  test('the upgrade decides the outcome and the application; the plain request keeps its Date', () => {
    const plain = endpoint(443, { application: application(443), httpDate: 'Thu, 26 Nov 2026 06:00:00 GMT' });
    const cut = endpoint(443, {
      outcome: 'protocol-blocked',
      application: application(443, { exchange: 'websocket', outcome: 'cut' }),
    });
    const merged = withUpgrade(plain, cut);
    assert.equal(merged.outcome, 'protocol-blocked');
    assert.equal(merged.application?.exchange, 'websocket');
    assert.equal(merged.httpDate, 'Thu, 26 Nov 2026 06:00:00 GMT');
    // An upgrade that could not even connect does not hide what the plain request saw.
    const lost = endpoint(443, { outcome: 'blocked', tls: undefined });
    assert.equal(withUpgrade(plain, lost).outcome, 'open');
    assert.equal(withUpgrade(endpoint(443, { outcome: 'tls-untrusted' }), cut).outcome, 'tls-untrusted');
  });

  test('a tunnel the proxy refused is proxy-failed, with the proxy phase and the status as its code', () => {
    const target = { host: HUB, port: 443, protocol: 'https' as const, role: 'hub' as const };
    const report = proxiedReport(target, {
      host: HUB,
      port: 443,
      via: 'proxy',
      outcome: 'proxy-failed',
      connect: {
        host: HUB,
        port: 443,
        proxy: 'http://p:3128',
        proxyAddress: '198.18.1.30',
        outcome: 'denied',
        httpStatus: 403,
        reason: 'Forbidden',
        sentCredentials: false,
        proxyAuthenticate: [],
        server: null,
        ms: 3,
        resolveMs: null,
        tcpConnectMs: 1,
        answerMs: 1,
        error: { phase: 'answer', code: 'HTTP_403', message: 'the proxy refused CONNECT' },
      },
      tls: null,
      application: null,
      error: null,
      ms: 3,
    });
    assert.deepEqual(
      [report.outcome, report.via, report.address, report.error?.phase, report.error?.code],
      ['proxy-failed', 'proxy', null, 'proxy', 'HTTP_403'],
    );
  });
});

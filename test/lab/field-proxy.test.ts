/**
 * The proxy rows of the field matrix (CONTRACT 7.1), with a real tinyproxy in the net namespace and
 * the vm's direct path to every endpoint dropped: a proxy-only site. Each scenario asserts status,
 * failingComponent and the codes (severity and subject).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIELD_HOSTS, type FieldLab } from './field-lab.js';
import { PROXY_ADDRESS, PROXY_NAME, PROXY_PORT } from './field-proxy.js';
import { assertEndpoint, runFieldScenarios, subjectOf, type FieldScenario } from './field-scenario.js';

const AUTH = { user: 'edge', password: 'Pr0xy-S3cret' };
const PROXY = `${PROXY_ADDRESS}:${PROXY_PORT}`;
const proxyArgs = (lab: FieldLab, protocol = 'AmqpWs', url = lab.proxy!.url()): string[] => [
  '--proxy',
  url,
  '--upstream-protocol',
  protocol,
];

/** The drop-ins of an EFLOW device set up for a proxy, in a directory given with --systemd-dir. */
function writeDropIns(lab: FieldLab, units: Record<string, string>): string {
  const dir = join(lab.paths.dir, 'systemd');
  for (const [unit, text] of Object.entries(units)) {
    mkdirSync(join(dir, `${unit}.service.d`), { recursive: true });
    writeFileSync(join(dir, `${unit}.service.d`, 'proxy.conf'), text);
  }
  return dir;
}

const SCENARIOS: FieldScenario[] = [
  {
    id: 'P1',
    title: 'proxy-only site, AmqpWs: 443 through tinyproxy works, closed direct ports are only info',
    lab: { proxy: {} },
    args: (lab) => proxyArgs(lab),
    expect: {
      status: 'healthy',
      failingComponent: null,
      components: { proxy: 'healthy', firewall: 'healthy', clock: 'healthy' },
      present: [
        { code: 'FW_PORT_BLOCKED', severity: 'info', subject: subjectOf('hub', 8883) },
        { code: 'FW_PORT_BLOCKED', severity: 'info', subject: subjectOf('hub', 5671) },
      ],
      absent: ['PROXY_PROTOCOL_MISMATCH', 'PROXY_MAY_BE_REQUIRED', 'FW_PROTOCOL_FALLBACK'],
      more: (report) => {
        const hub = assertEndpoint(report, 'hub', 443, 'open', 'proxy');
        // AmqpWs: the WebSocket upgrade decides, on its own tunnel.
        assert.equal(hub.application?.exchange, 'websocket');
        assert.equal(hub.application?.outcome, 'ok');
        assertEndpoint(report, 'dps', 443, 'open', 'proxy');
        assertEndpoint(report, 'registry', 443, 'open', 'proxy');
        assertEndpoint(report, 'hub', 8883, 'blocked', 'direct');
        const p = report.components.proxy;
        assert.equal(p.url, `http://${PROXY}`);
        assert.equal(p.source, '--proxy');
        assert.deepEqual(
          p.connect.map((c) => `${c.host}:${c.port} ${c.outcome} ${c.httpStatus}`),
          [subjectOf('hub', 443), subjectOf('dps', 443), subjectOf('registry', 443)].map((s) => `${s} established 200`),
        );
        // The clock is read from the hub's answer through the proxy.
        assert.equal(report.components.clock.reference, subjectOf('hub', 443));
        assert.ok(Math.abs(report.components.clock.offsetMs ?? Infinity) < 5000);
      },
    },
  },
  {
    id: 'P2',
    title: 'proxy-only site, Amqp: AMQP cannot pass an HTTP proxy (PROXY_PROTOCOL_MISMATCH)',
    lab: { proxy: {} },
    args: (lab) => proxyArgs(lab, 'Amqp'),
    expect: {
      status: 'unhealthy',
      failingComponent: 'proxy',
      components: { proxy: 'unhealthy', firewall: 'healthy' },
      present: [
        { code: 'PROXY_PROTOCOL_MISMATCH', severity: 'error', subject: PROXY, mentions: [/AmqpWs/, /5671/] },
        { code: 'FW_PORT_BLOCKED', severity: 'info', subject: subjectOf('hub', 5671) },
      ],
      absent: ['FW_PROTOCOL_FALLBACK'],
      quiet: ['firewall'],
    },
  },
  {
    id: 'P3',
    title: 'tinyproxy with BasicAuth and a URL without credentials: 407, the path behind it is not judged',
    lab: { proxy: { auth: AUTH } },
    args: (lab) => proxyArgs(lab),
    expect: {
      status: 'unhealthy',
      failingComponent: 'proxy',
      components: { proxy: 'unhealthy', firewall: 'inconclusive', clock: 'inconclusive' },
      present: [
        {
          code: 'PROXY_AUTH_REQUIRED',
          severity: 'error',
          subject: PROXY,
          message: [/requires authentication \(HTTP 407\)/],
          mentions: [/user:password@host:port/],
        },
      ],
      quiet: ['firewall', 'clock'],
      more: (report) => {
        assert.equal(report.components.firewall.inconclusiveBecause, 'proxy');
        assertEndpoint(report, 'hub', 443, 'proxy-failed', 'proxy');
        assert.ok(report.components.proxy.connect.every((c) => c.outcome === 'auth-required'));
      },
    },
  },
  {
    id: 'P4',
    title: "the process's https_proxy with credentials: healthy, and the password appears nowhere",
    lab: { proxy: { auth: AUTH } },
    args: () => ['--upstream-protocol', 'MqttWs'],
    run: { env: { https_proxy: `http://${AUTH.user}:${encodeURIComponent(AUTH.password)}@${PROXY}` } },
    expect: {
      status: 'healthy',
      failingComponent: null,
      components: { proxy: 'healthy', firewall: 'healthy' },
      more: (report, run) => {
        const p = report.components.proxy;
        assert.equal(p.url, `http://${AUTH.user}:***@${PROXY}`);
        assert.equal(p.source, 'https_proxy');
        assert.equal(p.sources.find((s) => s.component === 'process')?.url, `http://${AUTH.user}:***@${PROXY}`);
        const hub = assertEndpoint(report, 'hub', 443, 'open', 'proxy');
        assert.equal(hub.application?.exchange, 'websocket');
        const basic = Buffer.from(`${AUTH.user}:${AUTH.password}`).toString('base64');
        for (const secret of [AUTH.password, encodeURIComponent(AUTH.password), basic]) {
          assert.ok(!run.stdout.includes(secret), 'the report holds no password');
          assert.ok(!run.stderr.includes(secret), 'the logs hold no password');
        }
      },
    },
  },
  {
    id: 'P5',
    title: 'tinyproxy allows CONNECT only to 8443: every 443 is denied, each at its endpoint’s severity',
    lab: { proxy: { connectPorts: [8443] } },
    args: (lab) => proxyArgs(lab),
    expect: {
      status: 'unhealthy',
      failingComponent: 'proxy',
      components: { proxy: 'unhealthy' },
      present: [
        { code: 'PROXY_CONNECT_DENIED', severity: 'error', subject: subjectOf('hub', 443), message: [/HTTP 403/] },
        { code: 'PROXY_CONNECT_DENIED', severity: 'error', subject: subjectOf('dps', 443) },
        // A closed registry is a warning: running modules keep working.
        { code: 'PROXY_CONNECT_DENIED', severity: 'warning', subject: subjectOf('registry', 443) },
      ],
      absent: ['PROXY_UNREACHABLE', 'PROXY_AUTH_REQUIRED'],
      quiet: ['firewall'],
    },
  },
  {
    id: 'P6',
    title: 'the proxy does not answer at all (its name resolves, nothing listens there)',
    lab: { unreachable: ['hub', 'dps', 'registry'] },
    args: (lab) => proxyArgs(lab, 'AmqpWs', `http://${PROXY_NAME}:${PROXY_PORT}`),
    expect: {
      status: 'unhealthy',
      failingComponent: 'proxy',
      components: { proxy: 'unhealthy', firewall: 'inconclusive' },
      present: [{ code: 'PROXY_UNREACHABLE', severity: 'error', subject: `${PROXY_NAME}:${PROXY_PORT}` }],
      absent: ['PROXY_MAY_BE_REQUIRED'],
      quiet: ['firewall'],
      more: (report) => assert.equal(report.components.firewall.inconclusiveBecause, 'proxy'),
    },
  },
  {
    id: 'P7',
    title: 'an https:// proxy URL: PROXY_URL_INVALID, and the same proxy is shown to work as http://',
    lab: { proxy: {} },
    args: () => ['--proxy', `https://${PROXY}`, '--upstream-protocol', 'AmqpWs'],
    expect: {
      status: 'unhealthy',
      failingComponent: 'proxy',
      components: { proxy: 'unhealthy', firewall: 'healthy' },
      present: [
        {
          code: 'PROXY_URL_INVALID',
          severity: 'error',
          subject: '--proxy',
          message: [/plain HTTP/, /gives a tunnel/],
          mentions: [/http:\/\/\[user:password@\]host:port/],
        },
      ],
      more: (report) => {
        assert.equal(report.components.proxy.testedAs, `http://${PROXY}`);
        assertEndpoint(report, 'hub', 443, 'open', 'proxy');
      },
    },
  },
  {
    id: 'P8',
    title: 'the proxy from the daemons’ drop-ins (no --proxy): used, no_proxy honoured, docker differing',
    lab: { proxy: {} },
    setup: (lab) => {
      writeDropIns(lab, {
        'aziot-identityd': `[Service]\nEnvironment="https_proxy=http://${PROXY}" "NO_PROXY=${FIELD_HOSTS.registry.name}"\n`,
        'aziot-edged': `[Service]\nEnvironment=https_proxy=http://${PROXY}\n`,
        docker: '[Service]\nLimitNOFILE=1048576\n',
      });
    },
    args: (lab) => ['--systemd-dir', join(lab.paths.dir, 'systemd'), '--upstream-protocol', 'AmqpWs'],
    expect: {
      // The registry, sent direct by no_proxy, meets the dropped direct path: a warning.
      status: 'degraded',
      failingComponent: null,
      components: { proxy: 'degraded', firewall: 'degraded' },
      present: [
        { code: 'PROXY_INCONSISTENT', severity: 'warning', subject: 'proxy sources', message: [/docker names none/] },
        { code: 'FW_PORT_BLOCKED', severity: 'warning', subject: subjectOf('registry', 443) },
      ],
      more: (report) => {
        const p = report.components.proxy;
        assert.match(p.source ?? '', /^aziot-identityd \(.*aziot-identityd\.service\.d\/proxy\.conf\)$/);
        assert.deepEqual(p.bypassed, [subjectOf('registry', 443)]);
        // config.toml is absent: unknown, which is no difference.
        assert.equal(p.sources.find((s) => s.component === 'edgeAgent')?.state, 'unknown');
        assertEndpoint(report, 'hub', 443, 'open', 'proxy');
        assertEndpoint(report, 'registry', 443, 'blocked', 'direct');
      },
    },
  },
];

runFieldScenarios('field matrix: proxy (CONTRACT 7.1)', SCENARIOS);

/**
 * Desired properties end to end (CONTRACT.md 5.1): the deployment's values are applied at start,
 * changes are applied and acknowledged {value, ac, av, ad} and trigger a configChange check,
 * invalid values are refused with ac 400 and the previous value kept, unknown keys are refused,
 * malformed shapes never crash the module, and a big configuration still fits the twin's limits.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Report } from '../../src/report/types.js';
import type { JsonObject } from '../hub/twin-rules.js';
import { HUB_NAME, LAB_ADDR, resolvConf } from '../lab/harness.js';
import { requireLab } from '../lab/require-lab.js';
import { assertHealthyLogs, assertTelemetryOf, assertTwinShowsReport, reportFrom } from './assertions.js';
import { startModuleLab } from './module-harness.js';
import type { ModuleLab, ModuleProcess } from './module-harness.js';

const skip = requireLab();
const MODULE = 'netdiagcfg';

/** Long but valid hostnames (about 240 characters) that the lab's DNS resolves to the hub's address. */
const LONG_NAMES = Array.from({ length: 16 }, (_, i) =>
  [`e${i}-${'a'.repeat(58)}`, 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(40), 'example'].join('.'),
);

interface Ack {
  value: unknown;
  ac: number;
  av: number;
  ad: string;
}

describe('module: desired properties', { skip }, () => {
  let ml: ModuleLab;
  let mod: ModuleProcess;

  before(async () => {
    const hosts: Record<string, string> = { [HUB_NAME]: LAB_ADDR.hub };
    for (const name of LONG_NAMES) hosts[name] = LAB_ADDR.hub;
    // Three resolvers that know the long names (the stress test points resolvConf at all three).
    const dnsmasq = [LAB_ADDR.dns, LAB_ADDR.dns2, LAB_ADDR.dns3].map((address) => ({ address, hosts }));
    ml = await startModuleLab({ label: 'module-desired', lab: { dnsmasq } });
    // The deployment manifest's desired properties, in the twin before the module starts.
    mod = await ml.startModule({ moduleId: MODULE, desired: { timeoutMs: 2600, telemetry: 'always' } });
    await ml.until(() => ml.reported(MODULE)['lastCheck'], 'the startup report is in the twin', 20_000);
  });
  after(async () => {
    await ml?.close();
  });

  const ack = (key: string): Ack | undefined => ml.reported(MODULE)[key] as Ack | undefined;
  const lastCheckId = (): string | undefined =>
    (ml.reported(MODULE)['lastCheck'] as { checkId?: string } | undefined)?.checkId;
  const lastReport = async () => reportFrom(await ml.invoke(MODULE, 'getLastReport', null));

  /** Sends a desired patch and waits until every key in `keys` is acknowledged for its version. */
  async function change(patch: JsonObject, keys = Object.keys(patch)): Promise<number> {
    const { version, delivered } = await ml.emu.updateDesired(patch, MODULE);
    assert.equal(delivered, true, 'the module is subscribed to desired patches');
    await ml.until(
      () => keys.every((k) => ack(k)?.av === version),
      `acks of ${keys.join(', ')} for version ${version}`,
    );
    return version;
  }

  /**
   * Waits for the configChange check that follows a change: the first one whose report `matches`
   * (an earlier change's check may land in between), then compares it with the twin and telemetry.
   */
  async function configChangeCheck(what: string, matches: (r: Report) => boolean): Promise<Report> {
    const deadline = Date.now() + 10_000;
    let report = await lastReport();
    while (!(report.trigger === 'configChange' && matches(report))) {
      if (Date.now() > deadline)
        throw new Error(
          `no configChange check ${what}; last: ${report.trigger} ${report.checkId}\n${ml.diagnostics()}`,
        );
      await new Promise((r) => setTimeout(r, 50));
      report = await lastReport();
    }
    await ml.until(() => lastCheckId() === report.checkId, 'the twin shows the configChange check');
    assertTwinShowsReport(ml.reported(MODULE), report);
    assertTelemetryOf(await ml.eventFor(MODULE, report.checkId), report);
    return report;
  }

  it("applies and acknowledges the deployment's desired properties at start", async () => {
    const version = ml.emu.twin(MODULE).desired['$version'];
    assert.deepEqual({ ...ack('timeoutMs'), ad: 'x' }, { value: 2600, ac: 200, av: version, ad: 'x' });
    assert.deepEqual({ ...ack('telemetry'), ad: 'x' }, { value: 'always', ac: 200, av: version, ad: 'x' });
    assert.equal(typeof ack('timeoutMs')?.ad, 'string');
    const report = await lastReport();
    assert.equal(report.trigger, 'startup');
    assert.equal(report.status, 'healthy');
  });

  it('applies a valid timeoutMs, acknowledges it with ac 200 and the desired version, and checks again', async () => {
    const before = lastCheckId();
    const version = await change({ timeoutMs: 2700 });
    const a = ack('timeoutMs');
    assert.equal(a?.value, 2700);
    assert.equal(a?.ac, 200);
    assert.equal(a?.av, version);
    assert.equal(typeof a?.ad, 'string');
    await configChangeCheck('after timeoutMs changed', (r) => r.checkId !== before);
  });

  it('applies valid endpoints: the next check tests them', async () => {
    const endpoints = [{ host: LAB_ADDR.hub, port: 443 }];
    await change({ endpoints });
    assert.deepEqual(ack('endpoints')?.value, endpoints);
    assert.equal(ack('endpoints')?.ac, 200);
    const tested = (r: Report) =>
      r.components.firewall.endpoints.find((e) => e.host === LAB_ADDR.hub && e.port === 443);
    const report = await configChangeCheck('testing the new endpoint', (r) => tested(r) !== undefined);
    // Tested by address, so the hub's certificate (issued to its name) does not match: it was really probed.
    assert.equal(tested(report)?.role, 'custom');
    assert.equal(tested(report)?.outcome, 'tls-untrusted');
  });

  it('telemetry "onChange" is applied: a check that changes nothing sends no message', async () => {
    await change({ telemetry: 'onChange' });
    assert.deepEqual([ack('telemetry')?.value, ack('telemetry')?.ac], ['onChange', 200]);
    const first = reportFrom(await ml.invoke(MODULE, 'runDiagnostics', null, { responseTimeoutInSeconds: 10 }));
    const second = reportFrom(await ml.invoke(MODULE, 'runDiagnostics', null, { responseTimeoutInSeconds: 10 }));
    assert.equal(second.status, first.status);
    // The twin patch is published after the telemetry is queued: once it is in, a message would be too.
    await ml.until(() => lastCheckId() === second.checkId, 'the twin shows the second run');
    assert.equal(
      ml.emu.events.some((e) => e.bodyText.includes(second.checkId)),
      false,
      'no telemetry for an unchanged state',
    );
    await change({ telemetry: 'always' });
  });

  it('refuses invalid values with ac 400 and keeps the previous value', async () => {
    const before = await lastReport();
    const version = await change({ intervalSeconds: 5, upstreamProtocol: 'Http', endpoints: 'x', timeoutMs: 'fast' });
    const expect: Array<[string, unknown]> = [
      ['intervalSeconds', 300],
      ['upstreamProtocol', 'Amqp'],
      ['endpoints', [{ host: LAB_ADDR.hub, port: 443 }]],
      ['timeoutMs', 2700],
    ];
    for (const [key, previous] of expect) {
      const a = ack(key);
      assert.equal(a?.ac, 400, `${key} refused`);
      assert.equal(a?.av, version);
      assert.deepEqual(a?.value, previous, `${key} keeps its previous value`);
      assert.match(a?.ad ?? '', new RegExp(key), `the description names ${key}`);
    }
    // Nothing changed, so no configChange check: the configuration in effect is the old one.
    const now = reportFrom(await ml.invoke(MODULE, 'runDiagnostics', null, { responseTimeoutInSeconds: 10 }));
    assert.equal(now.components.firewall.upstreamProtocol, 'Amqp');
    assert.ok(now.components.firewall.endpoints.some((e) => e.host === LAB_ADDR.hub && e.port === 443));
    assert.notEqual(now.checkId, before.checkId);
    // Undo: the refused keys are removed from desired (their defaults or environment values apply).
    await change({ intervalSeconds: null, upstreamProtocol: null, endpoints: null, timeoutMs: null });
    assert.equal(ack('upstreamProtocol')?.ac, 200);
    assert.deepEqual(ack('endpoints')?.value, []);
  });

  it('refuses an unknown key with ac 400, and drops the refusal when the key goes', async () => {
    await change({ colour: 'blue' });
    assert.deepEqual([ack('colour')?.value, ack('colour')?.ac], ['blue', 400]);
    await ml.emu.updateDesired({ colour: null }, MODULE);
    await ml.until(() => !('colour' in ml.reported(MODULE)), 'the refusal of a removed key is gone');
  });

  it('survives malformed shapes: arrays and objects where scalars belong, deep nesting', async () => {
    let deep: JsonObject = { leaf: 'x' };
    for (let i = 0; i < 8; i++) deep = { [`level${i}`]: deep };
    const patches: JsonObject[] = [
      { timeoutMs: [1, 2], deadlineMs: { ms: 3000 } },
      { hub: { name: HUB_NAME }, interfaces: { eth0: true } },
      { dnsNames: [[['x']]], endpoints: [{ host: LAB_ADDR.hub, port: 443, extra: { x: 1 } }] },
      { telemetry: {}, intervalSeconds: [], expectedIp: 198 },
      { upstreamProtocol: deep, switchType: [deep] },
      { nested: deep, 'odd-key_1': [deep, deep] },
      {
        interfaces: Array.from({ length: 40 }, (_, i) => `eth${i}`),
        endpoints: Array.from({ length: 40 }, () => ({ host: 'h', port: 1 })),
      },
      { hub: 'x'.repeat(3000) },
    ];
    for (const patch of patches) {
      await ml.emu.updateDesired(patch, MODULE);
    }
    const version = await change({ timeoutMs: 2800 });
    assert.equal(ack('timeoutMs')?.av, version, 'the module still processes desired patches after all that');
    for (const key of [
      'deadlineMs',
      'hub',
      'interfaces',
      'dnsNames',
      'telemetry',
      'intervalSeconds',
      'expectedIp',
      'upstreamProtocol',
      'switchType',
    ]) {
      assert.equal(ack(key)?.ac, 400, `${key} refused`);
    }
    assert.equal(mod.running, true);
    const report = reportFrom(await ml.invoke(MODULE, 'runDiagnostics', null, { responseTimeoutInSeconds: 10 }));
    assert.equal(report.components.firewall.upstreamProtocol, 'Amqp', 'refused values were not applied');
    assert.deepEqual(
      report.components.ip.interfaces.map((i) => i.name),
      ['eth0'],
    );
    // Clean up for the next test: remove every key the patches set.
    const cleared: JsonObject = {};
    for (const p of patches) for (const k of Object.keys(p)) cleared[k] = null;
    await ml.emu.updateDesired(cleared, MODULE);
    await ml.until(() => !('nested' in ml.reported(MODULE)) && ack('hub')?.ac === 200, 'the refusals are replaced');
    await ml.until(() => ack('timeoutMs')?.value === 2500, 'timeoutMs is back to its environment value');
  });

  it("keeps the twin inside IoT Hub's limits with 16 long endpoints and many findings", async () => {
    // Nothing listens on these ports on the hub's address: 16 "rejected" findings with long subjects.
    const endpoints = LONG_NAMES.map((host, i) => ({ host, port: 20_001 + i }));
    await change({ endpoints, dnsNames: LONG_NAMES.slice(0, 8), upstreamProtocol: 'Mqtt' });
    assert.equal(ack('endpoints')?.ac, 200);
    const report = await configChangeCheck(
      'with the 16 endpoints',
      (r) => r.components.firewall.endpoints.length === 19,
    );
    const rejected = report.findings.filter((f) => f.code === 'FW_PORT_REJECTED');
    assert.equal(rejected.length, 16, 'one finding per closed endpoint');
    const reported = ml.reported(MODULE);
    const findings = reported['findings'] as JsonObject[];
    assert.ok(findings.length > 0, 'the most severe findings are in the twin');
    assert.equal(findings.length + (reported['findingsOmitted'] as number), report.findings.length);
    // Back to a small configuration: the twin shrinks again and shows no leftovers.
    await change({ endpoints: null, dnsNames: null, upstreamProtocol: null });
    const after = await configChangeCheck('back to the hub only', (r) => r.components.firewall.endpoints.length === 3);
    assert.equal(after.status, 'healthy');
    assert.deepEqual(ml.reported(MODULE)['findings'], []);
    assert.equal(ml.reported(MODULE)['findingsOmitted'], 0);
  });

  it('keeps the twin under 32 KB when every desired value is as long as allowed', async () => {
    // Paths of about 4000 characters (the validator allows 4096) that still name the lab's files.
    const long = (path: string): string => {
      const cut = path.lastIndexOf('/');
      return `${path.slice(0, cut)}/${'./'.repeat(1950)}${path.slice(cut + 1)}`;
    };
    const resolv3 = join(ml.lab.paths.dir, 'resolv-3.conf');
    writeFileSync(resolv3, resolvConf(LAB_ADDR.dns, LAB_ADDR.dns2, LAB_ADDR.dns3));
    const paths = {
      resolvConf: long(resolv3),
      resolvedConf: long(ml.lab.paths.resolvedConf),
      networkdDir: long(ml.lab.paths.networkdDir),
      leasesDir: long(ml.lab.paths.leasesDir),
      caFile: long(ml.lab.paths.caFile),
    };
    const endpoints = LONG_NAMES.map((host, i) => ({ host, port: 20_001 + i }));
    const unknown: JsonObject = {};
    for (let i = 0; i < 4; i++) unknown[`unknown${i}`] = 'u'.repeat(500);
    await change({ ...paths, endpoints, dnsNames: LONG_NAMES.slice(0, 8), ...unknown }, [
      ...Object.keys(paths),
      'endpoints',
      'dnsNames',
    ]);
    for (const key of Object.keys(paths)) assert.equal(ack(key)?.ac, 200, `${key} applied`);
    const report = await configChangeCheck(
      'with the long values',
      (r) => r.components.dns.servers.length === 3 && r.components.firewall.endpoints.length === 19,
    );
    assert.equal(report.components.dns.status, 'healthy', 'the long paths name the real files');
    assert.equal(report.findings.filter((f) => f.code === 'FW_PORT_REJECTED').length, 16);
    assert.deepEqual(
      ml.emu.rejectedPatches.map((p) => `${p.rule ?? ''}: ${p.error ?? ''}`),
      [],
    );
    const cleared: JsonObject = { endpoints: null, dnsNames: null };
    for (const k of [...Object.keys(paths), ...Object.keys(unknown)]) cleared[k] = null;
    await change(cleared, ['endpoints', 'resolvConf']);
    await configChangeCheck(
      'back to the defaults',
      (r) => r.components.firewall.endpoints.length === 3 && r.components.dns.servers.length === 1,
    );
    assert.deepEqual(ml.reported(MODULE)['findings'], []);
  });

  it("keeps every reported patch inside IoT Hub's twin rules, and logs cleanly", () => {
    assert.deepEqual(
      ml.emu.rejectedPatches.map((p) => `${p.rule ?? ''}: ${p.error ?? ''}`),
      [],
    );
    assertHealthyLogs(mod, [ml.emu.identity(MODULE)?.hubKey ?? '']);
  });
});

/**
 * The container vantage (CONTRACT.md 8.4): the same module, run in a namespace standing in for a
 * container on the azure-iot-edge network (field-container.ts: its own eth0 on a bridge in the vm,
 * NAT to the vm's eth0, Docker's embedded DNS at 127.0.0.11), reports the container's path under
 * its own twin with vantage "container", while the host-networked module reports the VM's. Each
 * break of the container path (field-container.ts breakContainerPath) shows in the container's
 * report only: the host vantage stays healthy. Scenarios share nothing and run concurrently.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import type { ComponentName, Report } from '../../src/report/types.js';
import type { JsonObject } from '../hub/twin-rules.js';
import { reportFrom } from '../module/assertions.js';
import { startModuleLab, type ModuleLab } from '../module/module-harness.js';
import { CONTAINER_ADDR, EMBEDDED_DNS, type ContainerBreak } from './field-container.js';
import { createFieldLab, type FieldLab, type FieldLabOptions } from './field-lab.js';
import { HUB_NAME, LAB_ADDR } from './harness.js';
import { requireLab } from './require-lab.js';

const skip = requireLab();
const FAST = ['--timeout', '1500', '--deadline', '6000'];
/** Only the hub: the other field endpoints are not what this is about. */
const HUB_ONLY: FieldLabOptions['hosts'] = { dps: false, registry: false, parent: false };

const codes = (r: Report) => r.findings.map((f) => `${f.severity} ${f.code} ${f.subject}`);

describe('container vantage: two modules, one per vantage, each under its own twin', { skip }, () => {
  let ml: ModuleLab;
  const HOST = 'netdiag';
  const CTR = 'netdiagContainer';

  before(async () => {
    ml = await startModuleLab({ label: 'ctr-vantage', fieldLab: { hosts: HUB_ONLY, container: true } });
    await Promise.all([ml.startModule({ moduleId: HOST }), ml.startModule({ moduleId: CTR, ns: 'ctr' })]);
    await ml.until(
      () => ml.reported(HOST)['lastCheck'] && ml.reported(CTR)['lastCheck'],
      'both startup reports',
      30_000,
    );
  });
  after(async () => {
    await ml?.close();
  });

  const run = async (moduleId: string): Promise<{ report: Report; reported: JsonObject }> => {
    const report = reportFrom(await ml.invoke(moduleId, 'runDiagnostics', null, { responseTimeoutInSeconds: 15 }));
    await ml.until(
      () => (ml.reported(moduleId)['lastCheck'] as { checkId?: string } | undefined)?.checkId === report.checkId,
      `${moduleId}'s twin shows the run`,
    );
    return { report, reported: ml.reported(moduleId) };
  };

  it("both healthy; the container's twin shows its own eth0, gateway and the embedded resolver, vantage container", async () => {
    const [host, ctr] = await Promise.all([run(HOST), run(CTR)]);
    assert.equal(host.report.status, 'healthy', codes(host.report).join('\n'));
    assert.equal(ctr.report.status, 'healthy', codes(ctr.report).join('\n'));
    assert.equal(host.reported['vantage'], 'host');
    assert.equal(ctr.reported['vantage'], 'container');
    assert.equal(ctr.report.vantage, 'container');
    const ip = ctr.reported['ip'] as { interfaces: JsonObject[]; defaultGateway: JsonObject };
    assert.deepEqual(ip.interfaces[0]?.['ipv4'], [`${CONTAINER_ADDR.ctr}/${CONTAINER_ADDR.prefixLength}`]);
    assert.equal(ip.defaultGateway['address'], CONTAINER_ADDR.bridge);
    assert.deepEqual(
      (ctr.reported['dns'] as { servers: JsonObject[] }).servers.map((s) => s['address']),
      [EMBEDDED_DNS],
    );
    const hostIp = host.reported['ip'] as { interfaces: JsonObject[] };
    assert.deepEqual(hostIp.interfaces[0]?.['ipv4'], [`${LAB_ADDR.vm}/24`]);
  });

  it('NAT gone from the container path: the container twin is unhealthy at DNS, the host twin stays healthy', async () => {
    await ml.fieldLab!.breakContainerPath('nat');
    const [host, ctr] = await Promise.all([run(HOST), run(CTR)]);
    assert.equal(host.report.status, 'healthy', codes(host.report).join('\n'));
    assert.equal(host.reported['status'], 'healthy');
    assert.equal(ctr.reported['status'], 'unhealthy', codes(ctr.report).join('\n'));
    assert.equal(ctr.reported['failingComponent'], 'dns');
    const findings = ctr.reported['findings'] as JsonObject[];
    assert.ok(
      findings.some(
        (f) => f['code'] === 'DNS_SERVER_NOT_ANSWERING' && f['subject'] === EMBEDDED_DNS && f['severity'] === 'error',
      ),
      codes(ctr.report).join('\n'),
    );
    assert.equal((ctr.reported['firewall'] as JsonObject)['status'], 'inconclusive', 'root cause first');
  });
});

interface BreakScenario {
  title: string;
  lab: FieldLabOptions;
  how: ContainerBreak;
  status: Report['status'];
  failingComponent: ComponentName;
  present: Array<{ code: string; severity: 'error' | 'warning'; subject: string }>;
  components?: Partial<Record<ComponentName, string>>;
}

const BREAKS: BreakScenario[] = [
  {
    title: 'the embedded resolver stops: DNS fails in the container only',
    lab: { hosts: HUB_ONLY, container: true },
    how: 'resolver',
    status: 'unhealthy',
    failingComponent: 'dns',
    present: [{ code: 'DNS_SERVER_NOT_ANSWERING', severity: 'error', subject: EMBEDDED_DNS }],
    components: { firewall: 'inconclusive' },
  },
  {
    title: 'forwarding off in the VM: nothing leaves the container (DNS first)',
    lab: { hosts: HUB_ONLY, container: true },
    how: 'forwarding',
    status: 'unhealthy',
    failingComponent: 'dns',
    present: [{ code: 'DNS_SERVER_NOT_ANSWERING', severity: 'error', subject: EMBEDDED_DNS }],
    components: { firewall: 'inconclusive' },
  },
  {
    title: 'an MTU black hole on the bridge: large TLS first flights stall in the container only',
    lab: { hosts: { ...HUB_ONLY, hub: { ports: { 443: 'large-chain' } } }, container: true },
    how: { mtuBlackhole: 1280 },
    status: 'unhealthy',
    failingComponent: 'firewall',
    present: [{ code: 'FW_TLS_FAILED', severity: 'error', subject: `${HUB_NAME}:443` }],
  },
];

describe(
  'container vantage: each break of the container path, the CLI in the container and in the VM',
  { skip },
  () => {
    for (const s of BREAKS) {
      test(s.title, async () => {
        const lab: FieldLab = await createFieldLab({ label: 'ctr-break', ...s.lab });
        try {
          const args = [...lab.hubArgs(), ...FAST];
          // No NETDIAG_VANTAGE here: the CLI finds out where it runs by itself.
          const healthy = await lab.runCheckInContainer(args);
          assert.ok(healthy.report, `${healthy.command}\n${healthy.stderr}`);
          assert.equal(healthy.report.status, 'healthy', codes(healthy.report).join('\n'));
          assert.equal(healthy.report.vantage, 'container');
          await lab.breakContainerPath(s.how);
          const [inCtr, inVm] = await Promise.all([lab.runCheckInContainer(args), lab.runCheck(args)]);
          assert.ok(inCtr.report && inVm.report, `${inCtr.stderr}\n${inVm.stderr}`);
          assert.equal(
            inVm.report.status,
            'healthy',
            `the VM's own path is untouched: ${codes(inVm.report).join('; ')}`,
          );
          assert.equal(inVm.report.vantage, 'host');
          const r = inCtr.report;
          assert.equal(r.status, s.status, codes(r).join('\n'));
          assert.equal(r.failingComponent, s.failingComponent, codes(r).join('\n'));
          for (const want of s.present)
            assert.ok(
              r.findings.some(
                (f) => f.code === want.code && f.severity === want.severity && f.subject === want.subject,
              ),
              `missing ${want.severity} ${want.code} ${want.subject} in:\n${codes(r).join('\n')}`,
            );
          for (const [component, status] of Object.entries(s.components ?? {}))
            assert.equal(r.components[component as ComponentName].status, status, component);
        } finally {
          await lab.destroy();
        }
      });
    }
  },
);

// Captures real module outputs (twin, telemetry, a refused method call) for the README. Not a test.
import { startModuleLab } from '../test/module/module-harness.js';

const ml = await startModuleLab({ label: 'readme' });
try {
  await ml.lab.reject({ protocol: 'tcp', port: 5671 });
  const mod = await ml.startModule({
    moduleId: 'netdiag',
    env: { NETDIAG_LOG_LEVEL: 'warn' },
    desired: { intervalSeconds: 600, colour: 'blue' },
  });
  await ml.until(() => ml.reported('netdiag')['lastCheck'], 'startup report', 60_000);
  const res = await ml.invoke('netdiag', 'runDiagnostics', null, { responseTimeoutInSeconds: 30 });
  const report = res.payload as { checkId: string };
  await ml.until(
    () => (ml.reported('netdiag')['lastCheck'] as { checkId?: string } | undefined)?.checkId === report.checkId,
    'twin',
    20_000,
  );
  const event = await ml.eventFor('netdiag', report.checkId);
  const bad = await ml.invoke('netdiag', 'runDiagnostics', { deadlineMs: 999999 });
  console.log('=== REPORTED');
  console.log(JSON.stringify(ml.reported('netdiag'), null, 2));
  console.log('=== TELEMETRY');
  const body: unknown = JSON.parse(event.body.toString());
  console.log(JSON.stringify({ properties: event.properties, body }, null, 2));
  console.log('=== 400');
  console.log(JSON.stringify({ status: bad.status, payload: bad.payload }, null, 2));
  await mod.stop();
} finally {
  await ml.close();
}

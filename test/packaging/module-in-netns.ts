/**
 * Started by production-install.test.ts inside a fresh network namespace (as root): runs the
 * edgeHub emulator on this namespace's loopback, starts the production install's
 * `node dist/main.js module` against it as uid 1000 — the image's user — and prints what happened
 * as one JSON line on stdout for the test to judge. It asserts nothing itself.
 *
 * argv: <production install dir> <desired properties JSON> <empty scratch dir>
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runtimeEnv } from '../../scripts/dockerfile.mjs';
import { startEdgeHubEmulator, type EdgeHubEmulator } from '../hub/emulator.js';
import type { JsonObject } from '../hub/twin-rules.js';
import { parseIotEdgeLine } from '../support/iotedge-log.js';
import { IMAGE_UID, asUser, cleanEnv } from './netns.js';

const MODULE = 'netdiag';
const WAIT_MS = 30_000;

export interface ModuleRunOutcome {
  connected: boolean;
  clientId: string | null;
  /** The Uid line of /proc/<pid>/status while the module ran: real, effective, saved, fs. */
  uids: number[] | null;
  reportedStatus: boolean;
  twin: { desired: JsonObject; reported: JsonObject } | null;
  event: {
    outputName: string | null;
    contentType: string | null;
    contentEncoding: string | null;
    properties: Record<string, string>;
    body: unknown;
  } | null;
  /** getLastReport's answer once the first check was published: status and payload. */
  lastReport: { status: number; payload: unknown } | null;
  /** Lines of the module's output, and those that are not IoT Edge log lines (its default format). */
  logLines: number;
  strayLines: string[];
  exit: { code: number | null; signal: string | null } | null;
  errors: string[];
  output: string;
}

async function main(): Promise<void> {
  const [prodDir, desiredJson, scratch] = process.argv.slice(2);
  if (!prodDir || !desiredJson || !scratch)
    throw new Error('usage: module-in-netns.ts <prodDir> <desiredJson> <scratchDir>');
  const outcome: ModuleRunOutcome = {
    connected: false,
    clientId: null,
    uids: null,
    reportedStatus: false,
    twin: null,
    event: null,
    lastReport: null,
    logLines: 0,
    strayLines: [],
    exit: null,
    errors: [],
    output: '',
  };
  let emu: EdgeHubEmulator | undefined;
  let child: ReturnType<typeof spawn> | undefined;
  let output = '';
  try {
    emu = await startEdgeHubEmulator({ modules: [MODULE] });
    // The twin the deployment creates: its desired properties are there before the module starts.
    emu.setDesired(JSON.parse(desiredJson) as JsonObject, MODULE);
    const env = emu.env(MODULE);
    // edgeAgent mounts the workload socket where the module's user can use it; here it is root's temp dir.
    const socket = (env['IOTEDGE_WORKLOADURI'] ?? '').replace(/^unix:\/\//, '');
    chmodSync(dirname(socket), 0o755);
    chmodSync(socket, 0o666);

    const moduleEnv = cleanEnv({
      ...env,
      // Keep the module's own checks on files the test controls (the namespace holds no network anyway).
      NETDIAG_RESOLV_CONF: join(scratch, 'resolv.conf'),
      NETDIAG_RESOLVED_CONF: join(scratch, 'absent'),
      NETDIAG_NETWORKD_DIR: join(scratch, 'absent'),
      NETDIAG_LEASES_DIR: join(scratch, 'absent'),
      NETDIAG_AZIOT_CONFIG: join(scratch, 'absent'),
      // DPS and the registry as the hub: no public default; and no host proxy settings.
      NETDIAG_DPS: env['IOTEDGE_IOTHUBHOSTNAME'] ?? 'localhost',
      NETDIAG_REGISTRY: env['IOTEDGE_IOTHUBHOSTNAME'] ?? 'localhost',
      NETDIAG_SYSTEMD_DIR: join(scratch, 'absent'),
      // The image's runtime settings (the Dockerfile's ENV), so the module is proven with them.
      ...imageRuntimeEnv(),
    });
    const [cmd, ...args] = asUser([process.execPath, 'dist/main.js', 'module'], IMAGE_UID);
    child = spawn(cmd as string, args, { cwd: prodDir, env: moduleEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

    const connection = await emu.waitForConnection((c) => c.moduleId === MODULE && c.accepted, WAIT_MS);
    outcome.connected = true;
    outcome.clientId = connection.clientId;
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      outcome.uids = (/^Uid:\s+(.+)$/m.exec(status)?.[1] ?? '').trim().split(/\s+/).map(Number);
    } catch (err) {
      outcome.errors.push(`uid: ${String(err)}`);
    }
    await emu.waitForReportedPatch(
      (p) => p.accepted && typeof p.patch === 'object' && p.patch !== null && 'status' in p.patch,
      WAIT_MS,
    );
    outcome.reportedStatus = true;
    const event = await emu.waitForEvent((e) => e.moduleId === MODULE, WAIT_MS);
    let body: unknown = event.bodyText;
    try {
      body = JSON.parse(event.bodyText) as unknown;
    } catch {
      // kept as text
    }
    outcome.event = {
      outputName: event.outputName ?? null,
      contentType: event.contentType ?? null,
      contentEncoding: event.contentEncoding ?? null,
      properties: event.properties,
      body,
    };
    outcome.twin = emu.twin(MODULE);
    const last = await emu.invokeMethod(emu.deviceId, MODULE, 'getLastReport', null, { responseTimeoutInSeconds: 20 });
    outcome.lastReport = { status: last.status, payload: last.payload };

    child.kill('SIGTERM');
    const bounded = new Promise<null>((r) => setTimeout(() => r(null), 10_000).unref());
    const result = await Promise.race([exited, bounded]);
    if (result) outcome.exit = { code: result[0], signal: result[1] };
    else outcome.errors.push('the module did not exit within 10 s of SIGTERM');
  } catch (err) {
    outcome.errors.push(err instanceof Error ? err.message : String(err));
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await emu?.close().catch((err: unknown) => outcome.errors.push(`emulator close: ${String(err)}`));
    outcome.output = output.slice(-4000);
    const lines = output.split('\n').filter((l) => l.trim() !== '');
    outcome.logLines = lines.length;
    outcome.strayLines = lines.filter((l) => !parseIotEdgeLine(l)).slice(0, 20);
    process.stdout.write(`${JSON.stringify(outcome)}\n`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

/** The runtime stage's ENV exactly as the Dockerfile sets it. */
function imageRuntimeEnv(): Record<string, string> {
  const env = runtimeEnv(readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8'));
  if (!env['NODE_OPTIONS']) throw new Error('the Dockerfile sets no NODE_OPTIONS: update imageRuntimeEnv');
  return env;
}

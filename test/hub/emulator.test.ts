/**
 * The emulator against the real Node SDK (ModuleClient.fromEnvironment + Mqtt), in process.
 * Each test uses its own module identity so sessions and twins do not leak between tests.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { DeviceMethodRequest, DeviceMethodResponse, ModuleClient } from 'azure-iot-device';
import { startEdgeHubEmulator } from './emulator.js';
import type { EdgeHubEmulator } from './emulator.js';
import { eventually, Message, moduleClientFromEnv, updateReported, within } from './sdk-client.js';
import { DESIRED_FILTER, METHODS_FILTER, TWIN_RES_FILTER } from './topics.js';
import type { JsonObject } from './twin-rules.js';

let seq = 0;
const uniqueModule = (label: string): string => `${label}${++seq}`;

/** Opens a client for `moduleId`; registers it to be closed when the test ends, pass or fail. */
async function openClient(
  emu: EdgeHubEmulator,
  moduleId: string,
  t: { after: (fn: () => Promise<void>) => void },
): Promise<ModuleClient> {
  const client = await moduleClientFromEnv(emu.env(moduleId));
  // Without an 'error' listener a failed feature re-enable crashes the process.
  client.on('error', () => undefined);
  t.after(async () => {
    await client.close().catch(() => undefined);
  });
  await within(client.open(), 15_000, 'open');
  return client;
}

describe('edgeHub emulator with a real ModuleClient', () => {
  let emu: EdgeHubEmulator;
  before(async () => {
    emu = await startEdgeHubEmulator();
  });
  after(async () => {
    await emu.close();
  });

  it('gives the IoT Edge environment a module needs', () => {
    const env = emu.env('envcheck');
    assert.deepEqual(Object.keys(env).sort(), [
      'IOTEDGE_APIVERSION',
      'IOTEDGE_AUTHSCHEME',
      'IOTEDGE_DEVICEID',
      'IOTEDGE_GATEWAYHOSTNAME',
      'IOTEDGE_IOTHUBHOSTNAME',
      'IOTEDGE_MODULEGENERATIONID',
      'IOTEDGE_MODULEID',
      'IOTEDGE_WORKLOADURI',
    ]);
    assert.equal(env['IOTEDGE_GATEWAYHOSTNAME'], `localhost:${emu.port}`);
    assert.match(env['IOTEDGE_WORKLOADURI'] ?? '', /^unix:\/\/\/.+workload\.sock$/);
    assert.equal(env['IOTEDGE_AUTHSCHEME'], 'sasToken');
    assert.equal(env['IOTEDGE_MODULEGENERATIONID'], emu.identity('envcheck')?.generationId);
  });

  it('accepts a module whose SAS token was signed through the workload API', async (t) => {
    const moduleId = uniqueModule('open');
    const client = await openClient(emu, moduleId, t);
    assert.ok(client);
    assert.ok(emu.workload.signCount(moduleId) >= 1, 'the SDK signed its token through the workload API');
    assert.ok(emu.workload.calls.some((c) => c.route === 'trust-bundle' && c.status === 200));
    const record = emu.connections.find((c) => c.moduleId === moduleId);
    assert.equal(record?.accepted, true);
    assert.equal(record?.clientId, `${emu.deviceId}/${moduleId}`);
    assert.equal(record?.clean, false, 'the SDK asks for a persistent session');
    assert.ok(record?.username.startsWith(`${emu.hubHostName}/${emu.deviceId}/${moduleId}/?api-version=`));
    assert.ok((record?.tokenExpiresAt?.getTime() ?? 0) > Date.now());
    assert.equal(emu.isConnected(moduleId), true);
    const log = JSON.stringify(emu.connections);
    assert.doesNotMatch(log, /SharedAccessSignature|sig=/, 'no token in the connection log');
  });

  it('refuses a module whose workload key does not match its hub identity', async (t) => {
    const moduleId = uniqueModule('wrongkey');
    emu.registerModule(moduleId, { workloadKey: randomBytes(32).toString('base64') });
    const client = await moduleClientFromEnv(emu.env(moduleId));
    client.on('error', () => undefined);
    t.after(async () => {
      await client.close().catch(() => undefined);
    });
    await assert.rejects(within(client.open(), 15_000, 'open'), (err: Error) => {
      assert.match(err.message, /Not authorized|Unauthorized|Connection refused/i);
      return true;
    });
    const record = emu.connections.find((c) => c.moduleId === moduleId);
    assert.equal(record?.accepted, false);
    assert.equal(record?.reason, 'bad-signature');
    assert.equal(emu.isConnected(moduleId), false);
  });

  it('returns desired and reported properties with their $version on getTwin', async (t) => {
    const moduleId = uniqueModule('twin');
    emu.registerModule(moduleId);
    const version = emu.setDesired({ intervalSeconds: 60, telemetry: 'onChange' }, moduleId);
    assert.equal(version, 2);
    const client = await openClient(emu, moduleId, t);
    const twin = await within(client.getTwin(), 10_000, 'getTwin');
    assert.equal(twin.properties.desired['intervalSeconds'], 60);
    assert.equal(twin.properties.desired['telemetry'], 'onChange');
    assert.equal(twin.properties.desired['$version'], 2);
    assert.equal(twin.properties.reported['$version'], 1);
    assert.equal(emu.twinGets.filter((g) => g.moduleId === moduleId && g.delivered).length, 1);
  });

  it('merges reported patches like IoT Hub: null deletes, arrays are replaced, $version increments', async (t) => {
    const moduleId = uniqueModule('reported');
    const client = await openClient(emu, moduleId, t);
    const twin = await within(client.getTwin(), 10_000, 'getTwin');
    await updateReported(twin, { status: 'ok', findings: [1, 2, 3], dns: { a: 1, b: 2 }, stale: true });
    await updateReported(twin, { findings: [9], dns: { b: null, c: 3 }, stale: null });
    const { reported } = emu.twin(moduleId);
    assert.deepEqual(reported, { status: 'ok', findings: [9], dns: { a: 1, c: 3 }, $version: 3 });
    assert.deepEqual(
      emu.acceptedPatches.filter((p) => p.moduleId === moduleId).map((p) => p.version),
      [2, 3],
    );
    // A fresh GET shows the service's view (the SDK's local cache merges arrays element-wise).
    const again = await within(client.getTwin(), 10_000, 'getTwin');
    assert.deepEqual(again.properties.reported['findings'], [9]);
    assert.equal(again.properties.reported['$version'], 3);
  });

  it('refuses invalid reported patches with an error the SDK callback sees', async (t) => {
    const moduleId = uniqueModule('invalid');
    const client = await openClient(emu, moduleId, t);
    const twin = await within(client.getTwin(), 10_000, 'getTwin');
    let deep: JsonObject = { leaf: 1 };
    for (let i = 0; i < 11; i++) deep = { [`l${i}`]: deep };
    const big: JsonObject = {};
    for (let i = 0; i < 9; i++) big[`part${i}`] = 'x'.repeat(4000);
    const cases: { patch: JsonObject; rule: string; message: RegExp }[] = [
      { patch: { 'a.b': 1 }, rule: 'key-invalid-char', message: /invalid character/ },
      { patch: { s: 'x'.repeat(5 * 1024) }, rule: 'string-too-long', message: /exceeds maximum length of 4096/ },
      { patch: deep, rule: 'too-deep', message: /depth/ },
      { patch: big, rule: 'patch-too-large', message: /exceeds maximum 32768/ },
    ];
    for (const c of cases) {
      await assert.rejects(within(updateReported(twin, c.patch), 10_000, c.rule), c.message, c.rule);
    }
    const rejected = emu.rejectedPatches.filter((p) => p.moduleId === moduleId);
    assert.deepEqual(
      rejected.map((p) => p.rule),
      cases.map((c) => c.rule),
    );
    assert.deepEqual(emu.twin(moduleId).reported, { $version: 1 }, 'nothing was applied');
    // The connection survives a refused patch.
    await updateReported(twin, { fine: true });
    assert.equal(emu.twin(moduleId).reported['$version'], 2);
  });

  it('refuses a patch that would push the merged reported section over 32 KB', async (t) => {
    const moduleId = uniqueModule('grow');
    const client = await openClient(emu, moduleId, t);
    const twin = await within(client.getTwin(), 10_000, 'getTwin');
    for (let i = 0; i < 8; i++) await updateReported(twin, { [`s${i}`]: 'x'.repeat(4000) });
    await assert.rejects(updateReported(twin, { more: 'x'.repeat(1000) }), /exceed maximum 32768/);
    assert.equal(emu.rejectedPatches.at(-1)?.rule, 'section-too-large');
  });

  it('delivers desired property patches to the properties.desired listener', async (t) => {
    const moduleId = uniqueModule('desired');
    emu.registerModule(moduleId);
    emu.setDesired({ intervalSeconds: 300 }, moduleId);
    const client = await openClient(emu, moduleId, t);
    const twin = await within(client.getTwin(), 10_000, 'getTwin');
    const seen: JsonObject[] = [];
    twin.on('properties.desired', (delta: JsonObject) => seen.push(delta));
    await eventually(
      () => emu.subscriptions(moduleId).includes(DESIRED_FILTER),
      'the module subscribes to desired patches',
    );
    await eventually(() => seen.length >= 1, 'the listener gets the current desired properties');
    assert.equal(seen[0]?.['intervalSeconds'], 300);

    const result = await emu.updateDesired({ intervalSeconds: 45, telemetry: 'off' }, moduleId);
    assert.deepEqual(result, { version: 3, delivered: true });
    await eventually(() => seen.length >= 2, 'the desired patch arrives');
    assert.deepEqual(seen[1], { intervalSeconds: 45, telemetry: 'off', $version: 3 });
    assert.deepEqual(emu.twin(moduleId).desired, { intervalSeconds: 45, telemetry: 'off', $version: 3 });
  });

  it('round-trips a direct method with status and payload', async (t) => {
    const moduleId = uniqueModule('method');
    const client = await openClient(emu, moduleId, t);
    const received: unknown[] = [];
    client.onMethod('runDiagnostics', (req?: DeviceMethodRequest, res?: DeviceMethodResponse) => {
      if (!req || !res) return;
      received.push(req.payload);
      void res.send(req.payload === null ? 200 : 202, { echo: req.payload as unknown });
    });
    await eventually(() => emu.subscriptions(moduleId).includes(METHODS_FILTER), 'the module subscribes to methods');

    const withPayload = await emu.invokeMethod(emu.deviceId, moduleId, 'runDiagnostics', { components: ['dns'] });
    assert.deepEqual(withPayload, {
      status: 202,
      payload: { echo: { components: ['dns'] } },
      rawPayload: '{"echo":{"components":["dns"]}}',
    });
    const noPayload = await emu.invokeMethod(emu.deviceId, moduleId, 'runDiagnostics');
    assert.equal(noPayload.status, 200);
    assert.deepEqual(noPayload.payload, { echo: null });
    assert.deepEqual(received, [{ components: ['dns'] }, null]);
    assert.deepEqual(
      emu.methodCalls.filter((c) => c.moduleId === moduleId).map((c) => [c.outcome, c.status]),
      [
        ['answered', 202],
        ['answered', 200],
      ],
    );
  });

  it('lets the SDK answer a malformed (empty) method payload itself with 400', async (t) => {
    const moduleId = uniqueModule('badpayload');
    const client = await openClient(emu, moduleId, t);
    let handlerCalls = 0;
    client.onMethod('runDiagnostics', (_req?: DeviceMethodRequest, res?: DeviceMethodResponse) => {
      handlerCalls++;
      void res?.send(200);
    });
    await eventually(() => emu.subscriptions(moduleId).includes(METHODS_FILTER), 'the module subscribes to methods');
    const result = await emu.invokeMethod(emu.deviceId, moduleId, 'runDiagnostics', undefined, { rawBody: '' });
    assert.equal(result.status, 400);
    assert.match(String(result.payload), /Invalid request format/);
    assert.equal(handlerCalls, 0);
  });

  it('answers 504 when the module does not respond in time and 404 when it is not there', async (t) => {
    const moduleId = uniqueModule('silent');
    const client = await openClient(emu, moduleId, t);
    client.onMethod('getLastReport', () => undefined); // never answers
    await eventually(() => emu.subscriptions(moduleId).includes(METHODS_FILTER), 'the module subscribes to methods');
    const timedOut = await emu.invokeMethod(emu.deviceId, moduleId, 'getLastReport', null, {
      responseTimeoutInSeconds: 1,
    });
    assert.equal(timedOut.status, 504);
    assert.equal(emu.methodCalls.at(-1)?.outcome, 'timeout');

    const absent = await emu.invokeMethod(emu.deviceId, uniqueModule('nobody'), 'getLastReport');
    assert.equal(absent.status, 404);
    await assert.rejects(
      emu.invokeMethod(emu.deviceId, moduleId, 'getLastReport', { blob: 'x'.repeat(128 * 1024) }),
      /128|131072/,
    );
  });

  it('records output events with $.on, content type/encoding and application properties', async (t) => {
    const moduleId = uniqueModule('events');
    const client = await openClient(emu, moduleId, t);
    const since = emu.events.length;
    const msg = new Message(JSON.stringify({ status: 'error', failingComponent: 'dns' }));
    msg.contentType = 'application/json';
    msg.contentEncoding = 'utf-8';
    msg.messageId = 'check-42';
    msg.properties.add('status', 'error');
    msg.properties.add('failingComponent', 'dns');
    msg.properties.add('odd key&=', 'v/1 2');
    await within(client.sendOutputEvent('diagnostics', msg), 10_000, 'sendOutputEvent');
    const event = await emu.waitForEvent((e) => e.moduleId === moduleId, 5000, since);
    assert.equal(event.outputName, 'diagnostics');
    assert.equal(event.contentType, 'application/json');
    assert.equal(event.contentEncoding, 'utf-8');
    assert.equal(event.messageId, 'check-42');
    assert.equal(event.qos, 1);
    assert.deepEqual(event.properties, { status: 'error', failingComponent: 'dns', 'odd key&=': 'v/1 2' });
    assert.deepEqual(JSON.parse(event.bodyText), { status: 'error', failingComponent: 'dns' });
  });

  it('kicks the older connection when a second one uses the same identity', async (t) => {
    const moduleId = uniqueModule('dup');
    const first = await openClient(emu, moduleId, t);
    assert.ok(first);
    const since = emu.disconnections.length;
    const second = await openClient(emu, moduleId, t);
    const kicked = await emu.waitForDisconnection((d) => d.moduleId === moduleId, 5000, since);
    assert.equal(kicked.clientId, `${emu.deviceId}/${moduleId}`);
    const twin = await within(second.getTwin(), 10_000, 'getTwin on the new connection');
    assert.equal(twin.properties.reported['$version'], 1);
  });
});

describe('edgeHub emulator restarts', () => {
  it('keeps the session across a broker restart, so the SDK twin still works after reconnecting', async (t) => {
    const emu = await startEdgeHubEmulator();
    t.after(() => emu.close());
    const moduleId = 'restart';
    const client = await openClient(emu, moduleId, t);
    const twin = await within(client.getTwin(), 10_000, 'getTwin');
    await updateReported(twin, { phase: 'before' });
    const port = emu.port;

    await emu.stopBroker();
    assert.equal(emu.brokerListening, false);
    assert.equal(emu.isConnected(moduleId), false);
    await emu.updateDesired({ changedWhileDown: true }, moduleId); // the twin lives on while edgeHub is down
    await emu.startBroker();
    assert.equal(emu.port, port, 'same port after restart');

    // The module's own retry loop: the SDK reconnects on the next operation, without re-subscribing
    // $iothub/twin/res/#, so this works only because the session kept the subscription.
    const connectsBefore = emu.connections.filter((c) => c.accepted).length;
    let fresh;
    for (let attempt = 1; ; attempt++) {
      try {
        fresh = await within(client.getTwin(), 10_000, 'getTwin after restart');
        break;
      } catch (err) {
        if (attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
    assert.ok(emu.connections.filter((c) => c.accepted).length > connectsBefore, 'the module reconnected');
    assert.equal(emu.connections.at(-1)?.clean, false);
    assert.ok(emu.subscriptions(moduleId).includes(TWIN_RES_FILTER), 'subscription restored from the session');
    assert.equal(fresh.properties.desired['changedWhileDown'], true);
    assert.equal(fresh.properties.reported['phase'], 'before');
    await updateReported(fresh, { phase: 'after' });
    assert.equal(emu.twin(moduleId).reported['phase'], 'after');
  });

  it('can start with edgeHub absent; open fails at once (no SDK retry) until the broker is up', async (t) => {
    const emu = await startEdgeHubEmulator({ brokerListening: false });
    t.after(() => emu.close());
    assert.equal(emu.brokerListening, false);
    const client = await moduleClientFromEnv(emu.env('latecomer'));
    client.on('error', () => undefined);
    t.after(async () => {
      await client.close().catch(() => undefined);
    });
    await assert.rejects(
      within(client.open(), 15_000, 'open while edgeHub is absent'),
      /ECONNREFUSED|first connection/,
    );
    assert.equal(emu.connections.length, 0);

    await emu.startBroker();
    let opened = false;
    for (let attempt = 1; !opened; attempt++) {
      try {
        await within(client.open(), 15_000, 'open');
        opened = true;
      } catch (err) {
        if (attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
    assert.equal(emu.isConnected('latecomer'), true);
  });

  it('drops connections on kickClients while staying up', async (t) => {
    const emu = await startEdgeHubEmulator();
    t.after(() => emu.close());
    await openClient(emu, 'kicked', t);
    assert.equal(await emu.kickClients(), 1);
    assert.equal(emu.isConnected('kicked'), false);
    assert.equal(emu.brokerListening, true);
  });
});

describe('edgeHub emulator with a module in a child process', () => {
  it('serves a module started like edgeAgent starts it, once edgeHub comes up', async (t) => {
    const emu = await startEdgeHubEmulator({ brokerListening: false });
    t.after(() => emu.close());
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) {
      if (k.startsWith('IOTEDGE_') || /ConnectionString|EdgeModuleCACertificateFile/.test(k)) delete env[k];
    }
    Object.assign(env, emu.env('child'));
    const fixture = fileURLToPath(new URL('./fixtures/echo-module.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = once(child, 'exit');
    t.after(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    });

    // The module is up and retrying against a closed port before edgeHub starts.
    await eventually(() => /open attempt 1 failed/.test(output), 'the module fails its first open', 20_000);
    assert.equal(emu.connections.length, 0);
    await emu.startBroker();

    const event = await emu.waitForEvent((e) => e.moduleId === 'child', 20_000);
    assert.equal(event.outputName, 'diagnostics');
    assert.deepEqual(event.properties, { status: 'ok' });
    assert.deepEqual(JSON.parse(event.bodyText), { hello: 'from a child process' });
    assert.equal(emu.twin('child').reported['started'], true);
    assert.equal(emu.twin('child').reported['pid'], child.pid);
    assert.ok(emu.workload.signCount('child') >= 1);

    await eventually(() => emu.subscriptions('child').includes(METHODS_FILTER), 'the child subscribes to methods');
    const answer = await emu.invokeMethod(emu.deviceId, 'child', 'ping', { n: 1 });
    assert.deepEqual(answer.payload, { pong: { n: 1 }, pid: child.pid });

    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.equal(code, 0, output);
    await emu.waitForDisconnection((d) => d.moduleId === 'child', 5000);
  });
});

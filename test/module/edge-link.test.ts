/**
 * EdgeLink, the module's SDK boundary, in this process against the edgeHub emulator on loopback,
 * with the real azure-iot-device SDK (no lab needed: it checks nothing on the network):
 * - an unknown direct method is answered 404 with the known names, where the SDK alone lets it
 *   time out; known methods still reach their handler; the hook is back after a reconnect, and a
 *   change of the SDK's private surface that breaks it fails here;
 * - the SDK's own retries are off (NoRetry), set before the first open;
 * - telemetry carries the messageId it is given (the agent gives the checkId);
 * - the reconnect backoff.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import commonSdk from 'azure-iot-common';
import deviceSdk from 'azure-iot-device';
import type { ModuleClient } from 'azure-iot-device';
import deviceMqtt from 'azure-iot-device-mqtt';
import { createLogger } from '../../src/log.js';
import { EdgeLink, METHODS, backoffMs, type EdgeHandlers } from '../../src/module/edge.js';
import { answerUnknownMethods, hookSeesMethods } from '../../src/module/unknown-methods.js';
import { startEdgeHubEmulator, type EdgeHubEmulator } from '../hub/emulator.js';
import { moduleClientFromEnv } from '../hub/sdk-client.js';
import { parseIotEdgeLine } from '../support/iotedge-log.js';
import { waitUntil } from './module-harness.js';

const { NoRetry, errors } = commonSdk;
const { ModuleClient: ModuleClientCtor } = deviceSdk;
const { Mqtt } = deviceMqtt;
const MODULE = 'netdiag';
const METHODS_FILTER = '$iothub/methods/POST/#';

describe('EdgeLink against the edgeHub emulator', () => {
  let emu: EdgeHubEmulator;
  let link: EdgeLink;
  const handled: string[] = [];
  const logLines: string[] = [];
  /** What the link did to each client it created, in order. */
  const calls: string[] = [];
  const policies: unknown[] = [];
  let connections = 0;

  before(async () => {
    emu = await startEdgeHubEmulator({ modules: [MODULE] });
    const log = createLogger({ level: 'debug', destination: { write: (l: string) => logLines.push(l) } });
    const handlers: EdgeHandlers = {
      onDesired: () => undefined,
      onMethod: (name) => {
        handled.push(name);
        return Promise.resolve({ status: 200, payload: { handledBy: name } });
      },
      onConnected: () => {
        connections++;
      },
    };
    link = new EdgeLink(log, handlers, async () => {
      const client = await moduleClientFromEnv(emu.env(MODULE));
      // Spies on the two calls whose order matters; both still do what they do.
      const setRetryPolicy = client.setRetryPolicy.bind(client);
      client.setRetryPolicy = (policy) => {
        calls.push('setRetryPolicy');
        policies.push(policy);
        setRetryPolicy(policy);
      };
      const open = client.open.bind(client) as () => Promise<unknown>;
      (client as { open: () => Promise<unknown> }).open = () => {
        calls.push('open');
        return open();
      };
      return client;
    });
    link.start();
    await waitUntil(() => link.connected, 'the link is connected', 20_000);
    // onMethod subscribes in the background: the link is usable before edgeHub routes methods to it.
    await waitUntil(() => emu.subscriptions(MODULE).includes(METHODS_FILTER), 'the module subscribes to methods');
  });

  after(async () => {
    await link?.close();
    await emu?.close();
  });

  const invoke = (method: string, payload: unknown = null) =>
    // 20 s: if the hook did not answer, the emulator's 504 comes only after the whole timeout.
    emu.invokeMethod(emu.deviceId, MODULE, method, payload, { responseTimeoutInSeconds: 20 });

  test('an unknown method is answered 404 with the names of the known ones, and the link says the hook is on', async () => {
    assert.equal(link.unknownMethodsAnswered, true, 'the hook installed itself on this SDK and sees its handlers');
    const r = await invoke('reboot', { now: true });
    assert.equal(r.status, 404, `status ${r.status}: ${r.rawPayload}`);
    assert.deepEqual(r.payload, {
      error: {
        code: 'UnknownMethod',
        message: 'the module has no direct method "reboot"; its methods are runDiagnostics, getLastReport',
        methods: ['runDiagnostics', 'getLastReport'],
      },
    });
    assert.equal(emu.methodCalls.at(-1)?.outcome, 'answered', 'the module answered; IoT Hub did not time out');
    assert.deepEqual(handled, [], 'no handler ran for it');
    // Logged once the SDK has published the answer, which may be just after the caller got it.
    const logged = await waitUntil(
      () =>
        logLines.map((l) => parseIotEdgeLine(l.trimEnd())).find((l) => l?.msg === 'unknown direct method answered 404'),
      'the answer is logged',
    );
    assert.equal(logged.fields['method'], 'reboot');
  });

  test('known methods still reach their handler', async () => {
    for (const name of METHODS) {
      const r = await invoke(name);
      assert.equal(r.status, 200, `${name}: ${r.rawPayload}`);
      assert.deepEqual(r.payload, { handledBy: name });
    }
    assert.deepEqual(handled, [...METHODS]);
  });

  test("the SDK's retries are off: NoRetry, set on each client before it opens", () => {
    assert.deepEqual(calls.slice(0, 2), ['setRetryPolicy', 'open']);
    const policy = policies[0];
    assert.ok(policy instanceof NoRetry, 'the policy is azure-iot-common NoRetry');
    // The errors the SDK's default policy would retry for up to 240 s.
    for (const err of [
      new errors.NotConnectedError('x'),
      new errors.TimeoutError('x'),
      new errors.ThrottlingError('x'),
    ])
      assert.equal(policy.shouldRetry(err), false, err.name);
  });

  test('telemetry carries the messageId it is given', async () => {
    const since = emu.events.length;
    await link.sendOutput('diagnostics', {
      body: JSON.stringify({ checkId: 'c0ffee00-1' }),
      properties: { status: 'healthy' },
      messageId: 'c0ffee00-1',
    });
    const event = await emu.waitForEvent((e) => e.moduleId === MODULE, 10_000, since);
    assert.equal(event.messageId, 'c0ffee00-1');
    assert.equal(event.systemProperties['$.mid'], 'c0ffee00-1');
    assert.equal(event.properties['status'], 'healthy');
  });

  test('after edgeHub drops the connection, the new client is hooked too and has NoRetry', async () => {
    const before = connections;
    const clients = calls.filter((c) => c === 'open').length;
    assert.equal(await emu.kickClients(), 1);
    await waitUntil(() => connections > before && link.connected, 'the link reconnected', 30_000);
    await waitUntil(() => emu.subscriptions(MODULE).includes(METHODS_FILTER), 'the new client subscribes to methods');
    assert.ok(calls.filter((c) => c === 'open').length > clients, 'a new client was opened');
    assert.ok(policies.at(-1) instanceof NoRetry);
    const r = await invoke('Reboot');
    assert.equal(r.status, 404, `status ${r.status}: ${r.rawPayload}`);
    assert.deepEqual((r.payload as { error: { methods: string[] } }).error.methods, [...METHODS]);
    assert.equal((await invoke('getLastReport')).status, 200);
  });
});

describe('answerUnknownMethods on the installed SDK', () => {
  // A client that is never opened and gets no handler (onMethod would connect): nothing is sent.
  const cs = `HostName=127.0.0.1;DeviceId=lab-edge;ModuleId=${MODULE};SharedAccessKey=${Buffer.from('k').toString('base64')}`;

  test("installs itself on a real ModuleClient's MQTT transport", () => {
    const client: ModuleClient = ModuleClientCtor.fromConnectionString(cs, Mqtt);
    assert.equal(answerUnknownMethods(client, METHODS), true);
    // With handlers registered, the link checks they are where the hook looks (first suite).
    assert.equal(hookSeesMethods(client, METHODS), false, 'no handler yet');
  });

  test('says so, and changes nothing, when the client has no transport of the expected shape', () => {
    const emit = () => true;
    const fake = { _transport: { emit } } as unknown as ModuleClient;
    assert.equal(answerUnknownMethods(fake, METHODS), false);
    assert.equal((fake as unknown as { _transport: { emit: unknown } })._transport.emit, emit);
    assert.equal(hookSeesMethods(fake, METHODS), false);
    assert.equal(answerUnknownMethods({} as ModuleClient, METHODS), false);
  });
});

describe('backoffMs: the wait before the next connection attempt', () => {
  test('doubles from 1 s to a 30 s cap, with "equal jitter" between half and all of it', () => {
    const bounds = [0, 1, 2, 3, 4, 5, 6, 10, 50, 1e6].map((attempt) => [
      backoffMs(attempt, () => 0),
      backoffMs(attempt, () => 1),
    ]);
    assert.deepEqual(bounds, [
      [500, 1000],
      [1000, 2000],
      [2000, 4000],
      [4000, 8000],
      [8000, 16000],
      [15000, 30000],
      [15000, 30000],
      [15000, 30000],
      [15000, 30000],
      [15000, 30000],
    ]);
  });

  test('never zero and never above the cap, whatever the random source gives', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      for (const r of [0, 0.25, 0.5, 0.999999]) {
        const ms = backoffMs(attempt, () => r);
        assert.ok(Number.isInteger(ms) && ms >= 500 && ms <= 30_000, `attempt ${attempt}, random ${r}: ${ms}`);
      }
    }
  });
});

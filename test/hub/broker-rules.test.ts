/**
 * What the emulator enforces on the MQTT wire, driven by a raw client so it can send what the SDK
 * never would: forged or expired tokens, foreign topics, QoS 2.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEdgeHubEmulator } from './emulator.js';
import type { EdgeHubEmulator } from './emulator.js';
import { RawMqttClient } from './raw-mqtt.js';
import { makeModuleSasToken, moduleResource } from './sas-token.js';

const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600;

describe('emulator broker rules (raw MQTT)', () => {
  let emu: EdgeHubEmulator;
  const clients: RawMqttClient[] = [];
  before(async () => {
    emu = await startEdgeHubEmulator({ modules: ['raw', 'other'] });
  });
  after(async () => {
    for (const c of clients) c.close();
    await emu.close();
  });

  async function rawClient(): Promise<RawMqttClient> {
    const c = await RawMqttClient.open(emu.port, emu.ca.cert);
    clients.push(c);
    return c;
  }

  const username = (moduleId: string): string =>
    `${emu.hubHostName}/${emu.deviceId}/${moduleId}/?api-version=2021-04-12&DeviceClientType=raw-test`;

  function token(moduleId: string, opts: { expires?: number; resourceModule?: string; key?: string } = {}): string {
    const key = opts.key ?? emu.identity(moduleId)?.hubKey ?? '';
    const resource = moduleResource(emu.hubHostName, emu.deviceId, opts.resourceModule ?? moduleId);
    return makeModuleSasToken(resource, key, opts.expires ?? inAnHour());
  }

  async function connectAs(moduleId: string): Promise<RawMqttClient> {
    const c = await rawClient();
    const rc = await c.connect({
      clientId: `${emu.deviceId}/${moduleId}`,
      username: username(moduleId),
      password: token(moduleId),
      clean: false,
    });
    assert.equal(rc, 0);
    return c;
  }

  const refusals: [string, () => { clientId: string; username: string; password?: string }, string][] = [
    [
      'an expired token',
      () => ({
        clientId: `${emu.deviceId}/raw`,
        username: username('raw'),
        password: token('raw', { expires: inAnHour() - 7200 }),
      }),
      'expired-token',
    ],
    [
      'a token for another module',
      () => ({
        clientId: `${emu.deviceId}/raw`,
        username: username('raw'),
        password: token('other', { resourceModule: 'other' }),
      }),
      'wrong-resource',
    ],
    [
      'a token signed with another key',
      () => ({
        clientId: `${emu.deviceId}/raw`,
        username: username('raw'),
        password: token('raw', { key: emu.identity('other')?.hubKey ?? '' }),
      }),
      'bad-signature',
    ],
    [
      'a clientId that is not device/module',
      () => ({ clientId: 'raw', username: username('raw'), password: token('raw') }),
      'bad-client-id',
    ],
    [
      'an unknown module',
      () => ({ clientId: `${emu.deviceId}/ghost`, username: username('ghost'), password: token('raw') }),
      'unknown-identity',
    ],
    [
      'a username for another hub',
      () => ({
        clientId: `${emu.deviceId}/raw`,
        username: `other-hub.azure-devices.net/${emu.deviceId}/raw/?api-version=2021-04-12`,
        password: token('raw'),
      }),
      'bad-username',
    ],
    ['no password', () => ({ clientId: `${emu.deviceId}/raw`, username: username('raw') }), 'missing-password'],
    [
      'garbage instead of a SAS token',
      () => ({ clientId: `${emu.deviceId}/raw`, username: username('raw'), password: 'hunter2' }),
      'malformed-token',
    ],
  ];

  for (const [label, connect, reason] of refusals) {
    it(`answers CONNACK "not authorized" for ${label}`, async () => {
      const c = await rawClient();
      const before = emu.connections.length;
      assert.equal(await c.connect(connect()), 5);
      const record = emu.connections.slice(before).find((r) => !r.accepted);
      assert.equal(record?.reason, reason);
      assert.equal(await c.waitClosed(), true, 'the broker closes a refused connection');
    });
  }

  it('never keeps the password in the connection log', () => {
    assert.ok(emu.connections.length > 0);
    assert.doesNotMatch(JSON.stringify(emu.connections), /SharedAccessSignature|sig=|hunter2/);
  });

  it("grants only the IoT Hub subscription filters of the module's own identity", async () => {
    const c = await connectAs('raw');
    assert.deepEqual(await c.subscribe('$iothub/twin/res/#', 0), [0]);
    assert.deepEqual(await c.subscribe(`devices/${emu.deviceId}/modules/raw/inputs/#`, 1), [1]);
    assert.deepEqual(await c.subscribe('#', 0), [0x80]);
    assert.deepEqual(await c.subscribe(`devices/${emu.deviceId}/modules/other/inputs/#`, 1), [0x80]);
    assert.deepEqual(
      emu.refusedSubscriptions.map((s) => s.topic),
      ['#', `devices/${emu.deviceId}/modules/other/inputs/#`],
    );
    c.close();
  });

  it('records telemetry sent without a property bag (sendEvent form)', async () => {
    const c = await connectAs('raw');
    const since = emu.events.length;
    c.publish(`devices/${emu.deviceId}/modules/raw/messages/events`, 'plain', 1);
    const ack = await c.next();
    assert.equal(ack?.type, 4, 'PUBACK for QoS 1');
    const event = await emu.waitForEvent((e) => e.moduleId === 'raw', 5000, since);
    assert.equal(event.outputName, undefined);
    assert.deepEqual(event.properties, {});
    assert.equal(event.bodyText, 'plain');
    c.close();
  });

  it('closes the connection of a module publishing as another module', async () => {
    const c = await connectAs('raw');
    const since = emu.protocolViolations.length;
    c.publish(`devices/${emu.deviceId}/modules/other/messages/events/`, 'spoof', 1);
    assert.equal(await c.waitClosed(), true);
    assert.match(emu.protocolViolations[since]?.what ?? '', /does not accept/);
    assert.equal(
      emu.events.some((e) => e.bodyText === 'spoof'),
      false,
    );
  });

  it('closes the connection on a QoS 2 publish', async () => {
    const c = await connectAs('raw');
    const since = emu.protocolViolations.length;
    c.publish(`devices/${emu.deviceId}/modules/raw/messages/events/`, 'qos2', 2);
    assert.equal(await c.waitClosed(), true);
    assert.match(emu.protocolViolations[since]?.what ?? '', /QoS 2/);
  });

  it("does not route one module's publishes to another module", async () => {
    const victim = await connectAs('other');
    assert.deepEqual(await victim.subscribe('$iothub/methods/POST/#', 0), [0]);
    const attacker = await connectAs('raw');
    // Not a topic a module may publish to, so the attacker is dropped and nothing is forwarded.
    attacker.publish('$iothub/methods/POST/reboot/?$rid=1', 'null');
    assert.equal(await attacker.waitClosed(), true);
    await assert.rejects(victim.next(300), /no MQTT packet/);
    victim.close();
  });

  it('answers a reported patch that is not JSON with a 400 carrying errorCode', async () => {
    const c = await connectAs('raw');
    assert.deepEqual(await c.subscribe('$iothub/twin/res/#', 0), [0]);
    c.publish('$iothub/twin/PATCH/properties/reported/?$rid=7', '{not json');
    const res = await c.next();
    assert.equal(res?.type, 3);
    const body = res?.body ?? Buffer.alloc(0);
    const topicLength = body.readUInt16BE(0);
    assert.equal(body.subarray(2, 2 + topicLength).toString(), '$iothub/twin/res/400/?$rid=7');
    const payload = JSON.parse(body.subarray(2 + topicLength).toString()) as { errorCode?: number };
    assert.equal(payload.errorCode, 400004);
    assert.equal(emu.rejectedPatches.at(-1)?.patch, '{not json');
    c.close();
  });
});

/**
 * A local stand-in for what an IoT Edge module talks to: edgeHub's IoT Hub MQTT interface (TLS,
 * SAS authentication, persistent sessions, module twin, direct methods, telemetry) and the
 * aziot-edged workload API (trust bundle, sign). A real `ModuleClient.fromEnvironment(Mqtt)` given
 * `emulator.env(moduleId)` connects to it exactly as it would on a device.
 *
 * Wire details follow /work/shared/research/azure-iot-sdk-and-edgehub-protocol.md. Where edgeHub and
 * IoT Hub differ, the emulator answers like IoT Hub when that is what makes the Node SDK see an
 * error (twin 400 with an `errorCode` body) and like edgeHub otherwise.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import type { AedesPublishPacket, AuthenticateError, Client as AedesClient, PublishPacket, Subscription } from 'aedes';
import { createCa, issueServerCert, removeCa } from '../support/pki.js';
import { createTlsListener, reservePort } from './broker.js';
import type { TlsListener } from './broker.js';
import { RecordLog } from './record-log.js';
import { checkModuleSasToken, moduleResource } from './sas-token.js';
import {
  decodePropertyBag,
  desiredPatchTopic,
  DESIRED_FILTER,
  eventsTopicBag,
  inputsFilter,
  isValidMethodName,
  METHODS_FILTER,
  methodRequestTopic,
  parseMethodResponseTopic,
  parseTwinRequestTopic,
  topicMatches,
  TWIN_RES_FILTER,
  twinResponseTopic,
} from './topics.js';
import { applyTwinPatch } from './twin-rules.js';
import type { Json, JsonObject } from './twin-rules.js';
import { startWorkloadApi } from './workload-api.js';
import type {
  ConnectRecord,
  ConnectRefusal,
  DisconnectRecord,
  EdgeHubEmulator,
  EdgeHubEmulatorOptions,
  MethodCallRecord,
  MethodResult,
  ModuleIdentity,
  ProtocolViolation,
  ReportedPatchRecord,
  TelemetryEvent,
  TwinDocument,
  TwinGetRecord,
} from './emulator-types.js';

export type * from './emulator-types.js';

const HOST = '127.0.0.1';
const MAX_INBOUND_MESSAGE = 262144; // edgeHub mqttSettings.MaxInboundMessageSize
const MAX_METHOD_PAYLOAD = 128 * 1024;
const DEFAULT_WAIT_MS = 10_000;

interface ModuleState extends ModuleIdentity {
  desired: JsonObject;
  desiredVersion: number;
  reported: JsonObject;
  reportedVersion: number;
}

interface PendingMethod {
  moduleId: string;
  record: MethodCallRecord;
  resolve: (r: MethodResult) => void;
  timer: NodeJS.Timeout;
}

/**
 * aedes state not in its typings: a client's live subscriptions (restored session ones included),
 * and whether its CONNACK has been written (nothing may be sent to it before).
 */
interface AedesClientInternals {
  subscriptions: Record<string, { qos: number }>;
  connackSent?: boolean;
}

const newKey = (): string => randomBytes(32).toString('base64');

function notAuthorized(message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: 5 as const });
}

function parseMethodBody(raw: string): unknown {
  if (raw.length === 0) return null;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

export async function startEdgeHubEmulator(opts: EdgeHubEmulatorOptions = {}): Promise<EdgeHubEmulator> {
  const hubHostName = opts.hubHostName ?? 'lab-hub.azure-devices.net';
  const deviceId = opts.deviceId ?? 'lab-edge-device';
  const defaultModuleId = opts.defaultModuleId ?? 'netdiag';
  const apiVersion = opts.apiVersion ?? '2022-08-03';
  const ownsCa = opts.ca === undefined;
  const ca = opts.ca ?? createCa('edgeHub emulator test CA');
  const tempDir = mkdtempSync(join(tmpdir(), 'edgehub-emu-'));

  const modules = new Map<string, ModuleState>();
  const live = new Map<string, AedesClient>(); // moduleId → connected client
  const pendingConnects = new WeakMap<AedesClient, ConnectRecord>();
  const pendingMethods = new Map<string, PendingMethod>();
  const connections = new RecordLog<ConnectRecord>();
  const disconnections = new RecordLog<DisconnectRecord>();
  const events = new RecordLog<TelemetryEvent>();
  const reportedPatches = new RecordLog<ReportedPatchRecord>();
  const twinGets: TwinGetRecord[] = [];
  const methodCalls: MethodCallRecord[] = [];
  const refusedSubscriptions: { clientId: string; topic: string }[] = [];
  const protocolViolations: ProtocolViolation[] = [];
  const tlsErrors: string[] = [];
  const disconnectListeners = new Set<() => void>();

  function registerModule(moduleId: string, keys: { hubKey?: string; workloadKey?: string } = {}): ModuleIdentity {
    const existing = modules.get(moduleId);
    const hubKey = keys.hubKey ?? existing?.hubKey ?? newKey();
    const state: ModuleState = existing ?? {
      moduleId,
      hubKey,
      workloadKey: hubKey,
      generationId: `gen-${randomBytes(6).toString('hex')}`,
      desired: {},
      desiredVersion: 1,
      reported: {},
      reportedVersion: 1,
    };
    state.hubKey = hubKey;
    state.workloadKey = keys.workloadKey ?? (keys.hubKey !== undefined ? hubKey : state.workloadKey);
    modules.set(moduleId, state);
    return { moduleId, hubKey: state.hubKey, workloadKey: state.workloadKey, generationId: state.generationId };
  }
  for (const m of opts.modules ?? []) registerModule(m);

  const moduleState = (moduleId: string): ModuleState => {
    const state = modules.get(moduleId);
    if (!state) throw new Error(`Module ${moduleId} is not registered with the emulator`);
    return state;
  };

  /** The module a connected client authenticated as (its clientId is `{deviceId}/{moduleId}`). */
  const moduleOf = (client: AedesClient): string | undefined => {
    const [d, m, ...rest] = client.id.split('/');
    return d === deviceId && m !== undefined && rest.length === 0 && modules.has(m) ? m : undefined;
  };

  // ---- server → module: only to a connected client whose subscriptions match, like the hub ----

  /**
   * Sends to the module's live connection if one of its subscriptions matches, like the hub, and
   * says synchronously whether it did; `written` settles once the packet is on the socket.
   */
  function deliver(
    moduleId: string,
    topic: string,
    payload: Buffer | string,
  ): { sent: boolean; written: Promise<void> } {
    const client = live.get(moduleId);
    const internals = client as unknown as AedesClientInternals | undefined;
    const subs = client && !client.closed && internals?.connackSent ? internals.subscriptions : {};
    if (!client || !Object.keys(subs).some((f) => topicMatches(f, topic)))
      return { sent: false, written: Promise.resolve() };
    const packet: PublishPacket = { cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false };
    // A write error means the connection is dying; aedes closes it and the module reconnects.
    const written = new Promise<void>((resolve) => client.publish(packet, () => resolve()));
    return { sent: true, written };
  }

  // ---- module → server ----

  function handleTwinRequest(moduleId: string, topic: string, payload: Buffer): boolean {
    const request = parseTwinRequestTopic(topic);
    if (!request) return false;
    const state = moduleState(moduleId);
    if (request.kind === 'get') {
      const body = JSON.stringify(twinDocument(state));
      const { sent } = deliver(moduleId, twinResponseTopic(200, request.rid), body);
      twinGets.push({ at: new Date(), moduleId, rid: request.rid, delivered: sent, bytes: Buffer.byteLength(body) });
      return true;
    }
    const text = payload.toString('utf8');
    let patch: unknown;
    let outcome: ReturnType<typeof applyTwinPatch>;
    try {
      patch = JSON.parse(text) as unknown;
      outcome = applyTwinPatch(state.reported, patch, payload.length);
    } catch {
      patch = text;
      outcome = {
        ok: false,
        violation: { rule: 'not-an-object', path: '', message: 'The patch body is not valid JSON' },
      };
    }
    const record: ReportedPatchRecord = {
      at: new Date(),
      moduleId,
      rid: request.rid,
      accepted: outcome.ok,
      patch,
      patchBytes: payload.length,
    };
    if (outcome.ok) {
      state.reported = outcome.merged;
      state.reportedVersion += 1;
      record.version = state.reportedVersion;
      deliver(moduleId, twinResponseTopic(204, request.rid, state.reportedVersion), '');
    } else {
      record.error = outcome.violation.message;
      record.rule = outcome.violation.rule;
      // IoT Hub's error shape: the Node SDK reports an error only when the body has `errorCode`.
      const body = JSON.stringify({
        errorCode: 400004,
        trackingId: randomUUID(),
        message: outcome.violation.message,
        timestampUtc: new Date().toISOString(),
      });
      deliver(moduleId, twinResponseTopic(400, request.rid), body);
    }
    reportedPatches.push(record);
    return true;
  }

  function handleMethodResponse(moduleId: string, topic: string, payload: Buffer): boolean {
    const parsed = parseMethodResponseTopic(topic);
    if (!parsed) return false;
    const pending = pendingMethods.get(parsed.rid);
    // A late answer (after the 504) or one for another module's call is dropped, as the hub does.
    if (!pending || pending.moduleId !== moduleId) return true;
    pendingMethods.delete(parsed.rid);
    clearTimeout(pending.timer);
    const raw = payload.toString('utf8');
    Object.assign(pending.record, { outcome: 'answered', status: parsed.status, responseBody: raw });
    pending.resolve({ status: parsed.status, payload: parseMethodBody(raw), rawPayload: raw });
    return true;
  }

  function handleTelemetry(moduleId: string, packet: PublishPacket): boolean {
    const bag = eventsTopicBag(packet.topic, deviceId, moduleId);
    if (bag === undefined) return false;
    const decoded = decodePropertyBag(bag);
    const body = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const sys = decoded.system;
    const event: TelemetryEvent = {
      at: new Date(),
      deviceId,
      moduleId,
      topic: packet.topic,
      systemProperties: sys,
      properties: decoded.application,
      body,
      bodyText: body.toString('utf8'),
      qos: packet.qos,
    };
    if (sys['$.on'] !== undefined) event.outputName = sys['$.on'];
    if (sys['$.ct'] !== undefined) event.contentType = sys['$.ct'];
    if (sys['$.ce'] !== undefined) event.contentEncoding = sys['$.ce'];
    if (sys['$.mid'] !== undefined) event.messageId = sys['$.mid'];
    if (sys['$.cid'] !== undefined) event.correlationId = sys['$.cid'];
    // IoT Hub does not retain; it tells the consumer the flag was set instead.
    if (packet.retain) event.properties['mqtt-retain'] = 'true';
    if (decoded.malformed !== undefined) event.malformedPropertyBag = decoded.malformed;
    events.push(event);
    return true;
  }

  const violation = (client: AedesClient, what: string): Error => {
    protocolViolations.push({ at: new Date(), clientId: client.id, what });
    return new Error(what);
  };

  // ---- the broker ----

  const broker = await Aedes.createBroker({
    id: `edgehub-emulator-${randomBytes(4).toString('hex')}`,
    // Module clientIds (`device/module`) are longer than MQTT 3.1's 23 characters.
    maxClientsIdLength: 256,

    authenticate(client, username, password, done) {
      const record: ConnectRecord = {
        at: new Date(),
        clientId: client.id,
        username: username ?? '',
        clean: client.clean,
        accepted: false,
      };
      const refuse = (reason: ConnectRefusal): void => {
        record.reason = reason;
        connections.push(record);
        done(notAuthorized(`Not authorized: ${reason}`), false);
      };
      const [d, m, ...rest] = client.id.split('/');
      if (d === undefined || m === undefined || d === '' || m === '' || rest.length > 0) return refuse('bad-client-id');
      record.deviceId = d;
      record.moduleId = m;
      const state = modules.get(m);
      if (d !== deviceId || !state) return refuse('unknown-identity');
      if (!(username ?? '').startsWith(`${hubHostName}/${d}/${m}/?api-version=`)) return refuse('bad-username');
      if (!password) return refuse('missing-password');
      const sas = checkModuleSasToken(password.toString('utf8'), moduleResource(hubHostName, d, m), state.hubKey);
      if (sas.expiresAt) record.tokenExpiresAt = sas.expiresAt;
      if (!sas.ok) return refuse(sas.reason ?? 'malformed-token');
      record.accepted = true;
      // Logged when aedes registers the client (just before the CONNACK), so by the time the
      // module's open() resolves the record and isConnected() already reflect it.
      pendingConnects.set(client, record);
      done(null, true);
    },

    authorizeSubscribe(client, sub: Subscription, done) {
      const moduleId = moduleOf(client);
      const allowed = moduleId !== undefined && [
        TWIN_RES_FILTER,
        DESIRED_FILTER,
        METHODS_FILTER,
        inputsFilter(deviceId, moduleId),
      ];
      if (!allowed || !allowed.includes(sub.topic)) {
        // edgeHub ignores filters it does not know; refusing them (SUBACK 0x80) makes a typo visible.
        refusedSubscriptions.push({ clientId: client.id, topic: sub.topic });
        return done(null, null);
      }
      // IoT Hub would grant a QoS 2 subscription as QoS 1; aedes writes the SUBACK from the requested
      // QoS whatever this returns, and the SDK never asks for 2, so that difference is left alone.
      done(null, sub);
    },

    // Every module publish is handled here, before aedes acknowledges it (PUBACK for QoS 1) —
    // the hub accepts or refuses the message before acking, and refusing closes the connection.
    authorizePublish(client, packet, done) {
      if (!client) return done(new Error('no client'));
      const moduleId = moduleOf(client);
      if (moduleId === undefined) return done(violation(client, 'publish from an unknown identity'));
      if (packet.qos === 2) return done(violation(client, `QoS 2 publish on ${packet.topic}`));
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      if (payload.length + Buffer.byteLength(packet.topic) > MAX_INBOUND_MESSAGE) {
        return done(violation(client, `message larger than ${MAX_INBOUND_MESSAGE} bytes on ${packet.topic}`));
      }
      let handled: boolean;
      try {
        handled = packet.topic.startsWith('$iothub/twin/')
          ? handleTwinRequest(moduleId, packet.topic, payload)
          : packet.topic.startsWith('$iothub/methods/res/')
            ? handleMethodResponse(moduleId, packet.topic, payload)
            : handleTelemetry(moduleId, packet);
      } catch (err) {
        // An emulator bug must show up as a dropped connection plus a record, not crash the test run.
        return done(
          violation(client, `emulator failed on ${packet.topic}: ${err instanceof Error ? err.message : String(err)}`),
        );
      }
      if (!handled) return done(violation(client, `publish to a topic IoT Hub does not accept: ${packet.topic}`));
      packet.retain = false;
      done(null);
    },

    // Module publishes are consumed above; none is ever routed to other MQTT clients. Only what the
    // emulator itself sends (packets without a publishing clientId) goes out.
    authorizeForward(_client, packet: AedesPublishPacket) {
      return Object.hasOwn(packet, 'clientId') ? null : packet;
    },
  });

  broker.on('client', (client) => {
    const record = pendingConnects.get(client);
    const moduleId = moduleOf(client);
    if (moduleId !== undefined) live.set(moduleId, client);
    if (record) connections.push(record);
  });
  broker.on('clientDisconnect', (client) => {
    const moduleId = moduleOf(client);
    if (moduleId !== undefined && live.get(moduleId) === client) live.delete(moduleId);
    disconnections.push(
      moduleId === undefined
        ? { at: new Date(), clientId: client.id }
        : { at: new Date(), clientId: client.id, moduleId },
    );
    for (const l of [...disconnectListeners]) l();
  });
  broker.on('clientError', () => {
    /* a dropped connection; aedes closes it. Recorded via protocolViolations where it matters. */
  });
  broker.on('connectionError', () => {
    /* e.g. garbage instead of CONNECT */
  });

  const serverCert = issueServerCert(ca, ['localhost', HOST]);
  const port = opts.port ?? (await reservePort(HOST));
  const listener: TlsListener = createTlsListener({
    host: HOST,
    port,
    key: serverCert.key,
    cert: serverCert.chain,
    onSecureConnection: (socket) => {
      broker.handle(socket);
    },
    onTlsError: (err) => tlsErrors.push(err.message),
  });

  const workload = await startWorkloadApi({
    socketPath: join(tempDir, 'workload.sock'),
    trustBundle: ca.cert,
    keyOf: (moduleId) => modules.get(moduleId)?.workloadKey,
  });

  /** Waits (bounded) until aedes has unregistered every dropped client, so `isConnected` is accurate. */
  async function settleDisconnects(): Promise<void> {
    if (live.size === 0) return;
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (live.size > 0) return;
        clearTimeout(timer);
        disconnectListeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        disconnectListeners.delete(check);
        resolve();
      }, 2000);
      disconnectListeners.add(check);
      check();
    });
  }

  function twinDocument(state: ModuleState): TwinDocument {
    return {
      desired: { ...structuredClone(state.desired), $version: state.desiredVersion },
      reported: { ...structuredClone(state.reported), $version: state.reportedVersion },
    };
  }

  let closed = false;

  const emulator: EdgeHubEmulator = {
    hubHostName,
    deviceId,
    defaultModuleId,
    get port() {
      return listener.port;
    },
    get gatewayHostName() {
      return `localhost:${listener.port}`;
    },
    ca,
    workload,
    get brokerListening() {
      return listener.listening;
    },
    connections: connections.items,
    disconnections: disconnections.items,
    events: events.items,
    reportedPatches: reportedPatches.items,
    get acceptedPatches() {
      return reportedPatches.items.filter((p) => p.accepted);
    },
    get rejectedPatches() {
      return reportedPatches.items.filter((p) => !p.accepted);
    },
    twinGets,
    methodCalls,
    refusedSubscriptions,
    protocolViolations,
    tlsErrors,

    registerModule,
    identity: (moduleId) => {
      const s = modules.get(moduleId);
      return s && { moduleId, hubKey: s.hubKey, workloadKey: s.workloadKey, generationId: s.generationId };
    },

    env(moduleId = defaultModuleId) {
      const state = modules.get(moduleId) ?? moduleState(registerModule(moduleId).moduleId);
      return {
        IOTEDGE_WORKLOADURI: workload.uri,
        IOTEDGE_DEVICEID: deviceId,
        IOTEDGE_MODULEID: moduleId,
        IOTEDGE_IOTHUBHOSTNAME: hubHostName,
        IOTEDGE_AUTHSCHEME: 'sasToken',
        IOTEDGE_MODULEGENERATIONID: state.generationId,
        IOTEDGE_GATEWAYHOSTNAME: `localhost:${listener.port}`,
        IOTEDGE_APIVERSION: apiVersion,
      };
    },

    twin: (moduleId = defaultModuleId) => twinDocument(moduleState(moduleId)),

    setDesired(desired, moduleId = defaultModuleId) {
      const state = moduleState(moduleId);
      const outcome = applyTwinPatch({}, desired);
      if (!outcome.ok) throw new Error(`Invalid desired properties: ${outcome.violation.message}`);
      state.desired = outcome.merged;
      state.desiredVersion += 1;
      return state.desiredVersion;
    },

    async updateDesired(patch, moduleId = defaultModuleId) {
      const state = moduleState(moduleId);
      const outcome = applyTwinPatch(state.desired, patch);
      if (!outcome.ok) throw new Error(`Invalid desired patch: ${outcome.violation.message}`);
      state.desired = outcome.merged;
      state.desiredVersion += 1;
      const version = state.desiredVersion;
      const body: JsonObject = { ...structuredClone(patch), $version: version };
      const { sent, written } = deliver(moduleId, desiredPatchTopic(version), JSON.stringify(body));
      await written;
      return { version, delivered: sent };
    },

    async invokeMethod(targetDevice, moduleId, methodName, payload, invokeOpts = {}) {
      if (closed) throw new Error('The emulator is closed');
      if (!isValidMethodName(methodName)) throw new Error(`Invalid method name ${JSON.stringify(methodName)}`);
      const timeoutS = invokeOpts.responseTimeoutInSeconds ?? 30;
      if (!(timeoutS > 0 && timeoutS <= 300)) throw new RangeError('responseTimeoutInSeconds must be in (0, 300]');
      const body =
        invokeOpts.rawBody !== undefined
          ? Buffer.from(invokeOpts.rawBody)
          : Buffer.from(JSON.stringify((payload === undefined ? null : payload) as Json));
      if (body.length > MAX_METHOD_PAYLOAD) {
        throw new RangeError(`Method payload is ${body.length} bytes; IoT Hub allows ${MAX_METHOD_PAYLOAD}`);
      }
      const rid = randomUUID();
      const record: MethodCallRecord = {
        at: new Date(),
        deviceId: targetDevice,
        moduleId,
        methodName,
        rid,
        requestBody: body.toString('utf8'),
        outcome: 'not-connected',
        status: 404,
      };
      methodCalls.push(record);
      const result = new Promise<MethodResult>((resolve) => {
        const timer = setTimeout(() => {
          pendingMethods.delete(rid);
          Object.assign(record, { outcome: 'timeout', status: 504 });
          const payload504 = { errorCode: 504101, message: 'Timed out waiting for the response from device.' };
          resolve({ status: 504, payload: payload504, rawPayload: JSON.stringify(payload504) });
        }, timeoutS * 1000);
        pendingMethods.set(rid, { moduleId, record, resolve, timer });
      });
      const delivered =
        targetDevice === deviceId &&
        modules.has(moduleId) &&
        deliver(moduleId, methodRequestTopic(methodName, rid), body).sent;
      if (!delivered) {
        const pending = pendingMethods.get(rid);
        if (pending) {
          clearTimeout(pending.timer);
          pendingMethods.delete(rid);
        }
        const payload404 = {
          errorCode: 404103,
          message: 'The module is not online or not subscribed to direct methods.',
        };
        return { status: 404, payload: payload404, rawPayload: JSON.stringify(payload404) };
      }
      return result;
    },

    waitForEvent: (predicate = () => true, timeoutMs = DEFAULT_WAIT_MS, since = 0) =>
      events.waitFor(predicate, timeoutMs, 'a telemetry event', since),
    waitForConnection: (predicate = (c) => c.accepted, timeoutMs = DEFAULT_WAIT_MS, since = 0) =>
      connections.waitFor(predicate, timeoutMs, 'a connection', since),
    waitForDisconnection: (predicate = () => true, timeoutMs = DEFAULT_WAIT_MS, since = 0) =>
      disconnections.waitFor(predicate, timeoutMs, 'a disconnection', since),
    waitForReportedPatch: (predicate = () => true, timeoutMs = DEFAULT_WAIT_MS, since = 0) =>
      reportedPatches.waitFor(predicate, timeoutMs, 'a reported patch', since),

    isConnected: (moduleId = defaultModuleId) => live.has(moduleId),
    subscriptions(moduleId = defaultModuleId) {
      const client = live.get(moduleId);
      return client ? Object.keys((client as unknown as AedesClientInternals).subscriptions) : [];
    },

    async startBroker() {
      if (closed) throw new Error('The emulator is closed');
      await listener.start();
    },
    async stopBroker() {
      await listener.stop();
      await settleDisconnects();
    },
    async kickClients() {
      const n = listener.dropConnections();
      await settleDisconnects();
      return n;
    },

    async close() {
      if (closed) return;
      closed = true;
      await listener.stop();
      for (const [rid, p] of pendingMethods) {
        clearTimeout(p.timer);
        pendingMethods.delete(rid);
        Object.assign(p.record, { outcome: 'timeout', status: 503 });
        p.resolve({ status: 503, payload: null, rawPayload: '' });
      }
      connections.cancelAll('The emulator was closed');
      disconnections.cancelAll('The emulator was closed');
      events.cancelAll('The emulator was closed');
      reportedPatches.cancelAll('The emulator was closed');
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await workload.close();
      rmSync(tempDir, { recursive: true, force: true });
      if (ownsCa) removeCa(ca);
    },
  };

  if (opts.brokerListening !== false) {
    try {
      await listener.start();
    } catch (err) {
      await emulator.close();
      throw err;
    }
  }
  return emulator;
}

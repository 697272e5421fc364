/** The emulator's public surface: options, the records it keeps for assertions, and its API. */
import type { Ca } from '../support/pki.js';
import type { SasRefusal } from './sas-token.js';
import type { JsonObject } from './twin-rules.js';
import type { WorkloadApi } from './workload-api.js';

export interface EdgeHubEmulatorOptions {
  /** `IOTEDGE_IOTHUBHOSTNAME`; it goes into the SAS resource and the MQTT username. */
  hubHostName?: string;
  deviceId?: string;
  /** The module `updateDesired`/`setDesired`/`twin` use when none is given. Default `netdiag`. */
  defaultModuleId?: string;
  /** Modules registered at start (with fresh random keys). `env()` registers others on demand. */
  modules?: string[];
  /** False: edgeHub is "not up yet"; the port is reserved and known but refuses until `startBroker()`. */
  brokerListening?: boolean;
  /** Use this CA instead of a fresh one (the emulator then leaves it alone on close). */
  ca?: Ca;
  /** Fixed broker port; default a free one. */
  port?: number;
  /** `IOTEDGE_APIVERSION` value (the Node SDK ignores it; aziot-edged passes 2022-08-03). */
  apiVersion?: string;
}

export interface ModuleIdentity {
  moduleId: string;
  /** The key IoT Hub (here: the broker) verifies SAS tokens with. */
  hubKey: string;
  /** The key the workload API signs with; differs from `hubKey` only to test refusals. */
  workloadKey: string;
  generationId: string;
}

export type ConnectRefusal = 'bad-client-id' | 'unknown-identity' | 'bad-username' | 'missing-password' | SasRefusal;

/** One CONNECT attempt. The password/SAS token is deliberately not kept. */
export interface ConnectRecord {
  at: Date;
  clientId: string;
  username: string;
  clean: boolean;
  accepted: boolean;
  deviceId?: string;
  moduleId?: string;
  reason?: ConnectRefusal;
  tokenExpiresAt?: Date;
}

export interface TelemetryEvent {
  at: Date;
  deviceId: string;
  moduleId: string;
  topic: string;
  /** `$.on`: set for `sendOutputEvent`, absent for `sendEvent`. */
  outputName?: string;
  contentType?: string;
  contentEncoding?: string;
  messageId?: string;
  correlationId?: string;
  /** Every `$.` property as sent. */
  systemProperties: Record<string, string>;
  /** Application properties (`message.properties`). */
  properties: Record<string, string>;
  body: Buffer;
  bodyText: string;
  qos: number;
  /** The raw bag when it was not valid percent-encoding. */
  malformedPropertyBag?: string;
}

export interface ReportedPatchRecord {
  at: Date;
  moduleId: string;
  rid: string;
  accepted: boolean;
  /** The parsed patch, or the raw body when it was not JSON. */
  patch: unknown;
  patchBytes: number;
  /** Reported `$version` after an accepted patch. */
  version?: number;
  /** Why it was refused (the message the SDK callback gets). */
  error?: string;
  rule?: string;
}

export interface TwinGetRecord {
  at: Date;
  moduleId: string;
  rid: string;
  /** False when the module was not subscribed to `$iothub/twin/res/#`, so the answer was dropped. */
  delivered: boolean;
  /** The answer's body (desired and reported, as JSON): what IoT Hub meters a twin read by, in 512-byte blocks. */
  bytes: number;
}

export interface MethodResult {
  status: number;
  /** Parsed JSON body; null for an empty body; the raw text if it was not JSON. */
  payload: unknown;
  rawPayload: string;
}

export interface MethodCallRecord {
  at: Date;
  deviceId: string;
  moduleId: string;
  methodName: string;
  rid: string;
  requestBody: string;
  outcome: 'answered' | 'timeout' | 'not-connected';
  status: number;
  responseBody?: string;
}

export interface InvokeMethodOptions {
  /** IoT Hub allows 5–300 s; shorter values are accepted so tests can provoke a 504 quickly. */
  responseTimeoutInSeconds?: number;
  /** Sent as is instead of `JSON.stringify(payload)`, for malformed-payload tests. */
  rawBody?: string | Buffer;
}

export interface TwinDocument {
  desired: JsonObject;
  reported: JsonObject;
}

export interface DisconnectRecord {
  at: Date;
  clientId: string;
  moduleId?: string;
}

export interface ProtocolViolation {
  at: Date;
  clientId: string;
  what: string;
}

export interface EdgeHubEmulator {
  readonly hubHostName: string;
  readonly deviceId: string;
  readonly defaultModuleId: string;
  /** Broker port on 127.0.0.1 (also while stopped). */
  readonly port: number;
  readonly gatewayHostName: string;
  readonly ca: Ca;
  readonly workload: WorkloadApi;
  readonly brokerListening: boolean;
  readonly connections: readonly ConnectRecord[];
  /** Every registered client whose connection ended (kicked, dropped, closed by the module). */
  readonly disconnections: readonly DisconnectRecord[];
  readonly events: readonly TelemetryEvent[];
  readonly reportedPatches: readonly ReportedPatchRecord[];
  readonly acceptedPatches: readonly ReportedPatchRecord[];
  readonly rejectedPatches: readonly ReportedPatchRecord[];
  readonly twinGets: readonly TwinGetRecord[];
  readonly methodCalls: readonly MethodCallRecord[];
  readonly refusedSubscriptions: readonly { clientId: string; topic: string }[];
  readonly protocolViolations: readonly ProtocolViolation[];
  readonly tlsErrors: readonly string[];

  registerModule(moduleId: string, keys?: { hubKey?: string; workloadKey?: string }): ModuleIdentity;
  identity(moduleId: string): ModuleIdentity | undefined;
  /** The IOTEDGE_* variables edgeAgent gives a module (registers the module if needed). */
  env(moduleId?: string): Record<string, string>;

  twin(moduleId?: string): TwinDocument;
  /** Replaces the desired properties (e.g. the deployment's initial twin); no notification is sent. */
  setDesired(desired: JsonObject, moduleId?: string): number;
  /** Merges a desired patch and notifies the module if it is connected and subscribed. */
  updateDesired(patch: JsonObject, moduleId?: string): Promise<{ version: number; delivered: boolean }>;

  invokeMethod(
    deviceId: string,
    moduleId: string,
    methodName: string,
    payload?: unknown,
    opts?: InvokeMethodOptions,
  ): Promise<MethodResult>;

  waitForEvent(predicate?: (e: TelemetryEvent) => boolean, timeoutMs?: number, since?: number): Promise<TelemetryEvent>;
  waitForConnection(
    predicate?: (c: ConnectRecord) => boolean,
    timeoutMs?: number,
    since?: number,
  ): Promise<ConnectRecord>;
  waitForDisconnection(
    predicate?: (d: DisconnectRecord) => boolean,
    timeoutMs?: number,
    since?: number,
  ): Promise<DisconnectRecord>;
  waitForReportedPatch(
    predicate?: (p: ReportedPatchRecord) => boolean,
    timeoutMs?: number,
    since?: number,
  ): Promise<ReportedPatchRecord>;

  isConnected(moduleId?: string): boolean;
  /** Topic filters of the module's live connection (restored session subscriptions included). */
  subscriptions(moduleId?: string): string[];

  startBroker(): Promise<void>;
  /** Like edgeHub going down: the port refuses and every connection dies; sessions and twins survive. */
  stopBroker(): Promise<void>;
  /** Drops every MQTT connection but keeps listening. Returns how many were dropped. */
  kickClients(): Promise<number>;
  close(): Promise<void>;
}

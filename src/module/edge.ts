/**
 * The edgeHub connection: a ModuleClient made with fromEnvironment exactly as edgeAgent starts
 * a module, kept alive forever. The SDK's loose typings and its sharp edges are wrapped here
 * once (see research/azure-iot-sdk-and-edgehub-protocol.md):
 * - the first open() is not retried by the SDK (every failure looks "Not authorized"), so we
 *   retry with our own backoff, re-creating the client, which also re-reads the trust bundle;
 * - an 'error' listener is mandatory, or a failed feature subscription kills the process;
 * - reported-properties updates are callback-only;
 * - after a reconnect, desired patches sent meanwhile are lost: the twin is read again;
 * - the SDK's own retries are switched off (NoRetry): the module retries with its own time limits,
 *   and an SDK retry still running after the module gave up could land a stale reported patch
 *   after a newer one, or deliver telemetry the module then sends again (CONTRACT.md 8.3);
 * - a direct method with no handler is answered 404 with the known names (unknown-methods.ts),
 *   instead of timing out.
 */
import commonSdk from 'azure-iot-common';
import deviceSdk from 'azure-iot-device';
import type {
  DeviceMethodRequest,
  DeviceMethodResponse,
  ModuleClient as ModuleClientType,
  Twin,
} from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import type { Logger } from '../log.js';
import type { JsonObject } from '../report/twin.js';
import { withTimeout } from '../util/time-limit.js';
import { answerUnknownMethods, hookSeesMethods } from './unknown-methods.js';

export interface MethodResult {
  status: number;
  payload: unknown;
}

export interface EdgeHandlers {
  /** A desired patch (full = the whole desired document after a (re)connect). */
  onDesired(desired: Record<string, unknown>, version: number, full: boolean): void;
  onMethod(name: string, payload: unknown): Promise<MethodResult>;
  /** Called after every (re)connection with the reported properties the twin holds. */
  onConnected(reported: JsonObject): void;
}

export interface OutputMessage {
  body: string;
  properties: Record<string, string>;
  /** IoT Hub's message-id (the check's checkId), so a message delivered twice can be recognised downstream. */
  messageId?: string;
}

// azure-iot-device is CommonJS without named-export hints for Node's ESM loader: take the default export.
const { ModuleClient, Message } = deviceSdk;
const { NoRetry } = commonSdk;
type ModuleClient = ModuleClientType;

export const METHODS = ['runDiagnostics', 'getLastReport'] as const;

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
/** How often a link marked down is probed again when the SDK itself reports nothing. */
const RECOVERY_INTERVAL_MS = 10_000;
/** A hung SDK call must not hold the connection loop forever. */
const OPERATION_TIMEOUT_MS = 60_000;

export function backoffMs(attempt: number, random = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempt, 10));
  return Math.round(base / 2 + random() * (base / 2)); // "equal jitter": never zero, never in lockstep
}

function plainObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Copies the SDK's twin collection into plain JSON without its helper functions and $metadata. */
function snapshot(collection: unknown): Record<string, unknown> {
  const parsed: unknown = JSON.parse(JSON.stringify(collection ?? {}));
  const out = plainObject(parsed);
  delete out['$metadata'];
  return out;
}

/** The SDK types `reported` as an index signature; its update() is a method with a callback. */
function reportedOf(twin: Twin): { update(patch: JsonObject, done: (err?: Error) => void): void } {
  return twin.properties.reported as unknown as { update(patch: JsonObject, done: (err?: Error) => void): void };
}

/** IoT Hub (or edgeHub) refused a reported patch: it broke a twin rule. */
export class TwinRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TwinRefusedError';
  }
}

/**
 * The SDK reports a refusal in the response body as a plain Error carrying the hub's message
 * (mqtt_twin_client.js), while transport failures come through translateError as named errors
 * (NotConnectedError, TimeoutError...). Only the former is the hub's answer.
 */
function refusalOrTransport(err: Error): Error {
  return err.constructor === Error && err.name === 'Error' ? new TwinRefusedError(err.message) : err;
}

export class EdgeLink {
  private client: ModuleClient | null = null;
  private twin: Twin | null = null;
  private stopped = false;
  private connecting: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private ready = false;
  private recoveryTimer: NodeJS.Timeout | null = null;
  private failedRefreshes = 0;
  private methodHook: boolean | null = null;

  constructor(
    private readonly log: Logger,
    private readonly handlers: EdgeHandlers,
    private readonly createClient: () => Promise<ModuleClient> = () => ModuleClient.fromEnvironment(Mqtt),
  ) {}

  get connected(): boolean {
    return this.ready && this.client !== null;
  }

  /**
   * Whether unknown direct methods are answered 404 on the current connection: null before the
   * first connection, false when the SDK's transport no longer looks the way the hook needs.
   */
  get unknownMethodsAnswered(): boolean | null {
    return this.methodHook;
  }

  /** Starts connecting in the background; never throws, never gives up. */
  start(): void {
    this.recoveryTimer ??= setInterval(() => this.recover(), RECOVERY_INTERVAL_MS).unref();
    this.connecting ??= this.connectLoop().finally(() => {
      this.connecting = null;
    });
  }

  private async connectLoop(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      let client: ModuleClient | null = null;
      try {
        client = await withTimeout(
          this.createClient(),
          OPERATION_TIMEOUT_MS,
          'reading the IoT Edge environment and trust bundle',
        );
        // Before open(): every operation, open included, then makes one attempt and the module's
        // own loop decides what happens next.
        client.setRetryPolicy(new NoRetry());
        const hooked = answerUnknownMethods(client, METHODS, (method, err) =>
          err
            ? this.log.warn({ err, method }, 'could not answer an unknown direct method')
            : this.log.info({ method }, 'unknown direct method answered 404'),
        );
        this.attachListeners(client);
        await withTimeout(client.open(), OPERATION_TIMEOUT_MS, 'connecting to edgeHub');
        this.client = client;
        await this.setUp(client);
        this.methodHook = hooked && hookSeesMethods(client, METHODS);
        if (!this.methodHook)
          this.log.warn('this SDK version cannot be hooked: unknown direct methods will time out (504) at IoT Hub');
        this.log.info({ attempt, unknownMethods404: this.methodHook }, 'connected to edgeHub');
        return;
      } catch (err) {
        this.ready = false;
        this.client = null;
        if (client) void client.close().catch(() => undefined);
        if (this.stopped) return;
        const delay = backoffMs(attempt);
        this.log.warn({ err, attempt, retryInMs: delay }, 'edgeHub not reachable; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
      }
    }
  }

  private attachListeners(client: ModuleClient): void {
    client.on('error', (err: Error) => this.log.warn({ err }, 'IoT Hub client error'));
    client.on('disconnect', () => {
      if (this.client !== client || this.stopped) return;
      // The connection is gone (with NoRetry the SDK does not re-establish it): start over.
      this.log.warn('disconnected from edgeHub; reconnecting');
      this.startOver(client);
    });
    client.on('connect', () => {
      // A reconnect done by the SDK itself: desired patches sent meanwhile were lost, read the twin again.
      if (this.client === client && this.twin) void this.refresh(client);
    });
  }

  /** Drops `client` (closing it in the background) and connects again with a new one. */
  private startOver(client: ModuleClient): void {
    this.ready = false;
    this.client = null;
    this.twin = null;
    void client.close().catch(() => undefined);
    this.start();
  }

  private async setUp(client: ModuleClient): Promise<void> {
    const twin = await withTimeout(client.getTwin(), OPERATION_TIMEOUT_MS, 'reading the module twin');
    this.twin = twin;
    this.applyFullDesired(twin);
    twin.on('properties.desired', (delta: unknown) => {
      const patch = plainObject(delta);
      const version = typeof patch['$version'] === 'number' ? patch['$version'] : 0;
      this.handlers.onDesired(snapshot(patch), version, false);
    });
    for (const name of METHODS) {
      client.onMethod(name, (req?: DeviceMethodRequest, res?: DeviceMethodResponse) => {
        if (req && res) void this.answer(name, req, res);
      });
    }
    this.ready = true;
    this.handlers.onConnected(snapshot(twin.properties.reported) as JsonObject);
  }

  private applyFullDesired(twin: Twin): void {
    const desired = snapshot(twin.properties.desired);
    const version = typeof desired['$version'] === 'number' ? desired['$version'] : 0;
    this.handlers.onDesired(desired, version, true);
  }

  private async refresh(client: ModuleClient): Promise<void> {
    try {
      const twin = await withTimeout(client.getTwin(), OPERATION_TIMEOUT_MS, 'reading the module twin');
      this.twin = twin;
      this.ready = true;
      this.applyFullDesired(twin);
      this.handlers.onConnected(snapshot(twin.properties.reported) as JsonObject);
    } catch (err) {
      this.log.warn({ err }, 'could not read the twin after reconnecting');
    }
  }

  /**
   * A link marked down by a failed operation, with no word from the SDK: read the twin to see
   * whether the connection works; after a few failures, start over with a new client.
   */
  private recover(): void {
    const client = this.client;
    if (this.stopped || this.connecting || !client || this.ready) return;
    void this.refresh(client).then(() => {
      if (this.ready) {
        this.failedRefreshes = 0;
        return;
      }
      if (++this.failedRefreshes >= 3 && this.client === client) {
        this.failedRefreshes = 0;
        this.startOver(client);
      }
    });
  }

  /** Marks the link down after a failed operation so the next (re)connect republishes. */
  private markDown(err: unknown): void {
    if (!this.ready) return;
    this.log.warn({ err }, 'edgeHub operation failed; will republish after reconnecting');
    this.ready = false;
  }

  private async answer(name: string, req: DeviceMethodRequest, res: DeviceMethodResponse): Promise<void> {
    let result: MethodResult;
    try {
      result = await this.handlers.onMethod(name, req.payload as unknown);
    } catch (err) {
      this.log.error({ err, method: name }, 'direct method failed');
      result = {
        status: 500,
        payload: { error: { code: 'InternalError', message: 'the module failed to handle the call; see its log' } },
      };
    }
    try {
      await res.send(result.status, result.payload);
    } catch (err) {
      this.log.warn({ err, method: name }, 'could not send the direct method response');
    }
  }

  /**
   * Reads the twin again (the module's reconciliation, twin-mirror.ts): the desired side is
   * applied as after a reconnect, the reported side is returned.
   */
  async readReported(): Promise<JsonObject> {
    const client = this.client;
    if (!client || !this.connected) throw new Error('not connected to edgeHub');
    try {
      const twin = await withTimeout(client.getTwin(), OPERATION_TIMEOUT_MS, 'reading the module twin');
      this.twin = twin;
      this.applyFullDesired(twin);
      return snapshot(twin.properties.reported) as JsonObject;
    } catch (err) {
      this.markDown(err);
      throw err;
    }
  }

  async updateReported(patch: JsonObject): Promise<void> {
    const twin = this.twin;
    if (!twin || !this.connected) throw new Error('not connected to edgeHub');
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          // The SDK's update() is callback-only: without a callback a failure is an uncaught throw.
          reportedOf(twin).update(patch, (err?: Error) => (err ? reject(refusalOrTransport(err)) : resolve()));
        }),
        30_000,
        'updating reported properties',
      );
    } catch (err) {
      // The hub answered "no": the connection is fine, and reconnecting would not change the answer.
      if (!(err instanceof TwinRefusedError)) this.markDown(err);
      throw err;
    }
  }

  async sendOutput(output: string, msg: OutputMessage): Promise<void> {
    const client = this.client;
    if (!client || !this.connected) throw new Error('not connected to edgeHub');
    const message = new Message(msg.body);
    message.contentType = 'application/json';
    message.contentEncoding = 'utf-8';
    if (msg.messageId) message.messageId = msg.messageId;
    for (const [k, val] of Object.entries(msg.properties)) message.properties.add(k, val);
    try {
      await withTimeout(client.sendOutputEvent(output, message), 35_000, 'sending telemetry');
    } catch (err) {
      this.markDown(err);
      throw err;
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.recoveryTimer) clearInterval(this.recoveryTimer);
    this.wake?.();
    const client = this.client;
    this.client = null;
    this.ready = false;
    if (client) await withTimeout(client.close(), 3000, 'closing the client').catch(() => undefined);
  }
}

/**
 * A direct method the module does not implement answered at once with 404 and the names it does
 * implement (CONTRACT.md 8.3), instead of IoT Hub's 504 after the caller's whole timeout: in a
 * network-diagnostics tool a typo must not look like a connectivity failure.
 *
 * The SDK has no catch-all handler. Its MQTT transport (azure-iot-device-mqtt dist/mqtt.js,
 * `_onDeviceMethod`) turns every `$iothub/methods/POST/{name}/?$rid=…` it receives into an event
 * `method_{name}` on itself, carrying a MethodMessage `{methods: {methodName}, requestId, body}`;
 * `onMethod(name)` merely listens for `method_{name}`, and an event nobody listens for is dropped.
 * So the transport's emit is wrapped: a `method_*` event without a listener is answered through a
 * DeviceMethodResponse (the SDK's own, public response object) on that transport, whose `send`
 * publishes `$iothub/methods/res/404/?$rid=…`. The transport is the client's `_transport` (typed
 * in internal_client.d.ts, documented as private), so the hook checks the shape it relies on and
 * says whether it could install itself; test/module/edge-link.test.ts fails when it cannot.
 */
import deviceSdk from 'azure-iot-device';
import type { DeviceTransport, MethodMessage, ModuleClient } from 'azure-iot-device';

const { DeviceMethodResponse } = deviceSdk;

const METHOD_EVENT = 'method_';

/** The body of the 404: the contract's error shape, plus the names that do exist. */
export function unknownMethodPayload(
  name: string,
  known: readonly string[],
): {
  error: { code: 'UnknownMethod'; message: string; methods: string[] };
} {
  return {
    error: {
      code: 'UnknownMethod',
      message: `the module has no direct method "${name}"; its methods are ${known.join(', ')}`,
      methods: [...known],
    },
  };
}

function isTransport(value: unknown): value is DeviceTransport {
  const t = value as Partial<Record<'emit' | 'listenerCount' | 'sendMethodResponse' | 'onDeviceMethod', unknown>>;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof t.emit === 'function' &&
    typeof t.listenerCount === 'function' &&
    typeof t.sendMethodResponse === 'function' &&
    typeof t.onDeviceMethod === 'function'
  );
}

function requestIdOf(message: unknown): string | null {
  const id = (message as Partial<MethodMessage> | null)?.requestId;
  return typeof id === 'string' && id !== '' ? id : null;
}

/**
 * Makes `client` answer every direct method that has no handler with 404 and `known`. Returns
 * false, changing nothing, when the client's transport is not the shape this relies on (then
 * such calls time out as before). `onAnswered` is told of each call answered this way.
 */
export function answerUnknownMethods(
  client: ModuleClient,
  known: readonly string[],
  onAnswered: (name: string, err?: Error) => void = () => undefined,
): boolean {
  const transport: unknown = (client as { _transport?: unknown })._transport;
  if (!isTransport(transport)) return false;
  const emit = transport.emit.bind(transport);
  transport.emit = function (this: DeviceTransport, event: string | symbol, ...args: unknown[]): boolean {
    if (typeof event === 'string' && event.startsWith(METHOD_EVENT) && this.listenerCount(event) === 0) {
      const name = event.slice(METHOD_EVENT.length);
      const requestId = requestIdOf(args[0]);
      // Without a request id there is nothing to answer to; drop it, as the SDK would.
      if (requestId === null) return false;
      new DeviceMethodResponse(requestId, this).send(404, unknownMethodPayload(name, known)).then(
        () => onAnswered(name),
        (err: unknown) => onAnswered(name, err instanceof Error ? err : new Error(String(err))),
      );
      return true;
    }
    return emit(event, ...args);
  };
  return true;
}

/**
 * True when each of `known` is served the way the hook assumes (a listener on `method_{name}`),
 * checked after the handlers are registered: if a newer SDK dispatched methods differently, the
 * hook would see nothing, and the module says so instead of promising a 404 it cannot give.
 */
export function hookSeesMethods(client: ModuleClient, known: readonly string[]): boolean {
  const transport: unknown = (client as { _transport?: unknown })._transport;
  return isTransport(transport) && known.every((name) => transport.listenerCount(`${METHOD_EVENT}${name}`) > 0);
}

/**
 * Helpers to drive a real azure-iot-device ModuleClient against the emulator inside the test
 * process, the way edgeAgent starts a module: only IOTEDGE_* variables, then `fromEnvironment`.
 */
// Default imports: these are CommonJS packages whose named exports Node's ESM loader cannot detect
// (`import { ModuleClient } from 'azure-iot-device'` fails at run time, though it type-checks).
import deviceSdk from 'azure-iot-device';
import type { ModuleClient, Twin } from 'azure-iot-device';
import deviceMqtt from 'azure-iot-device-mqtt';

const { Message, ModuleClient: ModuleClientCtor } = deviceSdk;
const { Mqtt } = deviceMqtt;
export { Message };

/** Variables that would make `fromEnvironment` take the connection-string path instead. */
const CONNECTION_STRING_VARS = ['EdgeHubConnectionString', 'IotHubConnectionString', 'EdgeModuleCACertificateFile'];

/**
 * `ModuleClient.fromEnvironment(Mqtt)` with `env` as the only IoT Edge environment. process.env is
 * restored afterwards; the SDK reads it only during this call (and fetches the trust bundle then).
 */
export async function moduleClientFromEnv(env: Record<string, string>): Promise<ModuleClient> {
  const keys = [...Object.keys(env), ...CONNECTION_STRING_VARS];
  const saved = new Map(keys.map((k) => [k, process.env[k]]));
  try {
    for (const k of CONNECTION_STRING_VARS) delete process.env[k];
    Object.assign(process.env, env);
    return await ModuleClientCtor.fromEnvironment(Mqtt);
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The callback-only reported update as a Promise (without a callback the SDK crashes). */
export function updateReported(twin: Twin, patch: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    // The SDK types `reported` as an index signature; update() is a callback-only method.
    const reported = twin.properties.reported as unknown as { update(p: unknown, done: (err?: Error) => void): void };
    reported.update(patch, (err?: Error) => (err ? reject(err) : resolve()));
  });
}

/** Rejects if `promise` has not settled in `ms`, so a lost response fails a test instead of hanging it. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `condition` until true (bounded); for states reached asynchronously, such as a SUBSCRIBE. */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Validation of the runDiagnostics payload (CONTRACT.md 5.3):
 * null or {components?, timeoutMs?, deadlineMs?, endpoints? (at most 16)}.
 */
import { TIMEOUT_RANGE } from '../config/options.js';
import { ConfigError, type CheckConfig, type Endpoint } from '../config/types.js';
import * as v from '../config/values.js';
import { COMPONENTS, type ComponentName } from '../report/types.js';

/** IoT Hub waits 30 s for a method by default; the check must end early enough for the reply to travel. */
export const METHOD_DEADLINE_MAX_MS = 25_000;
export const METHOD_MAX_ENDPOINTS = 16;

export interface RunDiagnosticsRequest {
  components?: ComponentName[];
  timeoutMs?: number;
  deadlineMs?: number;
  endpoints?: Endpoint[];
}

export class PayloadError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PayloadError';
  }
}

const ALLOWED = ['components', 'timeoutMs', 'deadlineMs', 'endpoints'];

export function parseRunDiagnostics(payload: unknown): RunDiagnosticsRequest {
  if (payload === null || payload === undefined) return {};
  if (!v.isPlainObject(payload))
    throw new PayloadError(
      'InvalidPayload',
      'payload must be null or a JSON object like {"components":["dns"],"deadlineMs":10000}',
    );
  const unknown = Object.keys(payload).filter((k) => !ALLOWED.includes(k));
  if (unknown.length)
    throw new PayloadError(
      'UnknownProperty',
      `unknown payload properties: ${unknown.join(', ')}; allowed: ${ALLOWED.join(', ')}`,
    );
  try {
    const out: RunDiagnosticsRequest = {};
    if (payload['components'] !== undefined) {
      const list = v.list('components', payload['components'], (o, x) => v.oneOf(o, x, COMPONENTS), COMPONENTS.length);
      if (list.length === 0)
        throw new ConfigError('components', payload['components'], `a non-empty list of ${COMPONENTS.join(', ')}`);
      out.components = COMPONENTS.filter((c) => list.includes(c));
    }
    if (payload['timeoutMs'] !== undefined)
      out.timeoutMs = v.integer('timeoutMs', payload['timeoutMs'], TIMEOUT_RANGE.min, TIMEOUT_RANGE.max);
    if (payload['deadlineMs'] !== undefined)
      out.deadlineMs = v.integer('deadlineMs', payload['deadlineMs'], 500, METHOD_DEADLINE_MAX_MS);
    if (payload['endpoints'] !== undefined) {
      if (Array.isArray(payload['endpoints']) && payload['endpoints'].length > METHOD_MAX_ENDPOINTS) {
        throw new ConfigError(
          'endpoints',
          `${payload['endpoints'].length} entries`,
          `at most ${METHOD_MAX_ENDPOINTS} endpoints`,
        );
      }
      if (typeof payload['endpoints'] === 'string')
        throw new ConfigError('endpoints', payload['endpoints'], 'a JSON array of {host, port}');
      out.endpoints = v.list('endpoints', payload['endpoints'], v.endpoint, METHOD_MAX_ENDPOINTS);
    }
    return out;
  } catch (err) {
    if (err instanceof ConfigError) throw new PayloadError('InvalidValue', err.message);
    throw err;
  }
}

/** The configuration one runDiagnostics call runs with. */
export function configForRequest(base: CheckConfig, req: RunDiagnosticsRequest): CheckConfig {
  const deadlineMs = Math.min(req.deadlineMs ?? base.deadlineMs, METHOD_DEADLINE_MAX_MS);
  return {
    ...base,
    components: req.components ?? base.components,
    timeoutMs: Math.min(req.timeoutMs ?? base.timeoutMs, deadlineMs),
    deadlineMs,
    endpoints: req.endpoints ?? base.endpoints,
  };
}

/** Calls with the same effective parameters share one running check. */
export function requestKey(config: CheckConfig): string {
  return JSON.stringify(Object.entries(config).sort(([a], [b]) => a.localeCompare(b)));
}

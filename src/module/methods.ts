/**
 * The direct methods (CONTRACT.md 5.3): runDiagnostics runs a check (sharing one already running
 * with the same parameters) and answers with its Report; getLastReport answers with the last one.
 * Refusals are `{error: {code, message}}`; every answer stays under the 128 KB method limit.
 * (Names the module does not implement are answered 404 in edge.ts, before they get here.)
 */
import type { CheckConfig } from '../config/types.js';
import { reportToTwin, type JsonObject } from '../report/twin.js';
import type { Report, Trigger } from '../report/types.js';
import type { MethodResult } from './edge.js';
import { PayloadError, configForRequest, parseRunDiagnostics } from './method-payload.js';

const METHOD_RESPONSE_MAX_BYTES = 120 * 1024;

/** What the methods need from the module. */
export interface MethodTarget {
  /** The last report (the device's state), or null before the first check. */
  lastReport(): Report | null;
  /** The check configuration in effect (throws a ConfigError when it cannot be resolved). */
  config(): CheckConfig;
  check(trigger: Trigger, config: CheckConfig): Promise<Report>;
}

const error = (status: number, code: string, message: string): MethodResult => ({
  status,
  payload: { error: { code, message } },
});

export async function answerMethod(target: MethodTarget, name: string, payload: unknown): Promise<MethodResult> {
  if (name === 'getLastReport') {
    const last = target.lastReport();
    return last
      ? { status: 200, payload: fitResponse(last) }
      : error(404, 'NoReport', 'no check has completed yet; call runDiagnostics or retry shortly');
  }
  if (name !== 'runDiagnostics') return error(404, 'UnknownMethod', `unknown method ${name}`);
  let config: CheckConfig;
  try {
    config = configForRequest(target.config(), parseRunDiagnostics(payload));
  } catch (err) {
    if (err instanceof PayloadError) return error(400, err.code, err.message);
    throw err;
  }
  const report = await target.check('method', config);
  return { status: 200, payload: fitResponse(report) };
}

/** A direct-method response must stay under 128 KB: drop bulky evidence before the verdict. */
export function fitResponse(report: Report): Report | JsonObject {
  if (Buffer.byteLength(JSON.stringify(report)) <= METHOD_RESPONSE_MAX_BYTES) return report;
  const slim = JSON.parse(JSON.stringify(report)) as Report & { truncated?: boolean };
  slim.components.ip.interfaces.forEach((i) => (i.ipv6 = []));
  slim.components.dns.servers.forEach((s) => s.queries.forEach((q) => (q.answers = q.answers.slice(0, 4))));
  slim.truncated = true;
  if (Buffer.byteLength(JSON.stringify(slim)) <= METHOD_RESPONSE_MAX_BYTES) return slim;
  return { ...reportToTwin(report, report.startedAt), truncated: true };
}

/**
 * Reading IoT Edge log lines back, two ways:
 * - as edgeAgent does (LogMessageParser in Azure/iotedge, edge-agent/src/
 *   Microsoft.Azure.Devices.Edge.Agent.Core/logs/LogMessageParser.cs): its regex, transcribed
 *   unchanged (the .NET syntax used there means the same in JavaScript), with its default level 6
 *   for a line that carries no `<N>`;
 * - strictly, as src/log-line.ts writes them, so tests can look at the message and the fields.
 */

/** LogMessageParser.LogRegexPattern as of Azure/iotedge main (2026-08). */
export const EDGE_AGENT_LOG_PATTERN =
  /^((?<dockerTimestamp>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z))?\s*(<(?<logLevel>\d)>)?\s*((?<timestamp>\d{4}-\d{2}-\d{2}\s\d{2}:\d{2}:\d{2}.\d{3}\s[+-]\d{2}:\d{2})\s)?\s*(?<logtext>.*)/;

/** What edgeAgent takes from a line: the level its `loglevel` filter compares, the timestamp, the text. */
export function edgeAgentParse(line: string): { logLevel: number; timestamp: string | null; text: string } {
  const m = EDGE_AGENT_LOG_PATTERN.exec(line);
  const level = m?.groups?.['logLevel'];
  return {
    logLevel: level ? Number(level) : 6,
    timestamp: m?.groups?.['timestamp'] ?? null,
    text: m?.groups?.['logtext'] ?? line,
  };
}

/** Our own line shape, stricter than edgeAgent's (which accepts anything). */
const LINE = /^<([0-7])> (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} \+00:00) \[(FTL|ERR|WRN|INF|DBG|VRB)\](?: (.*))?$/;

/** The pino level each label stands for. */
export const PINO_LEVEL_OF_LABEL: Record<string, number> = { FTL: 60, ERR: 50, WRN: 40, INF: 30, DBG: 20, VRB: 10 };

export interface IotEdgeLine {
  severity: number;
  timestamp: string;
  label: string;
  /** The pino level the label stands for. */
  level: number;
  msg: string;
  fields: Record<string, unknown>;
}

/** Index just past the JSON value (string, object or array) starting at `start`, or -1. */
function endOfJson(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') {
        inString = false;
        if (depth === 0) return i + 1;
      }
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
      if (depth < 0) return -1;
    }
  }
  return -1;
}

const JSON_LITERAL = /^(?:-?\d[\d.eE+-]*|true|false|null)$/;

function parseFields(text: string): Record<string, unknown> | null {
  const fields: Record<string, unknown> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq <= i) return null;
    const key = text.slice(i, eq);
    if (!/^[\w.-]+$/.test(key)) return null;
    let end: number;
    let value: unknown;
    const first = text[eq + 1];
    if (first === '"' || first === '{' || first === '[') {
      end = endOfJson(text, eq + 1);
      if (end < 0) return null;
      try {
        value = JSON.parse(text.slice(eq + 1, end));
      } catch {
        return null;
      }
    } else {
      end = text.indexOf(' ', eq + 1);
      if (end < 0) end = text.length;
      const raw = text.slice(eq + 1, end);
      if (raw === '') return null;
      value = JSON_LITERAL.test(raw) ? (JSON.parse(raw) as unknown) : raw;
    }
    fields[key] = value;
    if (end === text.length) break;
    if (text[end] !== ' ') return null;
    i = end + 1;
  }
  return fields;
}

/** A line as src/log-line.ts writes it, or null when it is not exactly that shape. */
export function parseIotEdgeLine(line: string): IotEdgeLine | null {
  const m = LINE.exec(line);
  if (!m) return null;
  const [, severity, timestamp, label, rest = ''] = m;
  let msg: string;
  let fieldText = '';
  if (rest.startsWith('"')) {
    const end = endOfJson(rest, 0);
    if (end < 0) return null;
    msg = JSON.parse(rest.slice(0, end)) as string;
    if (end < rest.length) {
      if (rest[end] !== ' ') return null;
      fieldText = rest.slice(end + 1);
    }
  } else {
    // A bare message holds no "=", so the first "=" is the first field's.
    const eq = rest.indexOf('=');
    if (eq < 0) msg = rest;
    else {
      const space = rest.lastIndexOf(' ', eq);
      msg = space < 0 ? '' : rest.slice(0, space);
      fieldText = rest.slice(space + 1);
    }
  }
  const fields = parseFields(fieldText);
  if (!fields || !label) return null;
  return {
    severity: Number(severity),
    timestamp: timestamp ?? '',
    label,
    level: PINO_LEVEL_OF_LABEL[label] ?? 30,
    msg,
    fields,
  };
}

/**
 * IoT Hub MQTT topic names: parsing what a module publishes and building what the hub sends.
 * Pure functions, kept apart from the broker so they can be checked on their own.
 */

export const TWIN_RES_FILTER = '$iothub/twin/res/#';
export const DESIRED_FILTER = '$iothub/twin/PATCH/properties/desired/#';
export const METHODS_FILTER = '$iothub/methods/POST/#';
export const inputsFilter = (deviceId: string, moduleId: string): string =>
  `devices/${deviceId}/modules/${moduleId}/inputs/#`;

export const eventsPrefix = (deviceId: string, moduleId: string): string =>
  `devices/${deviceId}/modules/${moduleId}/messages/events`;

/** MQTT 3.1.1 topic-filter matching (`+` one level, `#` the rest; `$` topics only match `$` filters). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '#' || f[0] === '+')) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** The query part of `a/b/?k=v&k2=v2` (or `a/b?k=v`) as a map; undefined values are absent. */
export function topicQuery(topic: string): Map<string, string> {
  const q = topic.indexOf('?');
  const out = new Map<string, string>();
  if (q < 0) return out;
  for (const pair of topic.slice(q + 1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    out.set(safeDecode(key) ?? key, safeDecode(value) ?? value);
  }
  return out;
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

export interface PropertyBag {
  /** `$.`-prefixed system properties (`$.on`, `$.ct`, `$.ce`, `$.mid`, …), decoded. */
  system: Record<string, string>;
  /** Application properties, decoded. */
  application: Record<string, string>;
  /** Set when a key or value is not valid percent-encoding; the raw text is kept instead. */
  malformed?: string;
}

/**
 * Decodes an IoT Hub property bag (`%24.on=output1&%24.ct=application%2Fjson&alert=true`), the way
 * edgeHub does: split on `&` and the first `=`, percent-decode each side.
 */
export function decodePropertyBag(bag: string): PropertyBag {
  const result: PropertyBag = { system: {}, application: {} };
  for (const pair of bag.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    const key = safeDecode(rawKey);
    const value = safeDecode(rawValue);
    if (key === undefined || value === undefined) result.malformed = pair;
    const k = key ?? rawKey;
    (k.startsWith('$.') ? result.system : result.application)[k] = value ?? rawValue;
  }
  return result;
}

/**
 * The property bag of a telemetry topic, or undefined when the topic is not this identity's
 * events topic. Accepts `…/messages/events`, `…/messages/events/`, `…/events/{bag}` and `…/events/{bag}/`.
 */
export function eventsTopicBag(topic: string, deviceId: string, moduleId: string): string | undefined {
  const prefix = eventsPrefix(deviceId, moduleId);
  if (topic === prefix) return '';
  if (!topic.startsWith(`${prefix}/`)) return undefined;
  let bag = topic.slice(prefix.length + 1);
  if (bag.endsWith('/')) bag = bag.slice(0, -1);
  return bag;
}

/** `$iothub/methods/res/{status}/?$rid={rid}` → status and rid. */
export function parseMethodResponseTopic(topic: string): { status: number; rid: string } | undefined {
  const m = /^\$iothub\/methods\/res\/(\d{1,3})\/?\?/.exec(topic);
  const rid = topicQuery(topic).get('$rid');
  if (!m?.[1] || !rid) return undefined;
  return { status: Number(m[1]), rid };
}

export type TwinRequest = { kind: 'get'; rid: string } | { kind: 'patch-reported'; rid: string };

/** `$iothub/twin/GET/?$rid=` or `$iothub/twin/PATCH/properties/reported/?$rid=`. */
export function parseTwinRequestTopic(topic: string): TwinRequest | undefined {
  const rid = topicQuery(topic).get('$rid');
  if (!rid) return undefined;
  if (/^\$iothub\/twin\/GET\/?\?/.test(topic)) return { kind: 'get', rid };
  if (/^\$iothub\/twin\/PATCH\/properties\/reported\/?\?/.test(topic)) return { kind: 'patch-reported', rid };
  return undefined;
}

export const twinResponseTopic = (status: number, rid: string, version?: number): string =>
  `$iothub/twin/res/${status}/?$rid=${encodeURIComponent(rid)}${version === undefined ? '' : `&$version=${version}`}`;

export const desiredPatchTopic = (version: number): string =>
  `$iothub/twin/PATCH/properties/desired/?$version=${version}`;

/** edgeHub puts the method name in the topic as is (the SDK reads it back undecoded). */
export const methodRequestTopic = (methodName: string, rid: string): string =>
  `$iothub/methods/POST/${methodName}/?$rid=${encodeURIComponent(rid)}`;

/** Method names become one topic level, so MQTT's separators and wildcards cannot appear in them. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this checks for
export const isValidMethodName = (name: string): boolean => name.length > 0 && !/[/#+?\u0000]/u.test(name);

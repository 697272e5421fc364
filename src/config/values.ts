/**
 * Validators for single configuration values. Each takes what a source gave (a CLI string,
 * an environment string or a JSON value from a desired property / method payload) and
 * returns the typed value or throws ConfigError naming the option, the value and what is allowed.
 */
import { isIP } from 'node:net';
import { maskProxyUrl, parseProxyUrl } from '../probes/proxy-url.js';
import { SWITCH_TYPES, UPSTREAM_PROTOCOLS } from '../report/vocabulary.js';
import { isPlainObject } from '../util/json.js';
import { ConfigError, type Endpoint } from './types.js';

export { isPlainObject };

export { SWITCH_TYPES, UPSTREAM_PROTOCOLS };

const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const INTERFACE_NAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

export function hostname(option: string, value: unknown): string {
  if (typeof value !== 'string') throw new ConfigError(option, value, 'a hostname (string)');
  const v = value.trim().replace(/\.$/, '');
  const ok = isIP(v) !== 0 || (v.length <= 253 && v.split('.').every((l) => HOST_LABEL.test(l)));
  if (!ok) throw new ConfigError(option, value, 'a DNS hostname like myhub.azure-devices.net, or an IP address');
  return v.toLowerCase();
}

export function ipAddress(option: string, value: unknown): string {
  if (typeof value !== 'string' || isIP(value.trim()) === 0) {
    throw new ConfigError(option, value, 'an IPv4 or IPv6 address like 172.27.120.111');
  }
  return value.trim();
}

export function interfaceName(option: string, value: unknown): string {
  if (typeof value !== 'string' || !INTERFACE_NAME.test(value)) {
    throw new ConfigError(option, value, 'an interface name like eth0 (1-15 letters, digits, _ . : @ -)');
  }
  return value;
}

export function port(option: string, value: unknown): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new ConfigError(option, value, 'a port number from 1 to 65535');
  }
  return n;
}

/** `host:port`, `[v6]:port` (CLI, environment) or `{host, port}` (twin, method payload). */
export function endpoint(option: string, value: unknown): Endpoint {
  if (typeof value === 'string') {
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:]+):(\d+)$/.exec(value);
    if (!m) throw new ConfigError(option, value, 'HOST:PORT, for example global.azure-devices-provisioning.net:443');
    return { host: hostname(option, m[1]), port: port(option, m[2]) };
  }
  if (isPlainObject(value) && Object.keys(value).every((k) => k === 'host' || k === 'port')) {
    return { host: hostname(option, value['host']), port: port(option, value['port']) };
  }
  throw new ConfigError(option, value, 'an object {host, port} or a "HOST:PORT" string');
}

export function integer(option: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(option, value, `a whole number from ${min} to ${max}`);
  }
  return n;
}

export function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  // Accept any letter case from people typing it, store the canonical spelling.
  const hit =
    typeof value === 'string' ? allowed.find((a) => a.toLowerCase() === value.trim().toLowerCase()) : undefined;
  if (hit === undefined) throw new ConfigError(option, value, `one of ${allowed.join(', ')}`);
  return hit;
}

export function nonEmptyText(option: string, value: unknown, max = 256): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
    throw new ConfigError(option, value, `a non-empty text of at most ${max} characters`);
  }
  return value.trim();
}

export function filePath(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 4096 || value.includes('\0')) {
    throw new ConfigError(option, value, 'a file or directory path');
  }
  return value;
}

/** A list: a JSON array, or a comma-separated string (environment variables). */
export function list<T>(
  option: string,
  value: unknown,
  item: (option: string, v: unknown) => T,
  max = 32,
  min = 0,
): T[] {
  const items =
    typeof value === 'string'
      ? value
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : value;
  if (!Array.isArray(items)) throw new ConfigError(option, value, 'a list (JSON array, or comma-separated)');
  if (items.length > max) throw new ConfigError(option, value, `at most ${max} entries`);
  if (items.length < min) throw new ConfigError(option, value, `at least ${min} ${min === 1 ? 'entry' : 'entries'}`);
  return items.map((v: unknown) => item(option, v));
}

/**
 * A proxy URL, returned as written (its password is needed for Proxy-Authorization). A malformed
 * one is refused, masked in the message; a well-formed one with another scheme than http
 * (`https://…`) is accepted, since it is a finding to report (PROXY_URL_INVALID), not a typo.
 */
export function proxyUrl(option: string, value: unknown): string {
  if (typeof value !== 'string') throw new ConfigError(option, value, 'a proxy URL like http://proxy:3128 (string)');
  const info = parseProxyUrl(value);
  if (info.valid || info.problem === 'scheme') return value.trim();
  throw new ConfigError(
    option,
    maskProxyUrl(value),
    `a proxy URL like http://[user:password@]host:port (${info.detail ?? 'malformed'})`,
  );
}

/** A DPS host, or its global_endpoint URL (https://host/…) as config.toml writes it. */
export function dpsHost(option: string, value: unknown): string {
  const url = typeof value === 'string' ? /^https?:\/\/([^/:?#\s]+)(?::\d+)?\/?$/i.exec(value.trim()) : null;
  return hostname(option, url ? url[1] : value);
}

const ON = new Set(['on', 'true', 'yes', '1']);
const OFF = new Set(['off', 'false', 'no', '0']);

/** A switch: a JSON boolean, or on/off, true/false, yes/no, 1/0 in any case. */
export function onOff(option: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const text = typeof value === 'string' ? value.trim().toLowerCase() : null;
  if (text !== null && ON.has(text)) return true;
  if (text !== null && OFF.has(text)) return false;
  throw new ConfigError(option, value, 'on or off (true/false)');
}

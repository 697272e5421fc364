/**
 * Reads what a check needs from the IoT Edge configuration (/etc/aziot/config.toml), parsed as
 * TOML (smol-toml): the IoT Hub hostname, the DPS global endpoint's host, the parent of a nested
 * edge device and the provisioning source. The file holds connection strings and device keys:
 * only those host names and the source are taken from it, the parsed document is dropped at once,
 * and nothing else of it is kept, returned or logged (a TOML syntax error is not even echoed: the
 * parser's message quotes the offending line).
 */
import { parse as parseToml } from 'smol-toml';
import { readUtf8, type ReadText } from '../util/files.js';

export interface AziotSettings {
  /** `[provisioning] iothub_hostname`, else the HostName of `connection_string`. */
  hub: string | null;
  /** The host of `[provisioning] global_endpoint` (DPS). */
  dps: string | null;
  /** `parent_hostname` (nested edge: the upstream device). */
  parent: string | null;
  /** `[provisioning] source`: `manual`, `dps`, … */
  provisioningSource: string | null;
}

export const NO_AZIOT_SETTINGS: AziotSettings = { hub: null, dps: null, parent: null, provisioningSource: null };

type Table = Record<string, unknown>;

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function text(table: Table | undefined, key: string): string | null {
  const value = table?.[key];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

function hostOfUrl(value: string | null): string | null {
  if (value === null) return null;
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/:?#\s]+)/.exec(value) ?? /^([^/:?#\s]+)/.exec(value);
  return m?.[1] ? m[1].toLowerCase() : null;
}

/** The settings of a config.toml text; never throws (not TOML: nothing is known). */
export function aziotSettingsFromToml(source: string): AziotSettings {
  let doc: unknown;
  try {
    doc = parseToml(source);
  } catch {
    return { ...NO_AZIOT_SETTINGS };
  }
  if (!isTable(doc)) return { ...NO_AZIOT_SETTINGS };
  const provisioning = isTable(doc['provisioning']) ? doc['provisioning'] : undefined;
  // iothub_hostname belongs to [provisioning]; a top-level one is read too, as the old line reader did.
  const named = text(provisioning, 'iothub_hostname') ?? text(doc, 'iothub_hostname');
  let hub = named?.toLowerCase() ?? null;
  if (hub === null) {
    const connection = text(provisioning, 'connection_string') ?? text(doc, 'connection_string');
    const host = connection === null ? null : /(?:^|;)\s*HostName=([^;]+)/i.exec(connection);
    if (host?.[1]) hub = host[1].trim().toLowerCase();
  }
  return {
    hub,
    dps: hostOfUrl(text(provisioning, 'global_endpoint')),
    parent: text(doc, 'parent_hostname')?.toLowerCase() ?? null,
    provisioningSource: text(provisioning, 'source')?.toLowerCase() ?? null,
  };
}

/** The settings of the file at `path`; all null when it is absent or unreadable (not an IoT Edge host, or no sudo). */
export async function aziotSettings(path: string, read: ReadText = readUtf8): Promise<AziotSettings> {
  try {
    return aziotSettingsFromToml(await read(path));
  } catch {
    return { ...NO_AZIOT_SETTINGS };
  }
}

/** The hub from config.toml text (see aziotSettingsFromToml). */
export function hubFromAziotToml(source: string): string | null {
  return aziotSettingsFromToml(source).hub;
}

/** The hub from the file at `path`, or null. */
export async function hubFromAziotConfig(path: string, read: ReadText = readUtf8): Promise<string | null> {
  return (await aziotSettings(path, read)).hub;
}

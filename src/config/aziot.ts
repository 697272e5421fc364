/**
 * Reads the IoT Hub hostname from the IoT Edge configuration (/etc/aziot/config.toml).
 * The file may hold a connection string with a device key: only the HostName is taken from
 * it and nothing else of it is kept, returned or logged.
 */
import { readUtf8, type ReadText } from '../util/files.js';

export async function hubFromAziotConfig(path: string, read: ReadText = readUtf8): Promise<string | null> {
  let text: string;
  try {
    text = await read(path);
  } catch {
    return null; // Not an IoT Edge host, or not readable: the caller falls back to DPS.
  }
  return hubFromAziotToml(text);
}

/** The hub from `iothub_hostname = "…"`, else from `HostName=` inside `connection_string = "…"`. */
export function hubFromAziotToml(text: string): string | null {
  let fromConnectionString: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    const m = /^([A-Za-z_]+)\s*=\s*["']([^"']*)["']$/.exec(line);
    if (!m) continue;
    const [, key, value] = m;
    if (key === 'iothub_hostname' && value) return value.trim().toLowerCase();
    if (key === 'connection_string' && value) {
      const host = /(?:^|;)\s*HostName=([^;]+)/i.exec(value);
      if (host?.[1]) fromConnectionString = host[1].trim().toLowerCase();
    }
  }
  return fromConnectionString;
}

/**
 * A real MQTT broker for the field lab where a genuine CONNACK matters: mosquitto with TLS on the
 * listeners asked for, refusing every client (no anonymous access, an empty password file), so a
 * device-shaped CONNECT gets CONNACK 5 "not authorised", as from IoT Hub for a bad SAS token.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from './harness.js';
import type { LabServer } from './lab-process.js';
import { findTool } from './require-lab.js';

export interface MosquittoListener {
  address: string;
  port: number;
  certFile: string;
  keyFile: string;
}

export function mosquittoConfig(listeners: MosquittoListener[], passwordFile: string): string {
  const lines = [
    'per_listener_settings false',
    'allow_anonymous false',
    `password_file ${passwordFile}`,
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    // Stay root: the certificate files are in the lab's root-only temp dir.
    'user root',
  ];
  for (const l of listeners) {
    lines.push('', `listener ${l.port} ${l.address}`, `certfile ${l.certFile}`, `keyfile ${l.keyFile}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function startMosquitto(lab: Lab, listeners: MosquittoListener[]): Promise<LabServer> {
  const passwordFile = join(lab.paths.dir, 'mosquitto.passwd');
  writeFileSync(passwordFile, '', { mode: 0o600 });
  const configFile = join(lab.paths.dir, 'mosquitto.conf');
  writeFileSync(configFile, mosquittoConfig(listeners, passwordFile));
  const { server } = await lab.startServer('net', {
    name: `mosquitto ${listeners.map((l) => `${l.address}:${l.port}`).join(',')}`,
    cmd: findTool('mosquitto') ?? 'mosquitto',
    args: ['-c', configFile],
    // Printed once every listener is open (mosquitto exits when one cannot be).
    ready: /mosquitto version [\d.]+ running/,
  });
  return server;
}

/**
 * The configuration and constants of field-hub-server.ts, in their own module so the lab and the
 * self-tests can import them without starting the server.
 */
export const FIELD_APPS = ['mqtt', 'amqp', 'https', 'tls-only'] as const;
export type FieldApp = (typeof FIELD_APPS)[number];
export const MIDDLEBOX_MODES = [
  'tls-then-cut',
  'tls-then-close',
  'http-block-page',
  'tls-silent',
  'reset',
  'close',
] as const;
export type MiddleboxMode = (typeof MIDDLEBOX_MODES)[number];

export interface FieldListenerConfig {
  /** A label for the log lines, e.g. `hub:8883`. */
  name: string;
  address: string;
  port: number;
  app: FieldApp;
  middlebox: MiddleboxMode | null;
  /** PEM chain and key; null only for middleboxes that never do TLS (tls-silent, reset, close). */
  certFile: string | null;
  keyFile: string | null;
  /** Added to this server's clock in the HTTP `Date` header. */
  dateOffsetSeconds: number;
  /** The CONNACK return code for an MQTT CONNECT. */
  connackCode: number;
}

export interface FieldHubConfig {
  listeners: FieldListenerConfig[];
}

/** The SASL protocol header of AMQP 1.0 (protocol id 3, version 1.0.0). */
export const AMQP_SASL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0x03, 0x01, 0x00, 0x00]);
export const WEBSOCKET_PATH = '/$iothub/websocket';
/** The WebSocket subprotocols IoT Hub speaks on /$iothub/websocket. */
export const WEBSOCKET_PROTOCOLS = ['mqtt', 'AMQPWSB10'];
export const BLOCK_PAGE_TITLE = 'Contoso Web Filter: access denied';

/**
 * A deliberately tiny MQTT 3.1.1 client over TLS for tests that need to send what the SDK never
 * sends (forged tokens, forbidden topics, QoS 2). Hand-encoded so the tests depend on no MQTT
 * package beyond the broker itself.
 */
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';

export interface RawPacket {
  type: number;
  flags: number;
  body: Buffer;
}

function remainingLength(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}

const str = (s: string | Buffer): Buffer => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
};

const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};

const packet = (firstByte: number, body: Buffer): Buffer =>
  Buffer.concat([Buffer.from([firstByte]), remainingLength(body.length), body]);

export interface RawConnectOptions {
  clientId: string;
  username?: string;
  password?: string;
  clean?: boolean;
}

export class RawMqttClient {
  private buffer = Buffer.alloc(0);
  private readonly queue: RawPacket[] = [];
  private waiter: ((p: RawPacket | undefined) => void) | undefined;
  private closedFlag = false;
  private nextId = 1;

  private constructor(private readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    socket.on('close', () => {
      this.closedFlag = true;
      this.flushWaiter();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, ca: string): Promise<RawMqttClient> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
        socket.off('error', reject);
        resolve(new RawMqttClient(socket));
      });
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  private parse(): void {
    for (;;) {
      if (this.buffer.length < 2) return;
      let multiplier = 1;
      let length = 0;
      let i = 1;
      let byte: number;
      do {
        if (i >= this.buffer.length) return;
        byte = this.buffer[i] ?? 0;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        i++;
      } while (byte & 0x80);
      if (this.buffer.length < i + length) return;
      const first = this.buffer[0] ?? 0;
      this.queue.push({ type: first >> 4, flags: first & 0x0f, body: this.buffer.subarray(i, i + length) });
      this.buffer = this.buffer.subarray(i + length);
      this.flushWaiter();
    }
  }

  private flushWaiter(): void {
    const w = this.waiter;
    if (!w) return;
    const next = this.queue.shift();
    if (next || this.closedFlag) {
      this.waiter = undefined;
      w(next);
    }
  }

  /** The next packet from the broker, or undefined if the connection closed first. */
  next(timeoutMs = 5000): Promise<RawPacket | undefined> {
    const queued = this.queue.shift();
    if (queued || this.closedFlag) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no MQTT packet within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (p) => {
        clearTimeout(timer);
        resolve(p);
      };
    });
  }

  /** Resolves when the broker has closed the connection (bounded). */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closedFlag && Date.now() < deadline) {
      try {
        await this.next(Math.max(1, deadline - Date.now()));
      } catch {
        break;
      }
    }
    return this.closedFlag;
  }

  /** Sends CONNECT and returns the CONNACK return code (0 = accepted, 5 = not authorized). */
  async connect(opts: RawConnectOptions): Promise<number | undefined> {
    let flags = opts.clean === false ? 0 : 0x02;
    const payload = [str(opts.clientId)];
    if (opts.username !== undefined) {
      flags |= 0x80;
      payload.push(str(opts.username));
    }
    if (opts.password !== undefined) {
      flags |= 0x40;
      payload.push(str(opts.password));
    }
    const variable = Buffer.concat([str('MQTT'), Buffer.from([4, flags]), u16(60)]);
    this.socket.write(packet(0x10, Buffer.concat([variable, ...payload])));
    const ack = await this.next();
    return ack?.type === 2 ? ack.body[1] : undefined;
  }

  /** Sends SUBSCRIBE and returns the SUBACK return codes. */
  async subscribe(filter: string, qos = 0): Promise<number[]> {
    const id = this.nextId++;
    this.socket.write(packet(0x82, Buffer.concat([u16(id), str(filter), Buffer.from([qos])])));
    const ack = await this.next();
    return ack?.type === 9 ? [...ack.body.subarray(2)] : [];
  }

  publish(topic: string, payload: string | Buffer, qos = 0): void {
    const parts = [str(topic)];
    if (qos > 0) parts.push(u16(this.nextId++));
    parts.push(Buffer.isBuffer(payload) ? payload : Buffer.from(payload));
    this.socket.write(packet(0x30 | (qos << 1), Buffer.concat(parts)));
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Masks secrets in everything written to stdout/stderr other than our own (already masked) pino
 * lines. The SDK's dependencies log through the `debug` package when DEBUG is set — a normal
 * troubleshooting step on a device — and mqtt-packet then prints the CONNECT password, which is
 * the module's SAS token. Patching the streams covers every copy of `debug` and anything else
 * that writes there (console.*), whatever the load order.
 */
import { maskSecrets } from '../log.js';

export function maskProcessOutput(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    const masked = (chunk: unknown, ...rest: unknown[]): boolean => {
      if (typeof chunk === 'string') return write(maskSecrets(chunk), ...rest);
      if (chunk instanceof Uint8Array) return write(maskSecrets(Buffer.from(chunk).toString('utf8')), ...rest);
      return write(chunk, ...rest);
    };
    stream.write = masked;
  }
}

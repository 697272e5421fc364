/** Joins two sockets into one connection: bytes flow both ways, and either end closing or failing ends both. */
import type { Socket } from 'node:net';

export function splice(a: Socket, b: Socket): void {
  const end = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', end).on('close', end);
  b.on('error', end).on('close', end);
  a.pipe(b);
  b.pipe(a);
}

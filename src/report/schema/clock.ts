/** The clock layer of the Report (CONTRACT.md 7.4). */
import { Type } from '@sinclair/typebox';
import { Nullable, componentStatusFields } from './helpers.js';

export const ClockComponentSchema = Type.Object({
  ...componentStatusFields(),
  offsetMs: Nullable(
    Type.Number(),
    "The local clock minus the server's HTTPS Date, corrected for half the round trip (negative: the VM is behind).",
  ),
  reference: Nullable(Type.String(), 'The host:port whose Date the offset was measured against.'),
  synchronized: Nullable(
    Type.Boolean(),
    'What the time service says: false only when a running service says it is not synchronised; null when unknown.',
  ),
  syncSource: Nullable(Type.String(), 'The time service that said so (systemd-timesyncd, chrony) and its source.'),
});

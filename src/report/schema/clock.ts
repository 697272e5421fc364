/** The clock layer of the Report (CONTRACT.md 7.4). */
import { Type } from '@sinclair/typebox';
import { Nullable, StringEnum, componentStatusFields } from './helpers.js';

export const ClockComponentSchema = Type.Object({
  ...componentStatusFields(),
  offsetMs: Nullable(
    Type.Number(),
    "The local clock minus the server's HTTPS Date, corrected for half the round trip (negative: the VM is behind).",
  ),
  uncertaintyMs: Type.Optional(
    Nullable(
      Type.Number({ minimum: 0 }),
      'How far the true offset may be from offsetMs (half the round trip + 0.5 ' + 's).',
    ),
  ),
  reference: Nullable(Type.String(), 'The host:port whose Date the offset was measured against.'),
  synchronized: Nullable(
    Type.Boolean(),
    'What the time service says: false only when a running service says it is not synchronised; null when unknown.',
  ),
  syncSource: Nullable(Type.String(), 'The server or reference the time service follows, when it says.'),
  service: Type.Optional(
    Nullable(
      StringEnum(['systemd-timesyncd', 'chronyd'] as const),
      'The time service whose word decided ' + 'synchronized.',
    ),
  ),
  lastSyncAt: Type.Optional(
    Nullable(Type.String(), "systemd-timesyncd's last successful synchronisation, when known (ISO 8601)."),
  ),
  detail: Type.Optional(Type.String({ description: 'What each time service said, as one sentence.' })),
});

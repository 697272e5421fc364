/** TypeBox shorthands for the shapes the Report uses again and again. */
import { Type, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { COMPONENTS, COMPONENT_STATUSES } from '../vocabulary.js';

/** A string from a fixed list, emitted as a JSON Schema `enum` (TypeBox's literal unions are verbose). */
export function StringEnum<const T extends readonly string[]>(values: T, description?: string): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });
}

/** `T | null`. */
export function Nullable<T extends TSchema>(schema: T, description?: string) {
  return Type.Union([schema, Type.Null()], description ? { description } : {});
}

export const Milliseconds = (description?: string) => Nullable(Type.Number({ minimum: 0 }), description);

/** Every component's status, and why it is inconclusive when it is. */
export const componentStatusFields = () => ({
  status: StringEnum(COMPONENT_STATUSES),
  inconclusiveBecause: Type.Optional(
    StringEnum(
      [...COMPONENTS, 'deadline', 'unmeasured'] as const,
      'Only when inconclusive: the earlier layer that is broken, "deadline" when the evidence did not arrive in ' +
        'time, or "unmeasured" when there was nothing to measure.',
    ),
  ),
});

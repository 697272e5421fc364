/**
 * The shape of a catalogue entry. Every finding code is one entry: its component, its default
 * severity, the words the README's code table shows, and the builder of its message and guidance,
 * so no code can be emitted without the words an operator acts on.
 */
import type { ComponentName, Severity } from '../report/vocabulary.js';

export interface Words {
  /** What was observed, with the actual and the expected value. */
  message: string;
  /** The next concrete step for the operator (EFLOW cmdlets where they apply). */
  guidance: string;
}

export interface CodeSpec<A> {
  readonly component: ComponentName;
  /** The severity the code has unless its rule says otherwise (see `severityRule`). */
  readonly severity: Severity;
  /** When the code is reported: the README table's "when" column. */
  readonly when: string;
  /** The README table's severity column when it is a rule rather than one severity. */
  readonly severityRule?: string;
  /** Not in CONTRACT.md: this project's own addition. */
  readonly extension?: true;
  readonly words: (args: A) => Words;
}

/** Keeps each entry's argument type, so `finding(code, …)` type-checks the arguments of that code. */
export function defineCodes<T extends Record<string, CodeSpec<never>>>(table: T): T {
  return table;
}

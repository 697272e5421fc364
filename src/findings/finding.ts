/** The one way to make a finding: its component and words come from the catalogue. */
import type { Finding } from '../report/types.js';
import type { Severity } from '../report/vocabulary.js';
import { CATALOGUE, type FindingCode, type WordsArgs } from './catalogue.js';
import type { Words } from './define.js';

/**
 * A finding of `code` about `subject`, worded from `args`. `severity` overrides the catalogue's
 * default for codes whose severity follows a rule (by port, by whether another server works).
 */
export function finding<C extends FindingCode>(
  code: C,
  subject: string,
  args: WordsArgs<C>,
  severity?: Severity,
): Finding {
  const spec = CATALOGUE[code];
  // Indexing with a generic code widens `words` to the union of every builder; `args` is the one for `code`.
  const words = (spec.words as (a: WordsArgs<C>) => Words)(args);
  return { code, severity: severity ?? spec.severity, component: spec.component, subject, ...words };
}

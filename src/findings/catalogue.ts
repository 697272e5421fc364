/**
 * Every finding code the product can report, one table per layer, merged here. Codes are API:
 * tests, dashboards and fleet queries match on them, the README's code table is checked against
 * this list, and the Report's JSON Schema enumerates it.
 */
import type { CodeSpec } from './define.js';
import { CLOCK_CODES } from './clock.js';
import { DNS_CODES } from './dns.js';
import { FIREWALL_CODES } from './firewall.js';
import { IP_CODES } from './ip.js';
import { PROXY_CODES } from './proxy.js';

export const CATALOGUE = { ...IP_CODES, ...DNS_CODES, ...PROXY_CODES, ...FIREWALL_CODES, ...CLOCK_CODES } as const;

export type Catalogue = typeof CATALOGUE;
export type FindingCode = keyof Catalogue;
/** The arguments the words of `C` are built from. */
export type WordsArgs<C extends FindingCode> = Parameters<Catalogue[C]['words']>[0];

/** In catalogue order: layer by layer, as CONTRACT.md lists them. */
export const FINDING_CODES = Object.keys(CATALOGUE) as FindingCode[];

export function specOf(code: FindingCode): CodeSpec<never> {
  return CATALOGUE[code];
}

/** The clock layer's codes (CONTRACT.md 7.4) and their words. */
import { defineCodes } from './define.js';

export const CLOCK_CODES = defineCodes({});

/** The proxy layer's codes (CONTRACT.md 7.1) and their words. */
import { defineCodes } from './define.js';

export const PROXY_CODES = defineCodes({});

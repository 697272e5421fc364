/**
 * Reading errors that come from Node, libraries and our own code alike. Node's system errors
 * carry an errno-like `code` (ECONNREFUSED, ENOENT…); that code is the evidence a finding quotes.
 */

/** The `code` of an error-like value (a string), or undefined. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** A one-line description of anything thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') {
    return error.message;
  }
  return String(error);
}

/** An Error with an errno-like code, the shape Node's own system errors have. */
export function errorWithCode(message: string, code: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

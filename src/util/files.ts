/**
 * The one seam for reading text files: every probe that reads a file takes a `ReadText`, so
 * tests hand it fixtures and nothing is read behind their back. Failures become sentences for
 * the report ("does not exist", "could not be read (EACCES)"), never throws.
 */
import { readFile } from 'node:fs/promises';
import { errorCode } from './errors.js';

export type ReadText = (path: string) => Promise<string>;

export const readUtf8: ReadText = (path) => readFile(path, 'utf8');

/** Why a file could not be read, as the end of a sentence that starts with its path. */
export function unreadableReason(error: unknown): string {
  const code = errorCode(error);
  return code === 'ENOENT' ? 'does not exist' : `could not be read (${code ?? String(error)})`;
}

/** The text of `path`, or a problem sentence naming it. */
export async function readTextOrProblem(
  path: string,
  read: ReadText = readUtf8,
): Promise<{ text: string } | { problem: string }> {
  try {
    const text = await read(path);
    if (typeof text !== 'string') return { problem: `${path} could not be read as text` };
    return { text };
  } catch (error) {
    return { problem: `${path} ${unreadableReason(error)}` };
  }
}

/** The text of `path`, or null when it cannot be read (absent is a normal answer). */
export async function readTextOrNull(path: string, read: ReadText = readUtf8): Promise<string | null> {
  try {
    return await read(path);
  } catch {
    return null;
  }
}

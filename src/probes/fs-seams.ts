/**
 * File-system seams beside util/files.ts's ReadText, for probes that list directories or look at
 * a file's existence and mtime: tests pass fixtures or fakes, production the real calls.
 */
import { readdir, stat } from 'node:fs/promises';
import { errorCode } from '../util/errors.js';

/** Lists a directory's entry names; rejects (ENOENT, EACCES…) like fs.readdir. */
export type ReadDir = (path: string) => Promise<string[]>;

export const readDirNames: ReadDir = (path) => readdir(path);

/** A file's mtime, or null when it does not exist; rejects for other failures (EACCES…). */
export type StatFile = (path: string) => Promise<{ mtimeMs: number } | null>;

export const statFile: StatFile = async (path) => {
  try {
    return { mtimeMs: (await stat(path)).mtimeMs };
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
};

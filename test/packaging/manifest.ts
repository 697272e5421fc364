/**
 * The packaging files as data, read from the repository root, plus what IoT Edge tooling does to
 * them (iotedgedev's createOptions chunking and image-placeholder expansion), so the tests can
 * check the deployment the way it will actually be delivered.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function readJson(relativePath: string): JsonObject {
  const value = JSON.parse(readFileSync(join(ROOT, relativePath), 'utf8')) as Json;
  if (!isObject(value)) throw new Error(`${relativePath} is not a JSON object`);
  return value;
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `obj[k1][k2]…` as an object, or an Error naming the missing path. */
export function objectAt(obj: JsonObject, ...path: string[]): JsonObject {
  let cur: Json | undefined = obj;
  for (const key of path) {
    if (!isObject(cur)) throw new Error(`not an object before "${key}" in ${path.join(' → ')}`);
    cur = cur[key];
  }
  if (!isObject(cur)) throw new Error(`${path.join(' → ')} is not an object`);
  return cur;
}

/** iotedgedev (deploymentmanifest.py): TWIN_VALUE_MAX_SIZE and TWIN_VALUE_MAX_CHUNKS. */
export const CREATE_OPTIONS_CHUNK = 512;
export const CREATE_OPTIONS_MAX_CHUNKS = 8;

/**
 * What `iotedgedev genconfig` / VS Code do with an object createOptions: minify it
 * (`json.dumps(separators=(',', ':'))`) and cut it into 512-character pieces that become
 * `createOptions`, `createOptions01`…`createOptions07`. edgeAgent joins them back.
 */
export function chunkCreateOptions(createOptions: JsonObject): string[] {
  const text = JSON.stringify(createOptions);
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += CREATE_OPTIONS_CHUNK) chunks.push(text.slice(i, i + CREATE_OPTIONS_CHUNK));
  return chunks;
}

/** iotedgedev's `${MODULEDIR<relative path>[.platform]}` placeholder (constants.py). */
export const MODULEDIR_PLACEHOLDER = /^\$\{MODULEDIR<(.+)>(\..+)?\}$/;

export interface ParsedRoute {
  source: string;
  condition: string | null;
  sink: string;
  /** For `/messages/modules/{m}/outputs/{o}` sources. */
  module: string | null;
  output: string | null;
}

/** `FROM <source> [WHERE <condition>] INTO <sink>` (edgeHub route grammar, keywords case-insensitive). */
export function parseRoute(route: string): ParsedRoute {
  const m = /^\s*FROM\s+(\S+)(?:\s+WHERE\s+(.+?))?\s+INTO\s+(.+?)\s*$/i.exec(route);
  if (!m) throw new Error(`not a route: ${route}`);
  const source = m[1] ?? '';
  const moduleOutput = /^\/messages\/modules\/([^/]+)\/outputs\/([^/]+)$/.exec(source);
  return {
    source,
    condition: m[2] ?? null,
    sink: m[3] ?? '',
    module: moduleOutput?.[1] ?? null,
    output: moduleOutput?.[2] ?? null,
  };
}

/** A Docker image reference `host[:port]/path:tag`, lower case as Docker requires for repositories. */
export const IMAGE_REFERENCE =
  /^(?:[a-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*:[\w][\w.-]{0,127}$/;

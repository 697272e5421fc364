/**
 * The IoT Edge workload API as aziot-edged serves it to modules on a unix socket: the trust bundle
 * (so the module trusts edgeHub's certificate) and `sign` (so it can make its SAS token without
 * ever holding its key). Only the two routes the Node SDK uses exist.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { hmacBase64 } from './sas-token.js';

/** The workload API version the Node SDK hard-codes; older versions are refused like aziot-edged does. */
export const MIN_WORKLOAD_API_VERSION = '2018-06-28';

export interface WorkloadCall {
  method: string;
  /** Path without the query string. */
  path: string;
  apiVersion?: string;
  route: 'trust-bundle' | 'sign' | 'unknown';
  moduleId?: string;
  genId?: string;
  keyId?: string;
  algo?: string;
  status: number;
}

export interface WorkloadApiOptions {
  socketPath: string;
  /** PEM returned by `/trust-bundle`. */
  trustBundle: string;
  /** The key the workload signs with for a module (base64), or undefined if it runs no such module. */
  keyOf: (moduleId: string) => string | undefined;
}

export interface WorkloadApi {
  readonly socketPath: string;
  readonly uri: string;
  readonly calls: readonly WorkloadCall[];
  /** How many successful `sign` calls a module made. */
  signCount(moduleId?: string): number;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  // The SDK parses the body only when Content-Type is application/json; without it the module
  // crashes on `undefined`, so every answer, errors included, carries it.
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const isBase64 = (s: string): boolean => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0;

export async function startWorkloadApi(opts: WorkloadApiOptions): Promise<WorkloadApi> {
  const calls: WorkloadCall[] = [];
  const sockets = new Set<Socket>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const apiVersion = url.searchParams.get('api-version') ?? undefined;
    const call: WorkloadCall = { method: req.method ?? '', path: url.pathname, route: 'unknown', status: 0 };
    if (apiVersion !== undefined) call.apiVersion = apiVersion;
    calls.push(call);
    const reply = (status: number, body: unknown): void => {
      call.status = status;
      sendJson(res, status, body);
    };

    const sign = /^\/modules\/([^/]+)\/genid\/([^/]+)\/sign$/.exec(url.pathname);
    if (url.pathname === '/trust-bundle') call.route = 'trust-bundle';
    else if (sign) call.route = 'sign';
    else return reply(404, { message: `No route for ${req.method} ${url.pathname}` });

    const expectedMethod = call.route === 'sign' ? 'POST' : 'GET';
    if (req.method !== expectedMethod) return reply(405, { message: `Method ${req.method} not allowed` });
    // api-versions are dates, so string order is date order.
    if (apiVersion === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(apiVersion) || apiVersion < MIN_WORKLOAD_API_VERSION) {
      return reply(400, { message: `Invalid or missing api-version ${JSON.stringify(apiVersion ?? null)}` });
    }

    if (call.route === 'trust-bundle') return reply(200, { certificate: opts.trustBundle });

    const moduleId = decodeURIComponent(sign?.[1] ?? '');
    call.moduleId = moduleId;
    call.genId = decodeURIComponent(sign?.[2] ?? '');
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      return reply(400, { message: 'Request body is not valid JSON' });
    }
    const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    if (typeof fields['keyId'] === 'string') call.keyId = fields['keyId'];
    if (typeof fields['algo'] === 'string') call.algo = fields['algo'];
    const data = fields['data'];
    if (typeof data !== 'string' || !isBase64(data)) {
      return reply(400, { message: 'Request body must be {"keyId","algo","data"} with base64 data' });
    }
    const key = opts.keyOf(moduleId);
    if (key === undefined) return reply(404, { message: `Module not found: ${moduleId}` });
    // Like aziot-edged: keyId/algo and the generation id are not checked, only the module's key is used.
    return reply(200, { digest: hmacBase64(key, Buffer.from(data, 'base64')) });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { message: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    socketPath: opts.socketPath,
    uri: `unix://${opts.socketPath}`,
    calls,
    signCount: (moduleId) =>
      calls.filter((c) => c.route === 'sign' && c.status === 200 && (moduleId === undefined || c.moduleId === moduleId))
        .length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

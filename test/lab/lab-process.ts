/**
 * Background servers inside a namespace, and one-shot commands. A server counts as started only when
 * it says so (a READY line, dnsmasq's "started" log), never after a sleep; it is stopped with SIGTERM
 * and, if it lingers, SIGKILL.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { findTool } from './require-lab.js';

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function ipPath(): string {
  return findTool('ip') ?? 'ip';
}

/** Runs a command to completion; never throws for a non-zero exit (callers decide). */
export function exec(
  cmd: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      {
        encoding: 'utf8',
        timeout: opts.timeoutMs ?? 15_000,
        killSignal: 'SIGKILL',
        cwd: opts.cwd,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
        resolve({ code, signal: err?.signal ?? null, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like `exec` but throws with the command line and its stderr when it fails. */
export async function run(
  cmd: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<string> {
  const r = await exec(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`\`${cmd} ${args.join(' ')}\` failed (exit ${r.code ?? r.signal}): ${r.stderr.trim()}`);
  }
  return r.stdout;
}

export interface LabServer {
  /** A short label for logs: "dnsmasq 198.18.1.53". */
  name: string;
  pid: number;
  /** Everything it wrote so far, both streams interleaved, for failure messages. */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  ns: string;
  cmd: string;
  args: string[];
  cwd?: string;
  /** A line that means "ready"; the match is returned so READY <port> can be read. */
  ready: RegExp;
  /** Guard against a server that never becomes ready (a failure, not synchronisation). */
  readyTimeoutMs?: number;
}

/** Starts `cmd` inside namespace `ns` with `ip netns exec` (which execs, so the pid is the server's). */
export function startInNetns(opts: StartOptions): Promise<{ server: LabServer; match: RegExpMatchArray }> {
  const child: ChildProcess = spawn(ipPath(), ['netns', 'exec', opts.ns, opts.cmd, ...opts.args], {
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const server: LabServer = {
    name: opts.name,
    pid: child.pid ?? -1,
    output: () => log,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };

  return new Promise((resolve, reject) => {
    let pending = '';
    let settled = false;
    const timer = setTimeout(() => {
      settle(new Error(`${opts.name} did not become ready within ${opts.readyTimeoutMs ?? 60_000} ms:\n${log}`));
    }, opts.readyTimeoutMs ?? 60_000);

    function settle(result: Error | RegExpMatchArray): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (result instanceof Error) {
        void server.stop().then(() => reject(result));
      } else {
        resolve({ server, match: result });
      }
    }
    function onData(chunk: Buffer): void {
      const text = chunk.toString('utf8');
      log += text;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const match = opts.ready.exec(line);
        if (match !== null) settle(match);
      }
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (err) => settle(new Error(`${opts.name} could not start: ${err.message}`)));
    child.once('exit', (code, signal) => {
      settle(new Error(`${opts.name} exited before it was ready (${code ?? signal}):\n${log}`));
    });
  });
}

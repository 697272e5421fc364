#!/usr/bin/env node
/**
 * Entry point. With no command it does what `npm start` promises: run as the IoT Edge module
 * when the IoT Edge environment is present, otherwise one check of this machine, printed.
 */
import { EXIT, UsageError, helpText, runCheckCommand } from './cli.js';
import { RUNTIME_ENV } from './config/options.js';
import { ConfigError } from './config/types.js';
import { maskSecrets } from './log.js';
import { depsFromEnv } from './deps.js';
import { VERSION } from './version.js';

export function isIotEdgeEnvironment(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env[RUNTIME_ENV.moduleId] || env[RUNTIME_ENV.edgeHubConnectionString]);
}

/** Standard input to its end, or null when it is a terminal (nothing was piped in). */
async function readStdin(): Promise<string | null> {
  if (process.stdin.isTTY) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The module holds sockets and timers by design: once it has stopped, the process ends explicitly. */
async function moduleMode(): Promise<never> {
  const { runModule } = await import('./module/run.js');
  process.exit(await runModule(process.env));
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io = {
    stdout: (t: string) => process.stdout.write(t),
    stderr: (t: string) => process.stderr.write(t),
    env: process.env,
  };
  switch (command) {
    case '--help':
    case '-h':
    case 'help':
      io.stdout(`${helpText()}\n`);
      return 0;
    case '--version':
    case '-v':
      io.stdout(`${VERSION}\n`);
      return 0;
    case 'check':
      return runCheckCommand(rest, io, depsFromEnv(process.env));
    case 'render': {
      const { runRenderCommand } = await import('./render.js');
      return runRenderCommand(rest, { stdout: io.stdout, readStdin });
    }
    case 'module': {
      if (rest.length)
        throw new UsageError(
          `"module" takes no arguments (got ${rest.join(' ')}); configure it with desired properties or NETDIAG_* ` +
            `variables`,
        );
      return moduleMode();
    }
    case undefined:
      if (isIotEdgeEnvironment(process.env)) return moduleMode();
      return runCheckCommand([], io, depsFromEnv(process.env));
    default:
      if (command.startsWith('-')) return runCheckCommand(argv, io, depsFromEnv(process.env));
      throw new UsageError(`unknown command "${command}"; use "check", "module" or "render" (see --help)`);
  }
}

// Exit explicitly once the answer is out: the verdict is final, and nothing a probe left behind
// (a child being killed, a socket closing) may keep a person waiting for the prompt.
// (stdout and stderr writes are synchronous on Linux for files, pipes and terminals.)
main(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`eflow-netdiag: ${maskSecrets(err.message)}\n`);
      process.exit(EXIT.usage);
    } else if (err instanceof Error && err.name === 'DataError') {
      process.stderr.write(`eflow-netdiag: render: ${maskSecrets(err.message)}\n`);
      process.exit(EXIT.data);
    } else {
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`eflow-netdiag: internal error: ${maskSecrets(text)}\n`);
      process.exit(EXIT.internal);
    }
  },
);

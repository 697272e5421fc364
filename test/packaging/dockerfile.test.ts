/**
 * The Dockerfile and .dockerignore, read without Docker: a multi-stage build on one pinned Node.js
 * LTS release (whose major scripts/test-node-lts.sh tests under), production dependencies only
 * from the lockfile, ping and arping with cap_net_raw and no setuid bit for a non-root user (what
 * those steps really do to the binaries: image-file-modes.test.ts), the module as the default
 * command, and a build context that cannot carry secrets or local build output into the image.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  dockerfileNodeMajor,
  execForm,
  parseStages,
  runtimeEnv,
  runtimeLoops,
  type Instruction,
  type Stage,
} from '../../scripts/dockerfile.mjs';
import { ROOT, readJson } from './manifest.js';

const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const { stages } = parseStages(text);
const runtime = stages.at(-1) as Stage;
const pkg = readJson('package.json');
const of = (stage: Stage, keyword: string): Instruction[] => stage.instructions.filter((i) => i.keyword === keyword);
const runs = (stage: Stage): string[] => of(stage, 'RUN').map((i) => i.args);

/** `COPY [--from=x] [--chown…] src… dest` → {from, sources, dest}. */
function copyOf(ins: Instruction): { from: string | null; sources: string[]; dest: string } {
  const words = execForm(ins.args) ?? ins.args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const rest = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length) ?? null;
  return { from, sources: rest.slice(0, -1), dest: rest.at(-1) ?? '' };
}

describe('Dockerfile: base images', () => {
  test('multi-stage: a build stage and a separate runtime stage', () => {
    assert.ok(stages.length >= 2, `${stages.length} FROM lines`);
    assert.ok(
      stages.every((s) => s.name),
      'every stage is named, so COPY --from is explicit',
    );
  });

  test('every stage runs on the same pinned Node.js release and Alpine branch, of an LTS line', () => {
    const major = dockerfileNodeMajor(text);
    // node:<major>.<minor>.<patch>-alpine<3.x>: a floating node:26-alpine would move to another
    // Node release and, later, another Alpine branch on a plain rebuild.
    const pinned = new RegExp(`^node:${major}\\.\\d+\\.\\d+-alpine\\d+\\.\\d+$`);
    for (const stage of stages) assert.match(stage.image, pinned, `${stage.name}: ${stage.image}`);
    assert.equal(new Set(stages.map((s) => s.image)).size, 1, 'one base image for every stage');
    // Until Node 26 only even lines became LTS; from 27 on every line does (new release schedule).
    assert.ok(major % 2 === 0 || major >= 27, `Node ${major} is an LTS line`);
    const engines = /^>=\s*(\d+)/.exec(String((pkg['engines'] as Record<string, string> | undefined)?.['node'] ?? ''));
    assert.ok(engines, 'package.json engines.node is a ">=" range');
    assert.ok(major >= Number(engines[1]), `Node ${major} satisfies engines.node`);
  });

  test('scripts/test-node-lts.sh tests under the major the Dockerfile declares (one source of truth)', () => {
    const script = readFileSync(join(ROOT, 'scripts/test-node-lts.sh'), 'utf8');
    assert.match(script, /node scripts\/dockerfile\.mjs node-major Dockerfile/);
    assert.doesNotMatch(script, /node-linux-[a-z0-9]+@\d/, 'no hard-coded Node version in the script');
    const printed = execFileSync(
      process.execPath,
      [join(ROOT, 'scripts/dockerfile.mjs'), 'node-major', join(ROOT, 'Dockerfile')],
      { encoding: 'utf8' },
    );
    assert.equal(Number(printed.trim()), dockerfileNodeMajor(text));
  });
});

describe('Dockerfile: dependencies', () => {
  test('dependencies only from the lockfile (npm ci), never npm install', () => {
    for (const stage of stages) {
      for (const run of runs(stage)) assert.doesNotMatch(run, /\bnpm\s+(install|i|add)\b/, `${stage.name}: ${run}`);
    }
  });

  test('the node_modules in the image come from `npm ci --omit=dev --ignore-scripts`, and the runtime stage runs no npm', () => {
    const copies = of(runtime, 'COPY').map(copyOf);
    const modules = copies.filter((c) => c.dest.replace(/\/$/, '').endsWith('node_modules'));
    assert.equal(modules.length, 1, 'one node_modules, copied from another stage');
    const source = stages.find((s) => s.name === modules[0]?.from);
    assert.ok(source, `node_modules comes from stage ${String(modules[0]?.from)}`);
    const installs = runs(source).filter((r) => /\bnpm\s+ci\b/.test(r));
    assert.equal(installs.length, 1);
    assert.match(installs[0] ?? '', /--omit=dev/);
    assert.match(installs[0] ?? '', /--ignore-scripts/, 'no dependency runs code at build time');
    assert.ok(
      !copies.some((c) => c.from === 'build' && c.sources.some((s) => s.includes('node_modules'))),
      'nothing of the dev install is copied',
    );
    assert.ok(
      !runs(runtime).some((r) => /\bnpm\b/.test(r.replace(/\/usr\/local\/\S*npm\S*/g, ''))),
      'no npm in the runtime stage, so no npm cache',
    );
  });

  test('the runtime stage has what the production install has: node_modules, dist, schema, package.json', () => {
    const dests = of(runtime, 'COPY')
      .map(copyOf)
      .map((c) => c.dest.replace(/^\.\//, '').replace(/\/$/, '') || c.sources.join(' '));
    assert.deepEqual(dests.sort(), ['dist', 'node_modules', 'package.json', 'schema']);
    const dist = of(runtime, 'COPY')
      .map(copyOf)
      .find((c) => c.dest.includes('dist'));
    assert.equal(dist?.from, 'build', 'dist/ is compiled in the build stage');
    assert.ok(runs(stages.find((s) => s.name === 'build') as Stage).some((r) => /npm run build/.test(r)));
  });
});

describe('Dockerfile: runtime', () => {
  test('iputils ping and arping (not the BusyBox applets, not the other "arping"), without a package cache', () => {
    const all = runs(runtime).join('\n');
    // Alpine v3.24 main: iputils-ping (/bin/ping) and iputils-arping (/usr/sbin/arping), both from
    // aports main/iputils; community/arping is Thomas Habets' different program.
    const adds = [...all.matchAll(/apk add ((?:--?[a-z-]+\s+)*)([^&]+)/g)];
    assert.equal(adds.length, 1, 'one apk add');
    assert.match(adds[0]?.[1] ?? '', /--no-cache/);
    assert.deepEqual((adds[0]?.[2] ?? '').trim().split(/\s+/).sort(), [
      'iputils-arping',
      'iputils-ping',
      'libcap-setcap',
    ]);
    assert.match(all, /apk del [^\n]*libcap-setcap/, 'setcap does not stay in the image');
  });

  test('each of ping and arping: the binary PATH finds, checked to be iputils, setuid removed, cap_net_raw set and verified', () => {
    const loops = runtimeLoops(text);
    assert.equal(loops.length, 1, 'one loop over the tools');
    const [loop] = loops;
    assert.equal(loop?.variable, 'tool');
    assert.deepEqual([...(loop?.words ?? [])].sort(), ['arping', 'ping']);
    const body = loop?.body ?? '';
    const steps = [
      'bin="$(readlink -f "$(command -v "$tool")")"', // the file PATH finds, through symlinks
      '"$bin" -V | grep -q iputils', // the build fails on the BusyBox applet
      'chmod u-s,g-s "$bin"', // Alpine ships /bin/ping 4755
      'setcap cap_net_raw+ep "$bin"',
      'setcap -v cap_net_raw+ep "$bin"',
      '[ "$(stat -c %a "$bin")" = 755 ]', // no setuid/setgid bit left
    ];
    let at = -1;
    for (const step of steps) {
      const i = body.indexOf(step);
      assert.ok(i > at, `"${step}" is in the loop, after the step before it: ${body}`);
      at = i;
    }
    assert.match(body, /\|\| exit 1;$/, 'any failed step fails the build, not just the last tool');
  });

  test('runs as a non-root user, set after everything that needs root', () => {
    const users = of(runtime, 'USER');
    assert.ok(users.length >= 1, 'a USER instruction');
    const last = users.at(-1) as Instruction;
    const [user] = last.args.split(':');
    assert.ok(user && !['root', '0'].includes(user), `USER ${last.args} is not root`);
    assert.ok(user === 'node' || Number(user) >= 1000, "the node image's unprivileged user (uid 1000)");
    const after = runtime.instructions.slice(runtime.instructions.indexOf(last) + 1);
    assert.ok(!after.some((i) => i.keyword === 'RUN' || i.keyword === 'USER'));
  });

  test('ENTRYPOINT + CMD run `node dist/main.js module` in exec form (SIGTERM reaches node)', () => {
    const entry = execForm(of(runtime, 'ENTRYPOINT').at(-1)?.args ?? '');
    const cmd = execForm(of(runtime, 'CMD').at(-1)?.args ?? '');
    assert.ok(entry && cmd, 'both in JSON form');
    assert.deepEqual([...entry, ...cmd], ['node', 'dist/main.js', 'module']);
    assert.equal(pkg['main'], 'dist/main.js');
    assert.ok(of(runtime, 'WORKDIR').length > 0, 'dist/main.js is relative to a WORKDIR');
  });

  test('--jitless (no WebAssembly, so no built-in fetch) and nothing in src/ that needs them', () => {
    const options = runtimeEnv(text)['NODE_OPTIONS'] ?? '';
    if (!options.includes('--jitless')) return; // the trap is gone with the flag
    const sources = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : [],
      );
    for (const file of sources('src')) {
      const code = readFileSync(join(ROOT, file), 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
      assert.doesNotMatch(code, /\bfetch\s*\(|\bWebAssembly\b|\bundici\b/, `${file} needs what --jitless removes`);
    }
  });

  test('NODE_ENV=production and image labels', () => {
    assert.ok(of(runtime, 'ENV').some((i) => /^NODE_ENV[= ]production$/.test(i.args)));
    const labels = of(runtime, 'LABEL')
      .map((i) => i.args)
      .join(' ');
    assert.match(labels, /org\.opencontainers\.image\.title="eflow-netdiag"/);
    assert.match(labels, /org\.opencontainers\.image\.licenses="MIT"/);
  });
});

describe('Dockerfile: nothing fetched or secret', () => {
  test('no ADD (and so no ADD of a URL); files come from the context or earlier stages', () => {
    for (const stage of stages) assert.equal(of(stage, 'ADD').length, 0, `${stage.name} uses COPY`);
    assert.doesNotMatch(text, /\b(curl|wget)\b/);
  });

  test('no secrets in ARG, ENV or LABEL, and no key material in the file', () => {
    const all = [
      ...parseStages(text).globalArgs.keys(),
      ...stages.flatMap((s) => [...of(s, 'ARG'), ...of(s, 'ENV')].map((i) => i.args.split(/[= ]/)[0] ?? '')),
    ];
    for (const name of all)
      assert.doesNotMatch(name, /pass|secret|token|key|sas|connection|credential/i, `${name} looks like a secret`);
    assert.doesNotMatch(
      text,
      /SharedAccessKey|AccountKey=|-----BEGIN|SharedAccessSignature|npm_[A-Za-z0-9]{36}|_authToken/,
    );
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  /** Docker's rule: the last pattern matching the path or one of its parent directories wins. */
  function excluded(path: string): boolean {
    let result = false;
    const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    for (const raw of patterns) {
      const negate = raw.startsWith('!');
      const glob = (negate ? raw.slice(1) : raw).replace(/^\/+/, '').replace(/\/+$/, '');
      const re = new RegExp(
        `^${glob
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*\*/g, '\u0000')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]')
          // eslint-disable-next-line no-control-regex -- control characters are exactly what this checks for
          .replace(/\u0000/g, '.*')}$`,
      );
      if (prefixes.some((p) => re.test(p))) result = !negate;
    }
    return result;
  }

  test('an allow-list: everything is excluded first', () => {
    assert.equal(patterns[0], '*');
  });

  test('keeps local build output, tests, git data and iotedgedev secrets out of the context', () => {
    for (const path of [
      'node_modules',
      'node_modules/pino/package.json',
      'dist',
      'dist/main.js',
      'test',
      'test/unit/cli-args.test.ts',
      '.git',
      '.git/config',
      '.env',
      'config/deployment.amd64.json',
      'bench',
      '.ci',
      '.lab-tmp',
      'Dockerfile',
      'module.json',
    ]) {
      assert.ok(excluded(path), `${path} is not sent to the daemon`);
    }
  });

  test('lets in every file the Dockerfile copies from the context, and each exists', () => {
    const sources = stages.flatMap((s) =>
      of(s, 'COPY')
        .map(copyOf)
        .filter((c) => c.from === null)
        .flatMap((c) => c.sources),
    );
    assert.ok(sources.length > 0);
    for (const source of sources) {
      assert.ok(!excluded(source), `${source} reaches the build`);
      assert.ok(existsSync(join(ROOT, source)), `${source} exists in the repository`);
    }
    assert.ok(!excluded('src/main.ts') && !excluded('schema/report.schema.json'));
  });
});

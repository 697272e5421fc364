// A small Dockerfile reader: enough to know which Node.js major the image runs on (the one source
// of truth for scripts/test-node-lts.sh) and to let test/packaging check the Dockerfile's shape
// without Docker. It handles comments, line continuations, global ARG defaults, ${VAR}/$VAR in
// FROM, `FROM --platform=… image AS name`, and JSON (exec) forms.
//
// CLI: `node scripts/dockerfile.mjs node-major [Dockerfile]` prints the major, e.g. `26`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Instructions in order: { keyword (upper case), args (continuations joined), line (1-based) }. */
export function parseInstructions(text) {
  const out = [];
  const lines = text.split(/\r?\n/);
  let current = null;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const trimmed = raw.trim();
    // Comment lines inside a continued instruction are dropped, as BuildKit does.
    if (trimmed.startsWith('#') || (trimmed === '' && current === null)) continue;
    const continues = /\\\s*$/.test(raw);
    const piece = continues ? raw.replace(/\\\s*$/, '') : raw;
    if (current === null) {
      const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(piece);
      if (!m) continue;
      current = { keyword: (m[1] ?? '').toUpperCase(), args: m[2] ?? '', line: i + 1 };
    } else {
      current.args += ` ${piece.trim()}`;
    }
    if (!continues) {
      current.args = current.args.trim();
      out.push(current);
      current = null;
    }
  }
  if (current) out.push({ ...current, args: current.args.trim() });
  return out;
}

/** Expands ${VAR}, ${VAR:-default} and $VAR from `vars`; unknown variables become ''. */
export function expand(value, vars) {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a, dflt, b) => {
    const name = a ?? b;
    const v = vars.get(name);
    return v !== undefined && v !== '' ? v : (dflt ?? '');
  });
}

/**
 * Stages: [{ name, image, imageRaw, platform, instructions }]. `image` is the FROM reference with
 * global ARG defaults substituted; a FROM naming an earlier stage keeps that name as its image.
 */
export function parseStages(text) {
  const instructions = parseInstructions(text);
  const globalArgs = new Map();
  const stages = [];
  for (const ins of instructions) {
    if (ins.keyword === 'ARG' && stages.length === 0) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(ins.args);
      if (m) globalArgs.set(m[1], unquote(m[2] ?? ''));
      continue;
    }
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/);
      let platform = null;
      while (words[0]?.startsWith('--')) {
        const flag = words.shift() ?? '';
        if (flag.startsWith('--platform=')) platform = flag.slice('--platform='.length);
      }
      const imageRaw = words[0] ?? '';
      const name = words[1]?.toLowerCase() === 'as' ? (words[2] ?? null) : null;
      stages.push({ name, imageRaw, image: expand(imageRaw, globalArgs), platform, instructions: [], line: ins.line });
      continue;
    }
    stages.at(-1)?.instructions.push(ins);
  }
  return { globalArgs, stages };
}

function unquote(s) {
  const t = s.trim();
  return /^(["']).*\1$/.test(t) ? t.slice(1, -1) : t;
}

/** The argv of a JSON (exec) form, or null for the shell form. */
export function execForm(args) {
  if (!args.trim().startsWith('[')) return null;
  const parsed = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string'))
    throw new Error(`not a JSON string array: ${args}`);
  return parsed;
}

/** `node:<major>[-variant]` → major; anything else → null. */
export function nodeMajorOfImage(image) {
  const m = /^(?:docker\.io\/)?(?:library\/)?node:(\d+)(?:[.-]|$)/.exec(image);
  return m ? Number(m[1]) : null;
}

/**
 * The Node.js major every base-image stage uses. Throws when a stage is not `node:<major>…`
 * (other than `FROM <earlier stage>`) or when stages disagree: one image, one Node.
 */
export function dockerfileNodeMajor(text) {
  const { stages } = parseStages(text);
  const names = new Set();
  const majors = new Set();
  for (const stage of stages) {
    if (!names.has(stage.image)) {
      const major = nodeMajorOfImage(stage.image);
      if (major === null)
        throw new Error(`Dockerfile line ${stage.line}: FROM ${stage.imageRaw} is not a node:<major> image`);
      majors.add(major);
    }
    if (stage.name) names.add(stage.name);
  }
  if (majors.size !== 1)
    throw new Error(
      `Dockerfile stages use ${majors.size === 0 ? 'no' : 'different'} Node.js majors: ${[...majors].join(', ')}`,
    );
  return [...majors][0];
}

/** The environment the final (runtime) stage sets with ENV KEY=VALUE: what the module runs with. */
export function runtimeEnv(text) {
  const { stages } = parseStages(text);
  const env = {};
  for (const ins of stages.at(-1)?.instructions ?? []) {
    if (ins.keyword !== 'ENV') continue;
    for (const m of ins.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S+)/g)) env[m[1]] = m[3] ?? m[2];
  }
  return env;
}

/**
 * The `for VAR in WORDS; do BODY done` loops in the final stage's RUN instructions (not nested),
 * as { variable, words, body, script }: `script` is the loop alone, runnable with sh, so a test
 * can run the image's own steps on copies of the files they change.
 */
export function runtimeLoops(text) {
  const { stages } = parseStages(text);
  const loops = [];
  for (const ins of stages.at(-1)?.instructions ?? []) {
    if (ins.keyword !== 'RUN') continue;
    for (const m of ins.args.matchAll(/\bfor ([A-Za-z_][A-Za-z0-9_]*) in ([^;]*); do (.+?)\bdone\b/g)) {
      const [, variable, words, body] = m;
      loops.push({
        variable,
        words: words.trim().split(/\s+/),
        body: body.trim(),
        script: `for ${variable} in ${words.trim()}; do ${body.trim()} done`,
      });
    }
  }
  return loops;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [command, file = 'Dockerfile'] = process.argv.slice(2);
  if (command !== 'node-major') {
    process.stderr.write('usage: node scripts/dockerfile.mjs node-major [Dockerfile]\n');
    process.exit(64);
  }
  try {
    process.stdout.write(`${dockerfileNodeMajor(readFileSync(file, 'utf8'))}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

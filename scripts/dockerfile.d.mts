// Types for scripts/dockerfile.mjs (plain JavaScript so CI can run it before anything is built).
export interface Instruction {
  /** Upper case: FROM, RUN, COPY… */
  keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  args: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface Stage {
  name: string | null;
  /** The FROM reference as written. */
  imageRaw: string;
  /** With global ARG defaults substituted. */
  image: string;
  platform: string | null;
  instructions: Instruction[];
  line: number;
}

export function parseInstructions(text: string): Instruction[];
export function expand(value: string, vars: ReadonlyMap<string, string>): string;
export function parseStages(text: string): { globalArgs: Map<string, string>; stages: Stage[] };
export function execForm(args: string): string[] | null;
export function nodeMajorOfImage(image: string): number | null;
export function dockerfileNodeMajor(text: string): number;
export function runtimeEnv(text: string): Record<string, string>;
export interface ShellLoop {
  variable: string;
  words: string[];
  body: string;
  /** The loop alone: `for VAR in WORDS; do BODY done`. */
  script: string;
}
export function runtimeLoops(text: string): ShellLoop[];

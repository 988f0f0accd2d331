/**
 * Command-line arguments: node:util's parseArgs (Node, Deno and Bun all
 * have it) plus the help text and typed values every command shares.
 * Every problem is a UsageError (code "invalid-option") naming the flag, which
 * main.ts turns into exit code 2.
 */
import { parseArgs } from "node:util";
import { DiffusionLifeError } from "../errors.ts";
import { closest } from "../util/closest.ts";

/** A wrong command line: an unknown flag, a flag value out of range (exit code 2). */
export class UsageError extends DiffusionLifeError {
  constructor(message: string) {
    super("invalid-option", message);
  }
}

/**
 * Standard output's reader went away (EPIPE: `… | head`). A command whose
 * stdout is its output stops; one that only reports there goes on quietly.
 */
export class BrokenPipeError extends DiffusionLifeError {
  constructor() {
    super("cancelled", "standard output was closed by its reader");
  }
}

export interface Flag {
  type: "string" | "boolean";
  short?: string;
  /** The value's placeholder in the help, e.g. "<n>". */
  value?: string;
  help: string;
}

export type Flags = Record<string, Flag>;

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Positional arguments as shown in the usage line, e.g. "[<steps.arrow> | -]". */
  positionals: string;
  flags: Flags;
  run(args: ParsedArgs, io: CliIO): Promise<void>;
}

/** What a command may touch of the process: injected, so tests run commands in-process. */
export interface CliIO {
  /** Writes to standard output, resolving once the data is taken (backpressure); rejects with BrokenPipeError once its reader has gone. */
  stdout(data: string | Uint8Array): Promise<void>;
  stderr(text: string): void;
  /** Standard input as byte chunks. */
  stdin(): AsyncIterable<Uint8Array>;
  /** Whether standard error is a terminal (progress bars are drawn only there, or with --progress). */
  stderrIsTTY: boolean;
  /** Fires on Ctrl-C; long work stops, `watch` shuts its server down. */
  signal: AbortSignal;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  string(name: string): string | undefined;
  flag(name: string): boolean;
  /** An integer flag in [min, max], or `fallback` when absent. */
  integer(name: string, fallback: number, min?: number, max?: number): number;
  /** A finite number flag ≥ min, or `fallback` when absent. */
  number(name: string, fallback: number, min?: number): number;
  /** One of `choices`, or `fallback` when absent. */
  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T;
}

export const COMMON_FLAGS: Flags = {
  help: { type: "boolean", short: "h", help: "show this help" },
  progress: { type: "boolean", help: "draw progress bars on stderr even when it is not a terminal" },
};

/** A value that parseArgs would take for a flag ("-5", "-0.5", "-1e3"): a negative number. */
const NEGATIVE = /^-(\d|\.\d)/;

export function parse(command: Command, argv: string[]): ParsedArgs {
  const flags = { ...command.flags, ...COMMON_FLAGS };
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegatives(flags, argv),
      options: Object.fromEntries(Object.entries(flags).map(([name, f]) => [name, f.short ? { type: f.type, short: f.short } : { type: f.type }])),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    // parseArgs' messages name the flag ("Unknown option '--x'"); drop its hints about "--" and positionals.
    const message = (error as Error).message.split(/\.\s/)[0].replace(/\.$/, "");
    const unknown = /^Unknown option '(-{1,2})([^']*)'/.exec(message);
    const guess = unknown && closest(unknown[2], Object.keys(flags));
    throw new UsageError(`${message}${guess ? ` (did you mean --${guess}?)` : ""} (see diffusion-life ${command.name} --help)`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const string = (name: string) => values[name] as string | undefined;
  return {
    values,
    positionals: parsed.positionals,
    string,
    flag: (name) => values[name] === true,
    integer(name, fallback, min = -Infinity, max = Infinity) {
      const raw = string(name);
      if (raw === undefined) return fallback;
      const v = Number(raw);
      if (!/^[+-]?\d+$/.test(raw.trim()) || v < min || v > max) {
        throw new UsageError(`--${name} must be an integer${Number.isFinite(min) ? ` ≥ ${min}` : ""}${Number.isFinite(max) ? ` and ≤ ${max}` : ""}, not "${raw}"`);
      }
      return v;
    },
    number(name, fallback, min = -Infinity) {
      const raw = string(name);
      if (raw === undefined) return fallback;
      const v = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(v) || v < min) {
        throw new UsageError(`--${name} must be a number${Number.isFinite(min) ? ` ≥ ${min}` : ""}, not "${raw}"`);
      }
      return v;
    },
    choice(name, choices, fallback) {
      const raw = string(name);
      if (raw === undefined) return fallback;
      if (!(choices as readonly string[]).includes(raw)) {
        throw new UsageError(`--${name} must be one of ${choices.join(", ")}, not "${raw}"`);
      }
      return raw as (typeof choices)[number];
    },
  };
}

/**
 * `--steps -5` as `--steps=-5`: parseArgs refuses a value that starts with a
 * dash as "ambiguous"; a negative number after a flag that takes a value is
 * that flag's value (and the range check then says what is wrong with it).
 */
function joinNegatives(flags: Flags, argv: readonly string[]): string[] {
  const takesValue = new Map<string, string>();
  for (const [name, f] of Object.entries(flags)) {
    if (f.type !== "string") continue;
    takesValue.set(`--${name}`, name);
    if (f.short) takesValue.set(`-${f.short}`, name);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--") return [...out, ...argv.slice(i)];
    const name = takesValue.get(argv[i]);
    if (name !== undefined && i + 1 < argv.length && NEGATIVE.test(argv[i + 1])) out.push(`--${name}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

/** The help text of a command. */
export function help(command: Command): string {
  const flags = { ...command.flags, ...COMMON_FLAGS };
  const rows = Object.entries(flags).map(([name, f]) => [
    `${f.short ? `-${f.short}, ` : "    "}--${name}${f.value ? ` ${f.value}` : ""}`,
    f.help,
  ]);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `Usage: diffusion-life ${command.name} ${command.positionals ? command.positionals + " " : ""}[options]`,
    "",
    command.summary,
    "",
    "Options:",
    ...rows.map(([left, text]) => `  ${left.padEnd(width)}  ${text}`),
    "",
  ].join("\n");
}

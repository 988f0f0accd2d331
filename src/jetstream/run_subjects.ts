/**
 * A run on NATS JetStream: one stream per run, named after it, holding every
 * subject under the run's prefix.
 *
 * | subject                          | what                                                      |
 * |----------------------------------|-----------------------------------------------------------|
 * | `dl.<run>.steps.<producer>`      | a producer's step tables (Arrow IPC parts), then its end  |
 * | `dl.<run>.dead`                  | messages that could not be read, with the error           |
 * | `dl.<run>.frames.<view>`         | the embedder's frame tables, per view (a layout's name)   |
 * | `dl.<run>.frames.tree`           | the lineage tree after each update (the view "tree")      |
 *
 * A step part carries its run, producer, step and part ("k/K") in headers,
 * and a message id (`Nats-Msg-Id`) made of them, so a producer that retries
 * after a lost reply does not store it twice. Run, producer and view names
 * are single subject tokens.
 */
import type { JetStreamManager } from "@nats-io/jetstream";
import { OptionError } from "../errors.ts";

export const HEADER = {
  run: "Diffusion-Life-Run",
  producer: "Diffusion-Life-Producer",
  step: "Diffusion-Life-Step",
  part: "Diffusion-Life-Part",
  /** On a producer's last message: JSON of the steps it published. */
  end: "Diffusion-Life-End",
  update: "Diffusion-Life-Update",
  view: "Diffusion-Life-View",
  error: "Diffusion-Life-Error",
  errorCode: "Diffusion-Life-Error-Code",
} as const;

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** Checks that a name is one subject token (letters, digits, "-", "_"). */
export function checkToken(option: string, name: string): string {
  if (typeof name !== "string" || !TOKEN.test(name)) {
    throw new OptionError(option, `must be 1–64 letters, digits, "-" or "_" (one NATS subject token), not ${JSON.stringify(name)}`);
  }
  return name;
}

/** The names of a run's stream and subjects. */
export interface RunSubjects {
  run: string;
  stream: string;
  all: string;
  steps: string;
  dead: string;
  frames: string;
  lineage: string;
  producer(name: string): string;
  view(name: string): string;
}

export function runSubjects(run: string): RunSubjects {
  checkToken("run", run);
  const prefix = `dl.${run}`;
  return {
    run,
    stream: `DL_${run}`,
    all: `${prefix}.>`,
    steps: `${prefix}.steps.>`,
    dead: `${prefix}.dead`,
    frames: `${prefix}.frames.>`,
    lineage: `${prefix}.frames.tree`,
    producer: (name) => `${prefix}.steps.${checkToken("producer", name)}`,
    view: (name) => `${prefix}.frames.${checkToken("view", name)}`,
  };
}

/**
 * Creates the run's stream (file storage, the run's subjects) unless it
 * exists; producers and the embedder each call it, in any order.
 */
export async function ensureRunStream(jsm: JetStreamManager, run: string): Promise<RunSubjects> {
  const subjects = runSubjects(run);
  try {
    await jsm.streams.info(subjects.stream);
  } catch {
    try {
      await jsm.streams.add({ name: subjects.stream, subjects: [subjects.all] });
    } catch (error) {
      // Another process created it meanwhile.
      await jsm.streams.info(subjects.stream).catch(() => Promise.reject(error));
    }
  }
  return subjects;
}

/** Parses a "k/K" part header (0 ≤ k < K). */
export function parsePart(value: string | undefined): { part: number; parts: number } | undefined {
  const match = /^(\d{1,6})\/(\d{1,6})$/.exec(value ?? "");
  if (!match) return undefined;
  const part = Number(match[1]), parts = Number(match[2]);
  return part < parts ? { part, parts } : undefined;
}

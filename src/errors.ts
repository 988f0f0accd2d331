/**
 * Typed errors. Every error the library raises on bad input is a
 * `DiffusionLifeError` with a stable `code`, so callers can branch on it and
 * messages can change without breaking them.
 */

export type ErrorCode =
  | "missing-column"
  | "wrong-type"
  | "non-finite"
  | "dimension-mismatch"
  | "duplicate-row"
  | "out-of-order"
  | "invalid-option"
  | "invalid-model"
  | "gpu-unavailable"
  | "invalid-format"
  | "truncated"
  | "cancelled"
  | "missing-dependency"
  | "invalid-spec"
  | "out-of-range"
  | "limit-exceeded";

export class DiffusionLifeError extends Error {
  readonly code: ErrorCode;
  /** The column the problem is in, when there is one. */
  readonly column?: string;
  /** The first row (0-based) where the problem was found, when there is one. */
  readonly row?: number;

  constructor(code: ErrorCode, message: string, where: { column?: string; row?: number } = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.column = where.column;
    this.row = where.row;
  }
}

/** A column is missing or has the wrong Arrow type. */
export class SchemaError extends DiffusionLifeError {}
/** A value is NaN or ±Infinity. */
export class NonFiniteError extends DiffusionLifeError {
  constructor(column: string, row: number) {
    super("non-finite", `column "${column}" holds a NaN or infinite value at row ${row}`, { column, row });
  }
}
/** A vector length differs from the one expected. */
export class DimensionError extends DiffusionLifeError {
  constructor(message: string, where: { column?: string; row?: number } = {}) {
    super("dimension-mismatch", message, where);
  }
}
/** The same (instance, step) appears twice. */
export class DuplicateRowError extends DiffusionLifeError {
  constructor(instance: number, step: number, row?: number) {
    super("duplicate-row", `(instance ${instance}, step ${step}) appears more than once`, { column: "step", row });
  }
}
/** A step arrived after a later one was already embedded. */
export class StepOrderError extends DiffusionLifeError {
  constructor(message: string, where: { row?: number } = {}) {
    super("out-of-order", message, { column: "step", ...where });
  }
}
/**
 * A value is outside the range its column allows: an id that does not fit
 * Int32 (an Int64 or UInt32 column is read only when every value fits), a
 * negative step.
 */
export class OutOfRangeError extends DiffusionLifeError {
  constructor(message: string, where: { column?: string; row?: number } = {}) {
    super("out-of-range", message, where);
  }
}
/**
 * Data larger than a configured ceiling (`DataLimits`: values per row,
 * bytes per record batch); `limit` names the ceiling, so a caller who
 * trusts the data can raise it.
 */
export class LimitError extends DiffusionLifeError {
  /** The ceiling that was exceeded: "maxRowWidth" or "maxBatchBytes". */
  readonly limit: string;

  constructor(limit: string, message: string, where: { column?: string; row?: number } = {}) {
    super("limit-exceeded", `${message} (the ceiling ${limit} can be raised through the limits option)`, where);
    this.limit = limit;
  }
}
/** An option is out of range or inconsistent. */
export class OptionError extends DiffusionLifeError {
  constructor(option: string, message: string) {
    super("invalid-option", `option "${option}": ${message}`);
  }
}
/**
 * An embedding spec (JSON) is malformed: `path` names the bad field as it
 * is written in the spec, e.g. `losses[1].weight` or `phases[0].iterations`
 * (empty for the spec as a whole).
 */
export class SpecError extends DiffusionLifeError {
  /** The field, as a path into the spec: `affinity.perplexity`, `losses[2].sigma`. */
  readonly path: string;

  constructor(path: string, message: string) {
    super("invalid-spec", path ? `spec field ${path}: ${message}` : `spec: ${message}`);
    this.path = path;
  }
}

/** A model file is not ONNX, or its inputs/outputs do not fit. */
export class ModelError extends DiffusionLifeError {
  constructor(message: string) {
    super("invalid-model", message);
  }
}
/** Bytes are not in the format they should be (not Arrow IPC, not PNG). */
export class FormatError extends DiffusionLifeError {
  constructor(message: string, where: { column?: string; row?: number } = {}) {
    super("invalid-format", message, where);
  }
}
/** A stream or file ended in the middle of a message; what came before it was delivered. */
export class TruncatedError extends DiffusionLifeError {
  constructor(message: string) {
    super("truncated", message);
  }
}
/** No WebGPU adapter that computes correctly could be had (the reason says why). */
export class GpuUnavailableError extends DiffusionLifeError {
  constructor(reason: string) {
    super("gpu-unavailable", `no usable WebGPU adapter: ${reason}`);
  }
}
/** Work was stopped through an AbortSignal or an unsubscribe. */
export class CancelledError extends DiffusionLifeError {
  constructor(what = "work") {
    super("cancelled", `${what} was cancelled`);
  }
}

/**
 * An optional package that this part of the library needs is not installed
 * (the ONNX, MNIST and PNG entries each need their own); `packageName` says
 * which, and the message how to install it.
 */
export class MissingDependencyError extends DiffusionLifeError {
  /** The npm package to install, e.g. "onnxruntime-web". */
  readonly packageName: string;

  constructor(packageName: string, feature: string, cause?: unknown) {
    super(
      "missing-dependency",
      `${feature} needs the optional package "${packageName}", which is not installed: ` +
        `npm install ${packageName} (Deno: deno add npm:${packageName})`,
    );
    this.packageName = packageName;
    if (cause !== undefined) this.cause = cause;
  }
}

/** Throws CancelledError when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw new CancelledError(what);
}

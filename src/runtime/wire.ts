/**
 * Messages between threads with their shared typed arrays sent as the
 * SharedArrayBuffer and a place in it. Deno's node:worker_threads copies a
 * typed array element by element even over shared memory (about 12 ms per
 * MB, measured), but passes a SharedArrayBuffer as it is; the other
 * runtimes pass either at no cost. Other values travel as they are.
 */
interface PackedView {
  $view: keyof typeof VIEWS;
  buffer: SharedArrayBuffer;
  byteOffset: number;
  length: number;
}

const VIEWS = { Float64Array, Float32Array, Int32Array, Uint32Array, Uint8Array };

/** The message with every typed array over shared memory replaced by its buffer and place. */
export function pack(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name;
    if (!(value.buffer instanceof SharedArrayBuffer) || !(name in VIEWS)) return value;
    const view = value as Float64Array;
    return { $view: name, buffer: view.buffer, byteOffset: view.byteOffset, length: view.length } as PackedView;
  }
  if (Array.isArray(value)) return value.map(pack);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pack(v)]));
  return value;
}

/** The message as it was before `pack`. */
export function unpack(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unpack);
  if (!isPlainObject(value)) return value;
  if ("$view" in value) {
    const { $view, buffer, byteOffset, length } = value as unknown as PackedView;
    const View = VIEWS[$view] as unknown as new (b: ArrayBufferLike, offset: number, length: number) => ArrayBufferView;
    return new View(buffer, byteOffset, length);
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unpack(v)]));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Arrays that worker threads may read and write in place: in shared memory
 * where the runtime has it (a browser page without cross-origin isolation
 * does not), else ordinary ones.
 */
type View = Float64Array | Float32Array | Int32Array;
type ViewType<A extends View> = { new (buffer: ArrayBufferLike): A; BYTES_PER_ELEMENT: number };

export function sharedArray<A extends View>(Type: ViewType<A>, length: number): A {
  return arrayIn(Type, length, typeof SharedArrayBuffer === "function");
}

/**
 * An array of this length in shared memory or not, as asked: `old` where it
 * fits (the same length and kind of memory), which spares allocating and
 * clearing one; else a new one.
 */
export function reuse<A extends View>(Type: ViewType<A>, length: number, shared: boolean, old?: A): A {
  return old?.length === length && isShared(old) === shared ? old : arrayIn(Type, length, shared);
}

/** Whether a lies in shared memory (never, where the runtime has none). */
const isShared = (a: View): boolean => typeof SharedArrayBuffer === "function" && a.buffer instanceof SharedArrayBuffer;

function arrayIn<A extends View>(Type: ViewType<A>, length: number, shared: boolean): A {
  const bytes = length * Type.BYTES_PER_ELEMENT;
  return new Type(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
}

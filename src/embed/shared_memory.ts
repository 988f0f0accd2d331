/**
 * Arrays that worker threads may read and write in place: in shared memory
 * where the runtime has it (a browser page without cross-origin isolation
 * does not), else ordinary ones.
 */
type View = Float64Array | Float32Array | Int32Array;

export function sharedArray<A extends View>(Type: { new (buffer: ArrayBufferLike): A; BYTES_PER_ELEMENT: number }, length: number): A {
  const bytes = length * Type.BYTES_PER_ELEMENT;
  return new Type(typeof SharedArrayBuffer === "function" ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
}

/** A shared copy of the first `length` values of a. */
export function sharedCopy<A extends View>(a: A, length = a.length): A {
  const b = sharedArray(a.constructor as { new (buffer: ArrayBufferLike): A; BYTES_PER_ELEMENT: number }, length);
  b.set(a.subarray(0, length));
  return b;
}

/** Compiled WebAssembly kernels, shipped as base64 modules (see scripts/build-wasm.ts). */
const compiled = new Map<string, WebAssembly.Module | null>();

/** The compiled module, or null where the runtime has no WebAssembly SIMD. */
export function simdModule(base64: string): WebAssembly.Module | null {
  if (compiled.has(base64)) return compiled.get(base64)!;
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  // The kernels are under a kilobyte, so synchronous compilation is allowed everywhere.
  const module = typeof WebAssembly === "object" && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  compiled.set(base64, module);
  return module;
}

/** Grows the instance's memory to at least `bytes`; returns its buffer. */
export function reserve(memory: WebAssembly.Memory, bytes: number): ArrayBuffer {
  if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
  // The kernels' memories are never shared, so this is an ArrayBuffer (newer lib types say ArrayBufferLike).
  return memory.buffer as ArrayBuffer;
}

/**
 * A bounds check of Arrow IPC metadata (the flatbuffers of a message and of
 * a file's footer) before apache-arrow decodes it. The flatbuffers library
 * has no verifier in JavaScript: a vector whose length is forged makes the
 * decoder build millions of objects from a few hundred bytes (a flipped
 * byte in a schema's children count ran Node out of heap), and a table that
 * refers to itself recurses without end. Here every vector must fit in the
 * bytes, nesting is limited, and the tables visited are no more than the
 * bytes could hold, so decoding costs at most in proportion to the bytes.
 *
 * The layouts are Arrow's format (Message.fbs, Schema.fbs, File.fbs):
 * fields are read by their index in each table, as the format fixes them.
 */
import { FormatError } from "../errors.ts";

const MAX_DEPTH = 64;

class Flat {
  private readonly view: DataView;
  private visits = 0;

  constructor(readonly bytes: Uint8Array, private readonly what: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(why: string): FormatError {
    return new FormatError(`the ${this.what} is corrupt: ${why}`);
  }

  private at(pos: number, size: number): number {
    if (!(Number.isInteger(pos) && pos >= 0 && pos + size <= this.bytes.length)) throw this.fail(`it points at byte ${pos} of ${this.bytes.length}`);
    return pos;
  }
  u8(pos: number): number {
    return this.view.getUint8(this.at(pos, 1));
  }
  u32(pos: number): number {
    return this.view.getUint32(this.at(pos, 4), true);
  }
  i64(pos: number): number {
    return Number(this.view.getBigInt64(this.at(pos, 8), true));
  }

  /** The table an offset at `pos` refers to; counts it against the bytes' capacity. */
  table(pos: number): number {
    if (++this.visits > this.bytes.length / 4 + 16) throw this.fail("it refers to more tables than its bytes can hold");
    const table = this.at(pos + this.u32(pos), 4);
    const vtable = table - this.view.getInt32(table, true);
    const size = this.view.getUint16(this.at(vtable, 4), true);
    if (size < 4 || size % 2 !== 0) throw this.fail(`a table's vtable is ${size} bytes`);
    this.at(vtable, size);
    return table;
  }

  /** Where field `index` of a table is stored, or 0 when it is absent. */
  field(table: number, index: number): number {
    const vtable = table - this.view.getInt32(table, true);
    const size = this.view.getUint16(vtable, true);
    const slot = 4 + 2 * index;
    if (slot + 2 > size) return 0;
    const offset = this.view.getUint16(vtable + slot, true);
    return offset === 0 ? 0 : this.at(table + offset, 1);
  }

  /** A vector field's element count and first element, the whole of it inside the bytes. */
  vector(table: number, index: number, elementSize: number): { start: number; length: number } {
    const pos = this.field(table, index);
    if (pos === 0) return { start: 0, length: 0 };
    const vector = this.at(pos + this.u32(pos), 4);
    const length = this.u32(vector);
    if (vector + 4 + length * elementSize > this.bytes.length) throw this.fail(`a vector declares ${length} elements of ${elementSize} bytes in ${this.bytes.length} bytes`);
    return { start: vector + 4, length };
  }

  /** A table field, or 0 when absent. */
  child(table: number, index: number): number {
    const pos = this.field(table, index);
    return pos === 0 ? 0 : this.table(pos);
  }

  /** Every table of a vector-of-tables field. */
  tables(table: number, index: number): number[] {
    const { start, length } = this.vector(table, index, 4);
    return Array.from({ length }, (_, i) => this.table(start + 4 * i));
  }

  string(table: number, index: number): void {
    this.vector(table, index, 1);
  }
}

function keyValues(f: Flat, table: number, index: number): void {
  for (const kv of f.tables(table, index)) {
    f.string(kv, 0);
    f.string(kv, 1);
  }
}

function field(f: Flat, table: number, depth: number): void {
  if (depth > MAX_DEPTH) throw f.fail(`its fields nest more than ${MAX_DEPTH} deep`);
  f.string(table, 0);
  f.child(table, 3); // type
  const dictionary = f.child(table, 4);
  if (dictionary) f.child(dictionary, 1); // index type
  for (const child of f.tables(table, 5)) field(f, child, depth + 1);
  keyValues(f, table, 6);
}

function schema(f: Flat, table: number): void {
  for (const t of f.tables(table, 1)) field(f, t, 0);
  keyValues(f, table, 2);
  f.vector(table, 3, 8); // features
}

function recordBatch(f: Flat, table: number): void {
  f.vector(table, 1, 16); // FieldNode structs
  const buffers = f.vector(table, 2, 16); // Buffer structs
  f.child(table, 3); // compression
  // Variadic buffer counts (string views' data buffers): the reader makes that many buffers, so they must be among the batch's.
  const counts = f.vector(table, 4, 8);
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = f.i64(counts.start + 8 * i);
    total += count;
    if (!(count >= 0 && total <= buffers.length)) throw f.fail(`it declares ${count} variadic buffers in a batch of ${buffers.length} buffers`);
  }
}

/** Checks one message's metadata flatbuffer (FormatError naming what is wrong); returns its header type (1 schema, 2 dictionary batch, 3 record batch). */
export function checkMessageMetadata(bytes: Uint8Array): number {
  const f = new Flat(bytes, "metadata of an Arrow IPC message");
  const message = f.table(0);
  const typePos = f.field(message, 1);
  const header = f.child(message, 2);
  const type = typePos ? f.u8(typePos) : 0;
  if (header) {
    if (type === 1) schema(f, header);
    else if (type === 3) recordBatch(f, header);
    else if (type === 2) {
      const data = f.child(header, 1);
      if (data) recordBatch(f, data);
    }
  }
  keyValues(f, message, 4);
  return header ? type : 0;
}

/** Where a file's footer says a message starts (a Block: offset, metadata length, body length). */
export interface Block {
  offset: number;
  bodyLength: number;
  /** The message header type the block must hold: 2 (dictionary batch) or 3 (record batch). */
  type: 2 | 3;
}

/** Checks an Arrow IPC file's footer flatbuffer: its schema and its block lists; returns the blocks. */
export function checkFooter(bytes: Uint8Array): Block[] {
  const f = new Flat(bytes, "footer of the Arrow IPC file");
  const footer = f.table(0);
  const s = f.child(footer, 1);
  if (s) schema(f, s);
  const blocks: Block[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const index of [2, 3] as const) {
    const { start, length } = f.vector(footer, index, 24);
    for (let i = 0; i < length; i++) {
      const at = start + 24 * i;
      blocks.push({ offset: Number(view.getBigInt64(at, true)), bodyLength: Number(view.getBigInt64(at + 16, true)), type: index === 2 ? 2 : 3 });
    }
  }
  keyValues(f, footer, 4);
  return blocks;
}

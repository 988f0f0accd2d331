/**
 * Follows the message framing of an Arrow IPC stream as its bytes go by, so
 * a stream that stops between two messages (a writer that closed without
 * the end-of-stream marker, which the format allows) can be told from one
 * cut inside a message. apache-arrow's reader reports most cuts itself but
 * reads a stream that stops within the 8-byte prefix of a message as ended.
 *
 * Each message is: 0xFFFFFFFF, an int32 metadata length M, M bytes of a
 * flatbuffer `Message`, then `Message.bodyLength` body bytes. M = 0 is the
 * end-of-stream marker.
 */
export class IpcFraming {
  private prefix = new Uint8Array(8);
  private prefixHave = 0;
  private metadata = new Uint8Array(0);
  private metadataHave = 0;
  private bodyLeft = 0;
  private state: "prefix" | "metadata" | "body" | "end" = "prefix";

  /** Between two messages, or after the end-of-stream marker. */
  get atBoundary(): boolean {
    return this.state === "end" || (this.state === "prefix" && this.prefixHave === 0);
  }

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && this.state !== "end") {
      if (this.state === "prefix") {
        const n = Math.min(8 - this.prefixHave, chunk.length - i);
        this.prefix.set(chunk.subarray(i, i + n), this.prefixHave);
        this.prefixHave += n;
        i += n;
        if (this.prefixHave < 8) return;
        const length = new DataView(this.prefix.buffer).getInt32(4, true);
        this.prefixHave = 0;
        if (length <= 0) {
          this.state = "end";
        } else {
          this.metadata = new Uint8Array(length);
          this.metadataHave = 0;
          this.state = "metadata";
        }
      } else if (this.state === "metadata") {
        const n = Math.min(this.metadata.length - this.metadataHave, chunk.length - i);
        this.metadata.set(chunk.subarray(i, i + n), this.metadataHave);
        this.metadataHave += n;
        i += n;
        if (this.metadataHave < this.metadata.length) return;
        this.bodyLeft = bodyLength(this.metadata);
        this.state = this.bodyLeft > 0 ? "body" : "prefix";
      } else {
        const n = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= n;
        i += n;
        if (this.bodyLeft === 0) this.state = "prefix";
      }
    }
  }
}

/**
 * Message.bodyLength (field 3, int64, default 0) of a flatbuffer Message;
 * 0 for bytes that are no Message (the reader reports those).
 */
function bodyLength(message: Uint8Array): number {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const table = message.length < 8 ? -1 : view.getUint32(0, true);
  if (table < 0 || table + 4 > message.length) return 0;
  const vtable = table - view.getInt32(table, true);
  const FIELD = 4 + 2 * 3;
  if (vtable < 0 || vtable + FIELD + 2 > message.length || view.getUint16(vtable, true) < FIELD + 2) return 0;
  const offset = view.getUint16(vtable + FIELD, true);
  return offset === 0 || table + offset + 8 > message.length ? 0 : Number(view.getBigInt64(table + offset, true));
}

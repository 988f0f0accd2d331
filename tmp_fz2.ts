import pl from "nodejs-polars";
import { Message, tableFromIPC } from "apache-arrow";
const df = pl.DataFrame([pl.Series("instance", [0, 1, 2], pl.Int32), pl.Series("prompt", ["a", "b", "a"], pl.Utf8), pl.Series("step", [0, 0, 0], pl.Int32), pl.Series("features", [[1, 2], [3, 4], [5, 6]], pl.List(pl.Float32))]);
const good = new Uint8Array(df.writeIPCStream(null, { compression: "zstd" }));
let at = 0;
while (at < good.length) {
  const v = new DataView(good.buffer, good.byteOffset + at);
  const len = v.getInt32(4, true);
  if (len === 0) { console.log("EOS at", at); break; }
  const m = Message.decode(good.subarray(at + 8, at + 8 + len));
  console.log("message at", at, "meta", len, "type", m.headerType, "body", m.bodyLength);
  at += 8 + len + Number(m.bodyLength);
}
console.log(good.length);
const bad = good.slice(); bad[190] ^= 0x5a;
console.log("orig", good[190], "new", bad[190]);
import * as fbm from "apache-arrow/fb/message";
import * as fbs from "apache-arrow/fb/schema";
import { ByteBuffer } from "flatbuffers";
const meta = bad.subarray(8, 8 + 328);
const msg = fbm.Message.getRootAsMessage(new ByteBuffer(meta));
const schema = msg.header(new fbs.Schema());
console.log("fields", schema.fieldsLength(), "meta", schema.customMetadataLength(), "features", schema.featuresLength());
for (let i = 0; i < Math.min(schema.fieldsLength(), 10); i++) { const f = schema.fields(i); console.log(i, f?.name(), "children", f?.childrenLength(), "cm", f?.customMetadataLength(), "typeType", f?.typeType()); }

/**
 * What the embedder fans out, as bytes: a frame table as one Arrow IPC
 * stream, the lineage tree as its two tables (nodes, links) and a JSON
 * remainder (branch points, cut height, members), each cut into messages
 * of at most the server's payload. A watcher joins the chunks of one update
 * (`Diffusion-Life-Update`, `Diffusion-Life-Part` "k/K") before it reads them.
 */
import { type Table, tableFromIPC, tableToIPC } from "apache-arrow";
import { asFrameTable, type FrameTable } from "../data/frame_table.ts";
import { FormatError } from "../errors.ts";
import type { BranchPoint, LineageTree } from "../lineage/lineage.ts";
import { HEADROOM } from "./table_parts.ts";

export function chunk(bytes: Uint8Array, maxPayload: number): Uint8Array[] {
  const size = Math.max(1, maxPayload - HEADROOM);
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length || out.length === 0; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

export const encodeFrame = (frame: FrameTable): Uint8Array => tableToIPC(frame, "stream");

export function decodeFrame(bytes: Uint8Array): FrameTable {
  try {
    return asFrameTable(tableFromIPC(bytes));
  } catch (error) {
    throw error instanceof FormatError ? error : new FormatError(`a frame message that is no frame table: ${(error as Error).message}`);
  }
}

interface LineageRest {
  branchPoints: BranchPoint[];
  height: number;
  members: number[][];
}

/** [nodes length: u32][nodes IPC][links length: u32][links IPC][JSON of the rest]. */
export function encodeLineage(tree: LineageTree): Uint8Array {
  const nodes = tableToIPC(tree.nodes, "stream"), links = tableToIPC(tree.links, "stream");
  const rest: LineageRest = { branchPoints: tree.branchPoints, height: tree.height, members: tree.members.map((m) => Array.from(m)) };
  const json = new TextEncoder().encode(JSON.stringify(rest));
  const out = new Uint8Array(8 + nodes.length + links.length + json.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, nodes.length, true);
  out.set(nodes, 4);
  view.setUint32(4 + nodes.length, links.length, true);
  out.set(links, 8 + nodes.length);
  out.set(json, 8 + nodes.length + links.length);
  return out;
}

export function decodeLineage(bytes: Uint8Array): LineageTree {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const table = (at: number): [Table, number] => {
    if (at + 4 > bytes.length) throw new FormatError("a lineage message cut short");
    const length = view.getUint32(at, true);
    if (at + 4 + length > bytes.length) throw new FormatError("a lineage message cut short");
    return [tableFromIPC(bytes.subarray(at + 4, at + 4 + length)), at + 4 + length];
  };
  const [nodes, afterNodes] = table(0);
  const [links, afterLinks] = table(afterNodes);
  let rest: LineageRest;
  try {
    rest = JSON.parse(new TextDecoder().decode(bytes.subarray(afterLinks)));
  } catch (error) {
    throw new FormatError(`a lineage message whose remainder is not JSON: ${(error as Error).message}`);
  }
  return { nodes, links, branchPoints: rest.branchPoints, height: rest.height, members: rest.members.map((m) => Int32Array.from(m)) };
}

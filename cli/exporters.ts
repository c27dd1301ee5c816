/**
 * The ONNX and standalone-ESM writers (src/export/onnx.ts, src/export/esm.ts), imported when
 * a command needs them.
 */
import type { Graph } from '../src/ir/graph.js';
import type { Weights } from '../src/export/weights.js';

/** ONNX protobuf bytes of `graph` with `weights` as initializers (bound by param name). */
export async function toOnnxBytes(graph: Graph, weights: Weights): Promise<Uint8Array> {
  const { toOnnx } = await import('../src/export/onnx.js');
  return toOnnx(graph, weights);
}

/** A dependency-free ES module running `graph` with `weights` inlined. */
export async function toEsmSource(graph: Graph, weights: Weights): Promise<string> {
  const { toStandaloneEsm } = await import('../src/export/esm.js');
  return toStandaloneEsm(graph, weights);
}

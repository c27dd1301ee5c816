import { GraphBuilder } from '../ir/builder.js';
import type { Graph } from '../ir/graph.js';
import { inlineGraph } from '../ir/inline.js';
import { vjp } from './vjp.js';

export interface JvpResult {
  /** params: original params, then one tangent per `wrt`; outputs: original outputs, then their tangents. */
  readonly graph: Graph;
}

/**
 * Forward mode as a graph transform, by transposing reverse mode: u ↦ uᵀJ is linear in
 * the seed u, so its own VJP with cotangent t is J·t. The VJP rules are the only
 * derivative rules kiln keeps; this reuses them and stays exact.
 */
export function jvp(graph: Graph, wrt: readonly number[] = graph.params.map((_, i) => i)): JvpResult {
  const nOut = graph.outputs.length;
  const nParams = graph.params.length;
  // h(params, seeds) = (outputs, uᵀJ per wrt)
  const h = vjp(graph, { wrt, seeds: 'param', name: `${graph.name}_h` }).graph;
  // VJP of h from the uᵀJ outputs with respect to the seeds, with the tangents as cotangents.
  const gradOutputs = wrt.map((_, k) => nOut + k);
  const seedParams = graph.outputs.map((_, j) => nParams + j);
  const t = vjp(h, { wrt: seedParams, of: gradOutputs, seeds: 'param', keepOutputs: false, name: `${graph.name}_t` }).graph;

  // Rebuild with a clean signature: (params, tangents) -> (outputs, tangents out).
  const b = new GraphBuilder(`${graph.name}_jvp`);
  const params = graph.params.map((p, i) => b.param(p.name ?? `arg${i}`, p.type));
  const tangents = wrt.map((i, k) => b.param(`t${k}`, graph.params[i]!.type));
  // The seeds' values do not matter (the map is linear in them): bind zeros.
  const zeros = graph.outputs.map((v) => b.emit('const', [], { dtype: v.type.dtype, shape: [...v.type.shape], value: 0 }));
  const outs = inlineGraph(b, graph, params);
  const tOut = inlineGraph(b, t, [...params, ...zeros, ...tangents]);
  return { graph: b.build([...outs, ...tOut]) };
}

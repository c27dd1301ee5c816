import { GraphBuilder } from '../ir/builder.js';
import type { Graph } from '../ir/graph.js';
import { inlineGraph } from '../ir/inline.js';
import { PrimOps } from '../ir/lang/prim.js';
import { vjp } from './vjp.js';

/**
 * Hessian-vector product of a scalar output: with g = ∇f(x) (as IR) and s = Σ sum(gᵢ·vᵢ),
 * returns ∇s — reverse mode applied to the reverse-mode graph.
 * The result takes (params, v per wrt) and returns (output, grads..., hvps...).
 */
export function hvp(graph: Graph, wrt: readonly number[], of = 0): { graph: Graph; unused: readonly boolean[] } {
  const first = vjp(graph, { wrt, of: [of], keepOutputs: false });
  const b = new GraphBuilder(`${graph.name}_hvp`);
  const o = new PrimOps(b);
  const params = graph.params.map((p, i) => b.param(p.name ?? `arg${i}`, p.type));
  const vs = wrt.map((i, k) => b.param(`v${k}`, graph.params[i]!.type));
  const grads = inlineGraph(b, first.graph, params);
  let s = o.scalar(0);
  grads.forEach((g, k) => {
    const prod = b.emit('mul', [g, vs[k]!], {});
    s = b.emit('add', [s, o.reshape(o.sumKeep(prod, prod.type.shape.map((_, i) => i)), [])], {});
  });
  const outFwd = inlineGraph(b, graph, params)[of]!;
  const sGraph = b.build([s, outFwd, ...grads]);
  const second = vjp(sGraph, { wrt, of: [0], keepOutputs: true });
  // outputs of `second`: s, f, grads..., hvps...
  const b2 = new GraphBuilder(`${graph.name}_hvp`);
  const p2 = [...params, ...vs].map((p) => b2.param(p.name!, p.type));
  const all = inlineGraph(b2, second.graph, p2);
  return { graph: b2.build(all.slice(1)), unused: second.unused };
}

import { GraphBuilder } from '../ir/builder.js';
import { Graph, type Node, type Value } from '../ir/graph.js';

/**
 * Rebuilds `g` node by node. `visit` sees each node with its inputs already mapped and
 * returns a replacement value (or null to copy the node as it is). `b` may be used to emit
 * new nodes. This is the one loop every rewriting pass shares.
 */
export function rewriteGraph(
  g: Graph,
  visit: (node: Node, inputs: readonly Value[], b: GraphBuilder) => Value | null,
): Graph {
  const b = new GraphBuilder(g.name);
  const env = new Map<Value, Value>();
  g.params.forEach((p) => env.set(p, b.param(p.name ?? `arg${p.id}`, p.type)));
  for (const n of g.nodes) {
    const inputs = n.inputs.map((v) => env.get(v)!);
    b.loc = n.loc;
    const r = visit(n, inputs, b);
    env.set(n.out, r ?? b.push(n.op, inputs, n.attrs, n.out.type, n.loc, n.origin));
  }
  const out = b.build(g.outputs.map((v) => env.get(v)!));
  return new Graph(g.name, out.params, out.nodes, out.outputs);
}

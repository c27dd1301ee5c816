import type { GraphBuilder } from './builder.js';
import { ArgumentError } from './errors.js';
import type { Graph, Value } from './graph.js';
import { formatType, typesEqual } from './types.js';

/**
 * Copies `graph`'s nodes into `b`, binding its params to `args`; returns its outputs.
 * Node types and locations are kept as they are (no rule re-checking).
 */
export function inlineGraph(b: GraphBuilder, graph: Graph, args: readonly Value[]): Value[] {
  if (args.length !== graph.params.length) {
    throw new ArgumentError(`inline @${graph.name}: expected ${graph.params.length} arguments, got ${args.length}`);
  }
  const env = new Map<Value, Value>();
  graph.params.forEach((p, i) => {
    const a = args[i]!;
    if (!typesEqual(p.type, a.type)) {
      throw new ArgumentError(`inline @${graph.name}: argument ${i} must be ${formatType(p.type)}, got ${formatType(a.type)}`);
    }
    env.set(p, a);
  });
  for (const n of graph.nodes) {
    env.set(n.out, b.push(n.op, n.inputs.map((v) => env.get(v)!), n.attrs, n.out.type, n.loc));
  }
  return graph.outputs.map((v) => env.get(v)!);
}

import { Graph, type Node, type Value } from '../ir/graph.js';

import type { Pass } from './manager.js';

/** Dead-code elimination: keeps only the nodes the outputs depend on. */
export const dcePass: Pass = { name: 'dce', run: (g) => dce(g) };

/** Dead-code elimination: keeps only the nodes the outputs depend on. */
export function dce(g: Graph): Graph {
  const live = new Set<Value>(g.outputs);
  const kept: Node[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (!live.has(n.out)) continue;
    kept.push(n);
    for (const v of n.inputs) live.add(v);
  }
  kept.reverse();
  return kept.length === g.nodes.length ? g : new Graph(g.name, g.params, kept, g.outputs);
}

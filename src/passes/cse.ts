import type { Graph, Value } from '../ir/graph.js';
import { formatType } from '../ir/types.js';
import type { Pass } from './manager.js';
import { rewriteGraph } from './rewrite.js';

function attrKey(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));
}

/** Common-subexpression elimination: one node per (op, inputs, attrs, type). */
export const cse: Pass = {
  name: 'cse',
  run(g: Graph): Graph {
    const seen = new Map<string, Value>();
    const ids = new Map<Value, number>();
    const id = (v: Value): number => {
      let i = ids.get(v);
      if (i === undefined) ids.set(v, (i = ids.size));
      return i;
    };
    return rewriteGraph(g, (n, inputs, b) => {
      const key = `${n.op}(${inputs.map(id).join(',')})${attrKey(n.attrs)}:${formatType(n.out.type)}`;
      const hit = seen.get(key);
      if (hit) return hit;
      const v = b.push(n.op, inputs, n.attrs, n.out.type, n.loc, n.origin);
      seen.set(key, v);
      return v;
    });
  },
};

import type { Graph, Node, Value } from '../ir/graph.js';
import { type OpDef, ops } from '../ir/ops/index.js';
import type { DType } from '../ir/types.js';
import { constValue } from './canonicalize.js';
import type { Pass } from './manager.js';
import { rewriteGraph } from './rewrite.js';

/** Rounds a value the way storing it in `dtype` would. */
function store(v: number, dtype: DType): number {
  return dtype === 'f32' ? Math.fround(v) : dtype === 'i32' ? Math.trunc(v) | 0 : v ? 1 : 0;
}

/** Evaluates an elementwise node whose inputs are all splat constants, or null. */
function foldNode(n: Node, inputs: readonly Value[]): number | null {
  const def: OpDef = ops[n.op];
  if (!def.scalar && n.op !== 'cast') return null;
  if (!['unary', 'binary', 'ternary', 'cast'].includes(def.family)) return null;
  const vals = inputs.map(constValue);
  if (vals.some((v) => v === null)) return null;
  const xs = vals as number[];
  const r = n.op === 'cast' ? xs[0]! : def.scalar!(...xs);
  return store(r, n.out.type.dtype);
}

/** Constant folding: elementwise ops over splat constants become one constant. */
export const foldConstants: Pass = {
  name: 'fold',
  run(g: Graph): Graph {
    return rewriteGraph(g, (n, inputs, b) => {
      const v = foldNode(n, inputs);
      if (v === null) return null;
      const t = n.out.type;
      return b.push('const', [], { dtype: t.dtype, shape: [...t.shape], value: v }, t, n.loc, n.origin);
    });
  },
};

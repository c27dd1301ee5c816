import type { GraphBuilder } from '../ir/builder.js';
import type { Graph, Node, Value } from '../ir/graph.js';
import { shapesEqual, typesEqual } from '../ir/types.js';
import type { Pass } from './manager.js';
import { rewriteGraph } from './rewrite.js';

/** A named local rewrite: given a node (inputs already rewritten), a replacement or null. */
export interface RewriteRule {
  readonly name: string;
  readonly apply: (node: Node, inputs: readonly Value[], b: GraphBuilder) => Value | null;
}

/** The splat value of a `const` node, or null. */
export function constValue(v: Value): number | null {
  return v.node?.op === 'const' ? (v.node.attrs.value as number) : null;
}

const ints = (n: Node, key: string): number[] => n.attrs[key] as number[];

/** `x op c` → x when c is the identity and the result has x's type. */
function identityRule(name: string, op: Node['op'], identity: number, commutes: boolean): RewriteRule {
  return {
    name,
    apply: (n, [a, b]) => {
      if (n.op !== op) return null;
      if (constValue(b!) === identity && typesEqual(a!.type, n.out.type)) return a!;
      if (commutes && constValue(a!) === identity && typesEqual(b!.type, n.out.type)) return b!;
      return null;
    },
  };
}

/** Movement and arithmetic identities; each rule fires locally and keeps types exact. */
export const canonicalRules: readonly RewriteRule[] = [
  identityRule('add-zero', 'add', 0, true),
  identityRule('sub-zero', 'sub', 0, false),
  identityRule('mul-one', 'mul', 1, true),
  identityRule('div-one', 'div', 1, false),
  {
    name: 'same-shape-movement',
    apply: (n, [x]) =>
      ['reshape', 'expand', 'cast'].includes(n.op) && typesEqual(x!.type, n.out.type) ? x! : null,
  },
  {
    name: 'identity-permute',
    apply: (n, [x]) => (n.op === 'permute' && ints(n, 'perm').every((p, i) => p === i) ? x! : null),
  },
  {
    name: 'zero-pad',
    apply: (n, [x]) => (n.op === 'pad' && ints(n, 'pads').every((p) => p === 0) ? x! : null),
  },
  {
    name: 'full-slice',
    apply: (n, [x]) => (n.op === 'slice' && shapesEqual(x!.type.shape, n.out.type.shape) && ints(n, 'steps').every((s) => s === 1) ? x! : null),
  },
  {
    name: 'reduce-of-unit-dims',
    apply: (n, [x]) =>
      ['sum', 'max', 'min', 'prod'].includes(n.op) && ints(n, 'axes').every((a) => x!.type.shape[a] === 1) ? x! : null,
  },
  {
    name: 'reshape-reshape',
    apply: (n, [x], b) =>
      n.op === 'reshape' && x!.node?.op === 'reshape' ? b.push('reshape', [x!.node.inputs[0]!], n.attrs, n.out.type, n.loc, n.origin) : null,
  },
  {
    name: 'permute-permute',
    apply: (n, [x], b) => {
      if (n.op !== 'permute' || x!.node?.op !== 'permute') return null;
      const inner = ints(x!.node, 'perm');
      const perm = ints(n, 'perm').map((p) => inner[p]!);
      return b.push('permute', [x!.node.inputs[0]!], { perm }, n.out.type, n.loc, n.origin);
    },
  },
  {
    name: 'neg-neg',
    apply: (n, [x]) => (n.op === 'neg' && x!.node?.op === 'neg' ? x!.node.inputs[0]! : null),
  },
  {
    name: 'splat-movement',
    apply: (n, [x], b) => {
      if (!['reshape', 'expand', 'permute', 'flip', 'slice'].includes(n.op) || constValue(x!) === null) return null;
      const t = n.out.type;
      return b.push('const', [], { dtype: t.dtype, shape: [...t.shape], value: constValue(x!)! }, t, n.loc, n.origin);
    },
  },
];

/** Applies the rules to a fixed point (each pass over the graph applies the first rule that fires per node). */
export function canonicalizeWith(rules: readonly RewriteRule[], onFire?: (rule: string) => void): Pass {
  return {
    name: 'canonicalize',
    run(g: Graph): Graph {
      for (let round = 0; round < 8; round++) {
        let fired = 0;
        g = rewriteGraph(g, (n, inputs, b) => {
          for (const r of rules) {
            const v = r.apply(n, inputs, b);
            if (v) {
              fired++;
              onFire?.(r.name);
              return v;
            }
          }
          return null;
        });
        if (fired === 0) break;
      }
      return g;
    },
  };
}

export const canonicalize: Pass = canonicalizeWith(canonicalRules);

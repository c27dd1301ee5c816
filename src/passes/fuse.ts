import type { Graph, Node, Value } from '../ir/graph.js';
import { ops } from '../ir/ops/index.js';
import type { Kernel, KernelKind, Schedule } from '../ir/schedule.js';

const POINTWISE_FAMILIES = new Set(['source', 'unary', 'binary', 'ternary', 'cast', 'movement']);
const COMPUTE_FAMILIES = new Set(['unary', 'binary', 'ternary']);

/** The longest chain of ops fused into one kernel. */
const MAX_FUSED_DEPTH = 256;

/** A fold sums this many window taps per output at most inside a loop nest (else its own kernel). */
const MAX_FOLD_TAPS = 64;

/** Whether `n` is a fold lowered into a loop nest (a sum over its window taps). */
function isInlineFold(n: Node): boolean {
  const k = n.attrs.kernel as number[];
  return n.op === 'fold' && k[0]! * k[1]! <= MAX_FOLD_TAPS;
}

function kindOf(n: Node): KernelKind {
  const fam = ops[n.op].family;
  // unfold is index arithmetic (im2col reads its input through window offsets).
  if (POINTWISE_FAMILIES.has(fam) || n.op === 'unfold' || isInlineFold(n)) return 'pointwise';
  if (n.op === 'sum' || n.op === 'max' || n.op === 'min' || n.op === 'prod') return 'reduce';
  if (n.op === 'matmul') return 'matmul';
  return 'opaque';
}

/** A permute that swaps the last two dims (a matrix transpose a GEMM can read directly). */
export function isLastTwoSwap(n: Node | null): boolean {
  if (!n || n.op !== 'permute') return false;
  const perm = n.attrs.perm as number[];
  const r = perm.length;
  return r >= 2 && perm.every((p, i) => (i < r - 2 ? p === i : i === r - 2 ? p === r - 1 : p === r - 2));
}

/**
 * Fusion: decides which values live in buffers and groups the rest into the kernels that
 * read them. Pointwise chains (with broadcasting and movement) fuse into their consumer;
 * a reduction fuses its operand expression; GEMM operands are materialized, except a
 * transpose of a materialized value, which becomes a flag.
 * NOTE: a pointwise value that two kernels would need is materialized unless it is "light"
 * (movement/constants only), so no arithmetic is computed twice; inside one kernel a value
 * used several times is computed once (the kernel's expression is a DAG).
 */
export function fuse(g: Graph): Schedule {
  const materialized = new Set<Value>(g.params);
  const light = new Map<Value, boolean>();
  const isLight = (v: Value): boolean => {
    if (materialized.has(v) || !v.node) return true;
    const cached = light.get(v);
    if (cached !== undefined) return cached;
    const n = v.node;
    const r = !COMPUTE_FAMILIES.has(ops[n.op].family) && n.op !== 'fold' && kindOf(n) === 'pointwise' && n.inputs.every(isLight);
    light.set(v, r);
    return r;
  };

  for (const n of g.nodes) {
    const kind = kindOf(n);
    // A fold is materialized: its consumers (pool gradients) often read each value several times.
    if (kind !== 'pointwise' || n.op === 'fold') materialized.add(n.out);
    if (kind === 'opaque') n.inputs.forEach((v) => materialized.add(v));
    if (kind === 'matmul') {
      for (const v of n.inputs) {
        if (isLastTwoSwap(v.node) && materialized.has(v.node!.inputs[0]!)) continue;
        materialized.add(v);
      }
    }
  }
  for (const v of g.outputs) materialized.add(v);
  // Code generators walk a kernel's expression recursively: very long chains (a thousand
  // scalar ops) are cut into kernels of at most MAX_FUSED_DEPTH levels.
  const depth = new Map<Value, number>();
  for (const n of g.nodes) {
    if (materialized.has(n.out)) continue;
    const d = 1 + Math.max(0, ...n.inputs.map((v) => (materialized.has(v) ? 0 : (depth.get(v) ?? 0))));
    if (d > MAX_FUSED_DEPTH) materialized.add(n.out);
    else depth.set(n.out, d);
  }
  // Which kernels would compute each pointwise value: those of its consumers. A value wanted
  // by two kernels is materialized (computed once), unless it is light (index math only).
  const consumers = new Map<Value, Node[]>();
  for (const n of g.nodes) for (const v of n.inputs) consumers.set(v, [...(consumers.get(v) ?? []), n]);
  const owners = new Map<Value, Set<Value>>();
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (materialized.has(n.out)) {
      owners.set(n.out, new Set([n.out]));
      continue;
    }
    const set = new Set<Value>();
    for (const c of consumers.get(n.out) ?? []) for (const o of owners.get(c.out) ?? []) set.add(o);
    if (set.size > 1 && !isLight(n.out)) {
      materialized.add(n.out);
      light.clear(); // lightness depends on what is materialized
      owners.set(n.out, new Set([n.out]));
    } else owners.set(n.out, set);
  }
  // A transpose folded into a GEMM must have a materialized source (re-check after the pass above).
  for (const n of g.nodes) {
    if (kindOf(n) !== 'matmul') continue;
    for (const v of n.inputs) {
      if (!materialized.has(v) && !(isLastTwoSwap(v.node) && materialized.has(v.node!.inputs[0]!))) materialized.add(v);
    }
  }

  const kernels: Kernel[] = [];
  for (const n of g.nodes) {
    if (!materialized.has(n.out)) continue;
    const kind = kindOf(n);
    const inputs: Value[] = [];
    const fused: Node[] = [];
    const seen = new Set<Value>();
    const visit = (v: Value, top: boolean): void => {
      if (seen.has(v)) return;
      seen.add(v);
      if (!top && materialized.has(v)) {
        inputs.push(v);
        return;
      }
      const node = v.node!;
      for (const x of node.inputs) visit(x, false);
      fused.push(node);
    };
    if (kind === 'matmul') {
      const [a, b] = n.inputs as [Value, Value];
      const opA = materialized.has(a) ? a : a.node!.inputs[0]!;
      const opB = materialized.has(b) ? b : b.node!.inputs[0]!;
      kernels.push({ kind, node: n, inputs: [opA, opB], fused: [n], transA: opA !== a, transB: opB !== b });
      continue;
    }
    if (kind === 'opaque') {
      kernels.push({ kind, node: n, inputs: [...new Set(n.inputs)], fused: [n] });
      continue;
    }
    visit(n.out, true);
    kernels.push({ kind, node: n, inputs, fused });
  }
  // Outputs that are parameters need no kernel: the executable returns (a copy of) the argument.
  return { graph: g, kernels, materialized };
}

/**
 * Table-driven checks of every primitive: its VJP rule against central finite differences
 * of the float64 reference, its second derivative (VJP of the VJP) against finite
 * differences of the gradient, and the JVP transform against the VJP (⟨v, J t⟩ = ⟨Jᵀ v, t⟩).
 */
import { describe, expect, it } from 'vitest';
import { hvp, jvp, vjp } from '../../src/autodiff/index.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Attrs, Graph } from '../../src/ir/graph.js';
import { interpret } from '../../src/ir/interpret.js';
import type { NDArray } from '../../src/ir/ndarray.js';
import type { OpName } from '../../src/ir/ops/index.js';
import { type DType, numel, tensorType } from '../../src/ir/types.js';
import { parseGraph } from '../../src/ir/parser.js';
import { printGraph } from '../../src/ir/printer.js';
import { verifyGraph as verifyOnly } from '../../src/ir/verifier.js';

/** Every graph a test builds must verify and survive print → parse → print unchanged. */
function verifyGraph(g: Graph): void {
  verifyOnly(g);
  const text = printGraph(g);
  expect(printGraph(parseGraph(text))).toBe(text);
}

interface Input {
  shape: number[];
  dtype?: DType;
  /** Fixed values (indices, conditions); otherwise random in `range`. */
  data?: number[];
  range?: [number, number];
}
interface GradCase {
  inputs: Input[];
  attrs?: Attrs;
  /** Skip the second-order check (piecewise-linear ops have a zero Hessian almost everywhere anyway). */
  firstOrderOnly?: boolean;
}

const f = (shape: number[], range: [number, number] = [-1, 1]): Input => ({ shape, range });
const pos = (shape: number[]): Input => ({ shape, range: [0.5, 2] });
const NO_GRADIENT = 'no gradient' as const;

const window = { kernel: [2, 2], stride: [1, 2], padding: [1, 0], dilation: [1, 1] };

/** One case per primitive; `satisfies` makes a new op without a case a type error. */
const CASES = {
  const: NO_GRADIENT,
  iota: NO_GRADIENT,
  neg: { inputs: [f([2, 3])] },
  abs: { inputs: [{ shape: [4], data: [-1.5, -0.3, 0.4, 2] }] },
  sign: { inputs: [{ shape: [3], data: [-1.5, 0.3, 2] }] },
  floor: { inputs: [{ shape: [3], data: [-1.5, 0.3, 2.2] }] },
  exp: { inputs: [f([2, 3])] },
  log: { inputs: [pos([2, 3])] },
  log1p: { inputs: [pos([3])] },
  expm1: { inputs: [f([3])] },
  sqrt: { inputs: [pos([3])] },
  rsqrt: { inputs: [pos([3])] },
  reciprocal: { inputs: [pos([3])] },
  sin: { inputs: [f([3])] },
  cos: { inputs: [f([3])] },
  tanh: { inputs: [f([3])] },
  sigmoid: { inputs: [f([3], [-3, 3])] },
  erf: { inputs: [f([4], [-2, 2])] },
  logical_not: NO_GRADIENT,
  add: { inputs: [f([2, 3]), f([3])] },
  sub: { inputs: [f([2, 1]), f([3])] },
  mul: { inputs: [f([2, 3]), f([2, 3])] },
  div: { inputs: [f([2, 3]), pos([1, 3])] },
  pow: { inputs: [pos([2, 3]), f([3])] },
  maximum: { inputs: [{ shape: [4], data: [1, -2, 3, 0.5] }, { shape: [4], data: [0.5, 1, -1, 2] }], firstOrderOnly: true },
  minimum: { inputs: [{ shape: [4], data: [1, -2, 3, 0.5] }, { shape: [4], data: [0.5, 1, -1, 2] }], firstOrderOnly: true },
  eq: NO_GRADIENT,
  ne: NO_GRADIENT,
  lt: NO_GRADIENT,
  le: NO_GRADIENT,
  gt: NO_GRADIENT,
  ge: NO_GRADIENT,
  logical_and: NO_GRADIENT,
  logical_or: NO_GRADIENT,
  where: { inputs: [{ shape: [3], dtype: 'bool', data: [1, 0, 1] }, f([3]), f([2, 3])] },
  cast: { inputs: [f([3])], attrs: { dtype: 'f32' } },
  sum: { inputs: [f([2, 3, 4])], attrs: { axes: [0, 2] } },
  prod: { inputs: [pos([2, 3])], attrs: { axes: [1] } },
  max: { inputs: [{ shape: [2, 3], data: [1, 5, 2, -1, -3, 4] }], attrs: { axes: [1] }, firstOrderOnly: true },
  min: { inputs: [{ shape: [2, 3], data: [1, 5, 2, -1, -3, 4] }], attrs: { axes: [0] }, firstOrderOnly: true },
  argmax: NO_GRADIENT,
  argmin: NO_GRADIENT,
  cumsum: { inputs: [f([2, 4])], attrs: { axis: 1 } },
  reshape: { inputs: [f([2, 6])], attrs: { shape: [3, 4] } },
  permute: { inputs: [f([2, 3, 4])], attrs: { perm: [2, 0, 1] } },
  expand: { inputs: [f([3, 1])], attrs: { shape: [2, 3, 4] } },
  slice: { inputs: [f([5, 4])], attrs: { starts: [1, 0], ends: [5, 3], steps: [2, 1] } },
  unslice: { inputs: [f([2, 3])], attrs: { shape: [5, 4], starts: [1, 0], ends: [5, 3], steps: [2, 1] } },
  pad: { inputs: [f([2, 3])], attrs: { pads: [1, 0, 2, 1], value: 0.5 } },
  flip: { inputs: [f([2, 3])], attrs: { axes: [1] } },
  concat: { inputs: [f([2, 3]), f([2, 1])], attrs: { axis: 1 } },
  gather: { inputs: [f([3, 4]), { shape: [2, 4], dtype: 'i32', data: [0, 2, 1, 0, 2, 2, 0, 1] }], attrs: { axis: 0 } },
  scatter_add: {
    inputs: [f([3, 2]), { shape: [2, 2], dtype: 'i32', data: [0, 2, 0, 1] }, f([2, 2])],
    attrs: { axis: 0 },
  },
  matmul: { inputs: [f([2, 3, 4]), f([4, 2])] },
  unfold: { inputs: [f([1, 2, 3, 4])], attrs: window },
  fold: { inputs: [f([1, 8, 8])], attrs: { ...window, outputSize: [3, 4] } },
} satisfies Record<OpName, GradCase | typeof NO_GRADIENT>;

/** A deterministic LCG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function makeInputs(c: GradCase, next: () => number): NDArray[] {
  return c.inputs.map((i) => {
    const dtype = i.dtype ?? 'f32';
    const n = numel(i.shape);
    const data = dtype === 'f32' ? new Float64Array(n) : dtype === 'i32' ? new Int32Array(n) : new Uint8Array(n);
    const [lo, hi] = i.range ?? [-1, 1];
    for (let k = 0; k < n; k++) data[k] = i.data ? i.data[k]! : lo + (hi - lo) * next();
    return { dtype, shape: i.shape, data };
  });
}

/** loss(x) = sum(op(x) * r) with a fixed random r, so every output element matters. */
function lossGraph(op: OpName, c: GradCase, r: NDArray): Graph {
  const b = new GraphBuilder(`${op}_loss`);
  const xs = c.inputs.map((i, k) => b.param(`x${k}`, tensorType(i.dtype ?? 'f32', i.shape)));
  const y = b.emit(op, xs, c.attrs ?? {});
  const w = b.param('r', tensorType('f32', r.shape));
  const prod = b.emit('mul', [y, w], {});
  const s = b.emit('sum', [prod], { axes: prod.type.shape.map((_, i) => i) });
  return b.build([b.emit('reshape', [s], { shape: [] })]);
}

const run = (g: Graph, args: NDArray[]) => interpret(g, args, 'f64');
const scalar = (a: NDArray) => a.data[0]!;

function finiteDiff(fn: (args: NDArray[]) => number, args: NDArray[], k: number, h = 1e-6): Float64Array {
  const x = args[k]!;
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    const orig = x.data[i]!;
    x.data[i] = orig + h;
    const up = fn(args);
    x.data[i] = orig - h;
    const down = fn(args);
    x.data[i] = orig;
    out[i] = (up - down) / (2 * h);
  }
  return out;
}

function dotOf(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const ok = Math.abs(got[i]! - want[i]!) <= tol * (1 + Math.abs(want[i]!));
    if (!ok) expect.fail(`${what}: element ${i} is ${got[i]}, finite differences give ${want[i]}`);
  }
}

describe('VJP rules against finite differences', () => {
  for (const [op, c] of Object.entries(CASES) as [OpName, GradCase | typeof NO_GRADIENT][]) {
    if (c === NO_GRADIENT) continue;
    it(op, () => {
      const next = rng(op.length * 7919);
      const args = makeInputs(c, next);
      const probe = lossGraph(op, c, { dtype: 'f32', shape: [1], data: new Float64Array(1) });
      const outShape = probe.nodes[c.inputs.length === 0 ? 0 : 0]!.out.type.shape;
      const r: NDArray = { dtype: 'f32', shape: outShape, data: Float64Array.from({ length: numel(outShape) }, () => next() * 2 - 1) };
      const g = lossGraph(op, c, r);
      verifyGraph(g);
      const wrt = c.inputs.flatMap((i, k) => ((i.dtype ?? 'f32') === 'f32' ? [k] : []));
      const all = [...args, r];
      const { graph: back } = vjp(g, { wrt });
      verifyGraph(back);
      const outs = run(back, all);
      const loss = (a: NDArray[]) => scalar(run(g, a)[0]!);
      wrt.forEach((k, j) => expectClose(outs[1 + j]!.data, finiteDiff(loss, all, k), 1e-5, `d/dx${k}`));

      // JVP transform: ⟨1, J t⟩ of the loss equals ⟨∇loss, t⟩.
      const ts = wrt.map((k) => ({ ...args[k]!, data: Float64Array.from(args[k]!.data, () => next() - 0.5) }));
      const { graph: fwd } = jvp(g, wrt);
      verifyGraph(fwd);
      const tOut = scalar(run(fwd, [...all, ...ts])[1]!);
      const dot = wrt.reduce((acc, _k, j) => acc + dotOf(outs[1 + j]!.data, ts[j]!.data), 0);
      expect(tOut).toBeCloseTo(dot, 8);

      if (c.firstOrderOnly) return;
      // Second order: the VJP of the VJP against finite differences of the gradient along v.
      const vs = wrt.map((k) => ({ ...args[k]!, data: Float64Array.from(args[k]!.data, () => next() - 0.5) }));
      const h = hvp(g, wrt);
      verifyGraph(h.graph);
      const hOut = run(h.graph, [...all, ...vs]);
      const gradDotV = (a: NDArray[]) => {
        const o = run(back, a);
        return wrt.reduce((acc, _k, j) => acc + dotOf(o[1 + j]!.data, vs[j]!.data), 0);
      };
      wrt.forEach((k, j) => {
        if (h.unused[j]) return;
        expectClose(hOut[1 + wrt.length + j]!.data, finiteDiff(gradDotV, all, k), 1e-4, `hvp x${k}`);
      });
    });
  }
});

import { DTypeError } from '../errors.js';
import type { Attrs } from '../graph.js';
import { broadcastIndex, type NDArray } from '../ndarray.js';
import type { DType, Shape, TensorType } from '../types.js';
import { formatType, normalizeAxes, normalizeAxis, numel, stridesOf } from '../types.js';
import { defineOp, intAttr, intsAttr } from './define.js';

// NOTE: reductions keep the reduced dims as size 1; the composites reshape when keepdim=false.
// That keeps every VJP a broadcast and every kernel's index math in one form.

function reducedShape(op: string, t: TensorType, attrs: Attrs): Shape {
  const axes = normalizeAxes(op, intsAttr(op, attrs, 'axes'), t.shape.length);
  return t.shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function reduceOp(name: string, init: number, step: (acc: number, x: number) => number, numeric: boolean) {
  return defineOp({
    name,
    family: 'reduce',
    arity: 1,
    shape: (inputs: readonly TensorType[], attrs: Attrs) => reducedShape(name, inputs[0]!, attrs),
    dtype: (inputs: readonly TensorType[]): DType => {
      const d = inputs[0]!.dtype;
      if (numeric && d === 'bool') throw new DTypeError(`${name}: expected a numeric tensor, got ${formatType(inputs[0]!)}`);
      return d;
    },
    eval: (inputs: readonly NDArray[], out: NDArray) => {
      const x = inputs[0]!;
      const acc = new Float64Array(numel(out.shape)).fill(init);
      const map = broadcastIndex(out.shape, x.shape);
      const n = x.data.length;
      for (let i = 0; i < n; i++) {
        const o = map ? map[i]! : i;
        acc[o] = step(acc[o]!, x.data[i]!);
      }
      out.data.set(acc);
    },
  });
}

const nanMax = (a: number, x: number): number => (Number.isNaN(a) || Number.isNaN(x) ? NaN : x > a ? x : a);
const nanMin = (a: number, x: number): number => (Number.isNaN(a) || Number.isNaN(x) ? NaN : x < a ? x : a);

function argOp(name: string, better: (x: number, best: number) => boolean) {
  return defineOp({
    name,
    family: 'reduce',
    arity: 1,
    shape: (inputs: readonly TensorType[], attrs: Attrs) => {
      const t = inputs[0]!;
      const axis = normalizeAxis(name, intAttr(name, attrs, 'axis'), t.shape.length);
      return t.shape.map((d, i) => (i === axis ? 1 : d));
    },
    dtype: (): DType => 'i32',
    eval: (inputs: readonly NDArray[], out: NDArray, attrs: Attrs) => {
      const x = inputs[0]!;
      const axis = normalizeAxis(name, intAttr(name, attrs, 'axis'), x.shape.length);
      const len = x.shape[axis] ?? 1;
      const stride = stridesOf(x.shape)[axis] ?? 1;
      const outer = numel(x.shape.slice(0, axis));
      const inner = stride;
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * len * inner + i;
          let best = x.data[base]!;
          let bestK = 0;
          for (let k = 1; k < len; k++) {
            const v = x.data[base + k * inner]!;
            if (!Number.isNaN(best) && (Number.isNaN(v) || better(v, best))) {
              best = v;
              bestK = k;
            }
          }
          out.data[o * inner + i] = bestK;
        }
      }
    },
  });
}

export const reduceOps = {
  sum: reduceOp('sum', 0, (a, x) => a + x, false),
  prod: reduceOp('prod', 1, (a, x) => a * x, false),
  max: reduceOp('max', -Infinity, nanMax, true),
  min: reduceOp('min', Infinity, nanMin, true),
  argmax: argOp('argmax', (x, best) => x > best),
  argmin: argOp('argmin', (x, best) => x < best),
  /** Inclusive prefix sum along `axis`. */
  cumsum: defineOp({
    name: 'cumsum',
    family: 'reduce',
    arity: 1,
    shape: (inputs: readonly TensorType[], attrs: Attrs) => {
      normalizeAxis('cumsum', intAttr('cumsum', attrs, 'axis'), inputs[0]!.shape.length);
      return inputs[0]!.shape;
    },
    dtype: (inputs: readonly TensorType[]): DType => inputs[0]!.dtype,
    eval: (inputs: readonly NDArray[], out: NDArray, attrs: Attrs) => {
      const x = inputs[0]!;
      const axis = normalizeAxis('cumsum', intAttr('cumsum', attrs, 'axis'), x.shape.length);
      const len = x.shape[axis] ?? 1;
      const inner = stridesOf(x.shape)[axis] ?? 1;
      const outer = numel(x.shape.slice(0, axis));
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          let acc = 0;
          for (let k = 0; k < len; k++) {
            const j = o * len * inner + k * inner + i;
            acc += x.data[j]!;
            out.data[j] = acc;
          }
        }
      }
    },
  }),
};

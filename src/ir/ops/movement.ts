import { ArgumentError, ShapeError } from '../errors.js';
import type { Attrs } from '../graph.js';
import { broadcastIndex, type NDArray, unravel } from '../ndarray.js';
import type { DType, Shape, TensorType } from '../types.js';
import { formatShape, formatType, normalizeAxes, normalizeAxis, numel, stridesOf } from '../types.js';
import { defineOp, intAttr, intsAttr, numAttr, sameAsFirst } from './define.js';

/** Copies `out` from `x` through a map from each output flat index to a source index (-1: fill). */
function gatherBy(x: NDArray, out: NDArray, src: (outIdx: number[]) => number, fill = 0): void {
  const n = numel(out.shape);
  const idx = new Array<number>(out.shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    unravel(i, out.shape, idx);
    const s = src(idx);
    out.data[i] = s < 0 ? fill : x.data[s]!;
  }
}

interface SliceSpec {
  starts: number[];
  ends: number[];
  steps: number[];
}

/** Validates a canonical slice: 0 <= start <= end <= dim, step >= 1, one entry per dim. */
function sliceSpec(op: string, shape: Shape, attrs: Attrs): SliceSpec {
  const starts = intsAttr(op, attrs, 'starts');
  const ends = intsAttr(op, attrs, 'ends');
  const steps = intsAttr(op, attrs, 'steps');
  if (starts.length !== shape.length || ends.length !== shape.length || steps.length !== shape.length) {
    throw new ArgumentError(`${op}: starts/ends/steps need one entry per dim of ${formatShape(shape)}`);
  }
  shape.forEach((d, i) => {
    if (steps[i]! < 1) throw new ArgumentError(`${op}: step must be positive, got ${steps[i]} on dim ${i}`);
    if (starts[i]! < 0 || ends[i]! > d || starts[i]! > ends[i]!) {
      throw new ArgumentError(`${op}: range ${starts[i]}:${ends[i]} does not fit dim ${i} of ${formatShape(shape)}`);
    }
  });
  return { starts, ends, steps };
}

function slicedShape(spec: SliceSpec): number[] {
  return spec.starts.map((s, i) => Math.ceil((spec.ends[i]! - s) / spec.steps[i]!));
}

export const movementOps = {
  reshape: defineOp({
    name: 'reshape',
    family: 'movement',
    arity: 1,
    shape: (inputs: readonly TensorType[], attrs: Attrs) => {
      const shape = intsAttr('reshape', attrs, 'shape');
      if (shape.some((d) => d < 0) || numel(shape) !== numel(inputs[0]!.shape)) {
        throw new ShapeError(`reshape: shape ${formatShape(shape)} is invalid for input ${formatType(inputs[0]!)} of size ${numel(inputs[0]!.shape)}`);
      }
      return shape;
    },
    dtype: sameAsFirst,
    eval: (inputs: readonly NDArray[], out: NDArray) => out.data.set(inputs[0]!.data),
  }),

  permute: defineOp({
    name: 'permute',
    family: 'movement',
    arity: 1,
    shape: (inputs: readonly TensorType[], attrs: Attrs) => {
      const x = inputs[0]!;
      const perm = normalizeAxes('permute', intsAttr('permute', attrs, 'perm'), x.shape.length);
      if (perm.length !== x.shape.length) {
        throw new ArgumentError(`permute: dims ${JSON.stringify(perm)} do not match the rank of ${formatType(x)}`);
      }
      return perm.map((p) => x.shape[p]!);
    },
    dtype: sameAsFirst,
    eval: (inputs: readonly NDArray[], out: NDArray, attrs: Attrs) => {
      const x = inputs[0]!;
      const perm = intsAttr('permute', attrs, 'perm');
      const st = stridesOf(x.shape);
      gatherBy(x, out, (idx) => idx.reduce((acc, v, i) => acc + v * st[perm[i]!]!, 0));
    },
  }),

  /** Broadcasts to `shape` (NumPy rules; new leading dims allowed). */
  expand: defineOp({
    name: 'expand',
    family: 'movement',
    arity: 1,
    shape: (inputs: readonly TensorType[], attrs: Attrs) => {
      const x = inputs[0]!;
      const shape = intsAttr('expand', attrs, 'shape');
      const off = shape.length - x.shape.length;
      const ok = off >= 0 && x.shape.every((d, i) => d === 1 || d === shape[off + i]);
      if (!ok) {
        throw new ShapeError(`expand: cannot expand ${formatType(x)} to ${formatShape(shape)}`);
      }
      return shape;
    },
    dtype: sameAsFirst,
    eval: (inputs: readonly NDArray[], out: NDArray) => {
      const x = inputs[0]!;
      const map = broadcastIndex(x.shape, out.shape);
      for (let i = 0; i < out.data.length; i++) out.data[i] = x.data[map ? map[i]! : i]!;
    },
  }),

  /** Canonical strided slice: `x[starts[i]:ends[i]:steps[i]]` on every dim. */
  slice: defineOp({
    name: 'slice',
    family: 'movement',
    arity: 1,
    shape: (inputs: readonly TensorType[], attrs: Attrs) => slicedShape(sliceSpec('slice', inputs[0]!.shape, attrs)),
    dtype: sameAsFirst,
    eval: (inputs: readonly NDArray[], out: NDArray, attrs: Attrs) => {
      const x = inputs[0]!;
      const { starts, steps } = sliceSpec('slice', x.shape, attrs);
      const st = stridesOf(x.shape);
      gatherBy(x, out, (idx) => idx.reduce((acc, v, i) => acc + (starts[i]! + v * steps[i]!) * st[i]!, 0));
    },
  }),

  /** The adjoint of slice: places `x` at the sliced positions of a zero tensor of `shape`. */
  unslice: defineOp({
    name: 'unslice',
    family: 'movement',
    arity: 1,
    shape: (inputs: readonly TensorType[], attrs: Attrs) => {
      const shape = intsAttr('unslice', attrs, 'shape');
      const want = slicedShape(sliceSpec('unslice', shape, attrs));
      const x = inputs[0]!;
      if (want.length !== x.shape.length || want.some((d, i) => d !== x.shape[i])) {
        throw new ShapeError(`unslice: input ${formatType(x)} does not match the slice of ${formatShape(shape)} (${formatShape(want)})`);
      }
      return shape;
    },
    dtype: sameAsFirst,
    eval: (inputs: readonly NDArray[], out: NDArray, attrs: Attrs) => {
      const x = inputs[0]!;
      const { starts, steps } = sliceSpec('unslice', out.shape, attrs);
      const st = stridesOf(out.shape);
      out.data.fill(0);
      const idx = new Array<number>(x.shape.length).fill(0);
      for (let i = 0; i < x.data.length; i++) {
        unravel(i, x.shape, idx);
        out.data[idx.reduce((acc, v, d) => acc + (starts[d]! + v * steps[d]!) * st[d]!, 0)] = x.data[i]!;
      }
    },
  }),

  /** Constant padding; `pads` = [before0, after0, before1, after1, ...], all >= 0. */
  pad: defineOp({
    name: 'pad',
    family: 'movement',
    arity: 1,
    shape: (inputs: readonly TensorType[], attrs: Attrs) => {
      const x = inputs[0]!;
      const pads = intsAttr('pad', attrs, 'pads');
      numAttr('pad', attrs, 'value');
      if (pads.length !== 2 * x.shape.length || pads.some((p) => p < 0)) {
        throw new ArgumentError(`pad: pads ${JSON.stringify(pads)} need two non-negative entries per dim of ${formatType(x)}`);
      }
      return x.shape.map((d, i) => d + pads[2 * i]! + pads[2 * i + 1]!);
    },
    dtype: sameAsFirst,
    eval: (inputs: readonly NDArray[], out: NDArray, attrs: Attrs) => {
      const x = inputs[0]!;
      const pads = intsAttr('pad', attrs, 'pads');
      const st = stridesOf(x.shape);
      gatherBy(
        x,
        out,
        (idx) => {
          let s = 0;
          for (let i = 0; i < idx.length; i++) {
            const v = idx[i]! - pads[2 * i]!;
            if (v < 0 || v >= x.shape[i]!) return -1;
            s += v * st[i]!;
          }
          return s;
        },
        numAttr('pad', attrs, 'value'),
      );
    },
  }),

  flip: defineOp({
    name: 'flip',
    family: 'movement',
    arity: 1,
    shape: (inputs: readonly TensorType[], attrs: Attrs) => {
      normalizeAxes('flip', intsAttr('flip', attrs, 'axes'), inputs[0]!.shape.length);
      return inputs[0]!.shape;
    },
    dtype: sameAsFirst,
    eval: (inputs: readonly NDArray[], out: NDArray, attrs: Attrs) => {
      const x = inputs[0]!;
      const axes = normalizeAxes('flip', intsAttr('flip', attrs, 'axes'), x.shape.length);
      const st = stridesOf(x.shape);
      gatherBy(x, out, (idx) => idx.reduce((acc, v, i) => acc + (axes.includes(i) ? x.shape[i]! - 1 - v : v) * st[i]!, 0));
    },
  }),

  concat: defineOp({
    name: 'concat',
    family: 'movement',
    arity: 'variadic',
    shape: (inputs: readonly TensorType[], attrs: Attrs) => {
      const first = inputs[0]!;
      const axis = normalizeAxis('concat', intAttr('concat', attrs, 'axis'), first.shape.length);
      let total = 0;
      for (const t of inputs) {
        const ok = t.shape.length === first.shape.length && t.shape.every((d, i) => i === axis || d === first.shape[i]);
        if (!ok) {
          throw new ShapeError(`concat: sizes of tensors must match except in dim ${axis}: ${inputs.map(formatType).join(', ')}`);
        }
        total += t.shape[axis]!;
      }
      return first.shape.map((d, i) => (i === axis ? total : d));
    },
    dtype: (inputs: readonly TensorType[]): DType => {
      const d = inputs[0]!.dtype;
      if (inputs.some((t) => t.dtype !== d)) throw new ShapeError(`concat: dtypes differ: ${inputs.map(formatType).join(', ')}`);
      return d;
    },
    eval: (inputs: readonly NDArray[], out: NDArray, attrs: Attrs) => {
      const axis = normalizeAxis('concat', intAttr('concat', attrs, 'axis'), out.shape.length);
      const outer = numel(out.shape.slice(0, axis));
      const inner = numel(out.shape.slice(axis + 1));
      let o = 0;
      for (let b = 0; b < outer; b++) {
        for (const x of inputs) {
          const chunk = x.shape[axis]! * inner;
          for (let k = 0; k < chunk; k++) out.data[o++] = x.data[b * chunk + k]!;
        }
      }
    },
  }),
};

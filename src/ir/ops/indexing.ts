import { DTypeError, IndexError, ShapeError } from '../errors.js';
import type { Attrs } from '../graph.js';
import { type NDArray, unravel } from '../ndarray.js';
import type { TensorType } from '../types.js';
import { formatType, normalizeAxis, stridesOf } from '../types.js';
import { defineOp, intAttr } from './define.js';

/** torch.gather's contract: int index of x's rank, no larger than x off `axis`. */
function checkIndex(op: string, x: TensorType, index: TensorType, axis: number): void {
  if (index.dtype !== 'i32') {
    throw new DTypeError(`${op}: index must be an integer tensor, got ${formatType(index)}`);
  }
  const ok = index.shape.length === x.shape.length && index.shape.every((d, i) => i === axis || d <= x.shape[i]!);
  if (!ok) {
    throw new ShapeError(`${op}: index ${formatType(index)} does not fit ${formatType(x)} along dim ${axis}`);
  }
}

function position(op: string, x: NDArray, idx: number[], axis: number, k: number, st: number[]): number {
  const size = x.shape[axis]!;
  if (k < -size || k >= size) {
    throw new IndexError(`${op}: index ${k} is out of bounds for dim ${axis} with size ${size}`);
  }
  let s = 0;
  for (let d = 0; d < idx.length; d++) s += (d === axis ? (k < 0 ? k + size : k) : idx[d]!) * st[d]!;
  return s;
}

export const indexOps = {
  /** out[i][j] = x[index[i][j]][j] along `axis` (torch.gather). */
  gather: defineOp({
    name: 'gather',
    family: 'index',
    arity: 2,
    shape: (inputs: readonly TensorType[], attrs: Attrs) => {
      const [x, index] = inputs as [TensorType, TensorType];
      const axis = normalizeAxis('gather', intAttr('gather', attrs, 'axis'), x.shape.length);
      checkIndex('gather', x, index, axis);
      return index.shape;
    },
    dtype: (inputs: readonly TensorType[]) => inputs[0]!.dtype,
    eval: (inputs: readonly NDArray[], out: NDArray, attrs: Attrs) => {
      const [x, index] = inputs as [NDArray, NDArray];
      const axis = normalizeAxis('gather', intAttr('gather', attrs, 'axis'), x.shape.length);
      const st = stridesOf(x.shape);
      const idx = new Array<number>(index.shape.length).fill(0);
      for (let i = 0; i < index.data.length; i++) {
        unravel(i, index.shape, idx);
        out.data[i] = x.data[position('gather', x, idx, axis, index.data[i]!, st)]!;
      }
    },
  }),
  /** out = base; out[index[i][j]][j] += src[i][j] along `axis` (torch.scatter_add). */
  scatter_add: defineOp({
    name: 'scatter_add',
    family: 'index',
    arity: 3,
    shape: (inputs: readonly TensorType[], attrs: Attrs) => {
      const [base, index, src] = inputs as [TensorType, TensorType, TensorType];
      const axis = normalizeAxis('scatter_add', intAttr('scatter_add', attrs, 'axis'), base.shape.length);
      checkIndex('scatter_add', base, index, axis);
      if (src.dtype !== base.dtype || src.shape.length !== index.shape.length || index.shape.some((d, i) => d > src.shape[i]!)) {
        throw new ShapeError(`scatter_add: src ${formatType(src)} does not fit index ${formatType(index)} and base ${formatType(base)}`);
      }
      return base.shape;
    },
    dtype: (inputs: readonly TensorType[]) => inputs[0]!.dtype,
    eval: (inputs: readonly NDArray[], out: NDArray, attrs: Attrs) => {
      const [base, index, src] = inputs as [NDArray, NDArray, NDArray];
      const axis = normalizeAxis('scatter_add', intAttr('scatter_add', attrs, 'axis'), base.shape.length);
      const acc = Float64Array.from(base.data);
      const st = stridesOf(base.shape);
      const sst = stridesOf(src.shape);
      const idx = new Array<number>(index.shape.length).fill(0);
      for (let i = 0; i < index.data.length; i++) {
        unravel(i, index.shape, idx);
        const s = idx.reduce((a, v, d) => a + v * sst[d]!, 0);
        acc[position('scatter_add', base, idx, axis, index.data[i]!, st)]! += src.data[s]!;
      }
      out.data.set(acc);
    },
  }),
};

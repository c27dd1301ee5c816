import { DTypeError, ShapeError } from '../errors.js';
import type { NDArray } from '../ndarray.js';
import { broadcastIndex } from '../ndarray.js';
import type { DType, TensorType } from '../types.js';
import { broadcastShapes, formatType, numel } from '../types.js';
import { defineOp } from './define.js';

function matmulShape(a: TensorType, b: TensorType): number[] {
  if (a.shape.length < 2 || b.shape.length < 2) {
    throw new ShapeError(`matmul: operands need rank >= 2 here, got ${formatType(a)} and ${formatType(b)}`);
  }
  const k = a.shape[a.shape.length - 1]!;
  const k2 = b.shape[b.shape.length - 2]!;
  if (k !== k2) {
    throw new ShapeError(
      `matmul: contracting dimensions differ: ${formatType(a)} (dim ${a.shape.length - 1} = ${k}) vs ${formatType(b)} (dim ${b.shape.length - 2} = ${k2})`,
    );
  }
  const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  return [...batch, a.shape[a.shape.length - 2]!, b.shape[b.shape.length - 1]!];
}

export const linalgOps = {
  /** Batched matrix product [...,M,K] x [...,K,N] with broadcast batch dims. */
  matmul: defineOp({
    name: 'matmul',
    family: 'linalg',
    arity: 2,
    shape: (inputs: readonly TensorType[]) => matmulShape(inputs[0]!, inputs[1]!),
    dtype: (inputs: readonly TensorType[]): DType => {
      for (const t of inputs) if (t.dtype !== 'f32') throw new DTypeError(`matmul: expected f32 operands, got ${inputs.map(formatType).join(' and ')}`);
      return 'f32';
    },
    eval: (inputs: readonly NDArray[], out: NDArray) => {
      const [a, b] = inputs as [NDArray, NDArray];
      const r = out.shape.length;
      const M = out.shape[r - 2]!;
      const N = out.shape[r - 1]!;
      const K = a.shape[a.shape.length - 1]!;
      const batch = out.shape.slice(0, -2);
      const nb = numel(batch);
      // Batch index maps: which matrix of a / b feeds each output matrix.
      const ia = broadcastIndex(a.shape.slice(0, -2), batch);
      const ib = broadcastIndex(b.shape.slice(0, -2), batch);
      const row = new Float64Array(N);
      for (let p = 0; p < nb; p++) {
        const ao = (ia ? ia[p]! : p) * M * K;
        const bo = (ib ? ib[p]! : p) * K * N;
        for (let i = 0; i < M; i++) {
          row.fill(0);
          for (let k = 0; k < K; k++) {
            const av = a.data[ao + i * K + k]!;
            const boff = bo + k * N;
            for (let j = 0; j < N; j++) row[j]! += av * b.data[boff + j]!;
          }
          out.data.set(row, p * M * N + i * N);
        }
      }
    },
  }),
};

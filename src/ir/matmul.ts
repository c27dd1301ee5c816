import type { Kernel } from './schedule.js';
import { broadcastIndex } from './ndarray.js';
import { numel } from './types.js';

/** The GEMMs of a (batched, broadcast, possibly transposed) matmul kernel. */
export interface MatmulGeometry {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  /** Per output matrix p: element offsets of its A and B matrices (batch broadcasting). */
  aOffset: number[];
  bOffset: number[];
}

export function matmulGeometry(kernel: Kernel): MatmulGeometry {
  const [a, b] = kernel.inputs as [Kernel['inputs'][number], Kernel['inputs'][number]];
  const out = kernel.node.out.type.shape;
  const r = out.length;
  const m = out[r - 2]!;
  const n = out[r - 1]!;
  const as = a.type.shape;
  const k = kernel.transA ? as[as.length - 2]! : as[as.length - 1]!;
  const batch = out.slice(0, -2);
  const ia = broadcastIndex(as.slice(0, -2), batch);
  const ib = broadcastIndex(b.type.shape.slice(0, -2), batch);
  const count = numel(batch);
  const aOffset: number[] = [];
  const bOffset: number[] = [];
  for (let p = 0; p < count; p++) {
    aOffset.push((ia ? ia[p]! : p) * m * k);
    bOffset.push((ib ? ib[p]! : p) * k * n);
  }
  return { m, n, k, transA: Boolean(kernel.transA), transB: Boolean(kernel.transB), aOffset, bOffset };
}

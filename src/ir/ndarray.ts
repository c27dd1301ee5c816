import type { DType, Shape, TensorType } from './types.js';
import { numel, stridesOf } from './types.js';

/** Flat row-major storage. `f32` is Float32Array in the engine, Float64Array in the reference. */
export type Storage = Float32Array | Float64Array | Int32Array | Uint8Array;

/** A dense array: the currency of reference evaluators and of the simple engine. */
export interface NDArray {
  readonly dtype: DType;
  readonly shape: Shape;
  readonly data: Storage;
}

/** Float precision of the `f32` storage: the engine rounds to float32, the reference keeps float64. */
export type Precision = 'f32' | 'f64';

export function allocStorage(type: TensorType, precision: Precision): Storage {
  const n = numel(type.shape);
  switch (type.dtype) {
    case 'f32':
      return precision === 'f32' ? new Float32Array(n) : new Float64Array(n);
    case 'i32':
      return new Int32Array(n);
    case 'bool':
      return new Uint8Array(n);
  }
}

export function ndarray(type: TensorType, precision: Precision): NDArray {
  return { dtype: type.dtype, shape: type.shape, data: allocStorage(type, precision) };
}

/**
 * For each flat index of `outShape`, the flat index into an array of `inShape` broadcast to it.
 * NOTE: returns null when no mapping is needed (same shape), so hot loops can skip it.
 */
export function broadcastIndex(inShape: Shape, outShape: Shape): Int32Array | null {
  if (inShape.length === outShape.length && inShape.every((d, i) => d === outShape[i])) return null;
  const rank = outShape.length;
  const inStrides = stridesOf(inShape);
  const bstr = new Array<number>(rank).fill(0);
  for (let i = 0; i < inShape.length; i++) {
    const o = rank - inShape.length + i;
    bstr[o] = inShape[i] === 1 ? 0 : inStrides[i]!;
  }
  const n = numel(outShape);
  const idx = new Int32Array(n);
  const counter = new Array<number>(rank).fill(0);
  let src = 0;
  for (let k = 0; k < n; k++) {
    idx[k] = src;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      src += bstr[d]!;
      if (counter[d]! < outShape[d]!) break;
      src -= bstr[d]! * counter[d]!;
      counter[d] = 0;
    }
  }
  return idx;
}

/** Unravels a flat row-major index into a multi-index (into `out`). */
export function unravel(flat: number, shape: Shape, out: number[]): number[] {
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    out[d] = flat % n;
    flat = Math.floor(flat / n);
  }
  return out;
}

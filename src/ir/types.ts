import { ArgumentError, IndexError, ShapeError } from './errors.js';

/** Element types. `i32` also stores PyTorch's int64 indices; `bool` is stored as 0/1. */
export type DType = 'f32' | 'i32' | 'bool';
export const DTYPES: readonly DType[] = ['f32', 'i32', 'bool'];

export type Shape = readonly number[];

/** The type of an SSA value: `f32[32,784]`. A shape `[]` is a scalar. */
export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
}

export function tensorType(dtype: DType, shape: Shape): TensorType {
  return { dtype, shape: [...shape] };
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

export function formatType(t: TensorType): string {
  return `${t.dtype}${formatShape(t.shape)}`;
}

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C order) strides. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function typesEqual(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && shapesEqual(a.shape, b.shape);
}

/** NumPy/PyTorch broadcasting of any number of shapes; `op` names the caller in errors. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        throw new ShapeError(
          `${op}: shapes do not broadcast: ${shapes.map(formatShape).join(' vs ')} ` +
            `(dim ${o - rank} is ${out[o]} vs ${d})`,
        );
      }
    }
  }
  return out;
}

/** Normalizes a possibly negative dim against `rank`; throws IndexError naming `op`. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  const r = Math.max(rank, 1); // PyTorch lets a scalar be indexed by dim 0 / -1
  if (!Number.isInteger(axis) || axis < -r || axis >= r) {
    throw new IndexError(
      `${op}: dimension out of range (expected to be in range of [${-r}, ${r - 1}], but got ${axis})`,
    );
  }
  return axis < 0 ? axis + r : axis;
}

/** Normalizes a list of dims; rejects repeats. */
export function normalizeAxes(op: string, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => normalizeAxis(op, a, rank));
  if (new Set(out).size !== out.length) {
    throw new ArgumentError(`${op}: dim ${JSON.stringify(axes)} appears multiple times in the list of dims`);
  }
  return out;
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'f32';
}

import { ArgumentError } from '../errors.js';
import type { Attrs, AttrValue } from '../graph.js';
import type { NDArray } from '../ndarray.js';
import type { DType, Shape, TensorType } from '../types.js';
import { formatType } from '../types.js';

export type OpFamily =
  | 'source'
  | 'unary'
  | 'binary'
  | 'ternary'
  | 'cast'
  | 'reduce'
  | 'movement'
  | 'index'
  | 'linalg'
  | 'conv';

/**
 * One op, one definition: arity, shape rule, dtype rule and a reference evaluator.
 * The evaluator writes into `out`, which the caller allocates from the inferred type; it
 * computes in float64 and is both the simple engine and the test oracle.
 */
export interface OpDef {
  readonly name: string;
  readonly family: OpFamily;
  /** Number of inputs, or 'variadic' (at least one). */
  readonly arity: number | 'variadic';
  readonly shape: (inputs: readonly TensorType[], attrs: Attrs) => Shape;
  readonly dtype: (inputs: readonly TensorType[], attrs: Attrs) => DType;
  readonly eval: (inputs: readonly NDArray[], out: NDArray, attrs: Attrs) => void;
  /** Elementwise ops: the scalar function, shared by evaluators and code generators. */
  readonly scalar?: (...xs: number[]) => number;
}

export function defineOp<const D extends OpDef>(def: D): D {
  return def;
}

/** Reads a required integer attribute. */
export function intAttr(op: string, attrs: Attrs, key: string): number {
  const v = attrs[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new ArgumentError(`${op}: attribute '${key}' must be an integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function numAttr(op: string, attrs: Attrs, key: string): number {
  const v = attrs[key];
  if (typeof v !== 'number') {
    throw new ArgumentError(`${op}: attribute '${key}' must be a number, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Reads a required integer-list attribute. */
export function intsAttr(op: string, attrs: Attrs, key: string): number[] {
  const v: AttrValue | undefined = attrs[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isInteger(x))) {
    throw new ArgumentError(`${op}: attribute '${key}' must be a list of integers, got ${JSON.stringify(v)}`);
  }
  return v as number[];
}

export function dtypeAttr(op: string, attrs: Attrs, key: string): DType {
  const v = attrs[key];
  if (v !== 'f32' && v !== 'i32' && v !== 'bool') {
    throw new ArgumentError(`${op}: attribute '${key}' must be a dtype (f32, i32, bool), got ${JSON.stringify(v)}`);
  }
  return v;
}

export function describe(types: readonly TensorType[]): string {
  return types.map(formatType).join(', ');
}

export const sameAsFirst = (inputs: readonly TensorType[]): DType => inputs[0]!.dtype;
export const shapeOfFirst = (inputs: readonly TensorType[]): Shape => inputs[0]!.shape;

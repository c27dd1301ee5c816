import { DTypeError, ShapeError } from '../errors.js';
import type { Attrs } from '../graph.js';
import { broadcastIndex, type NDArray } from '../ndarray.js';
import type { DType, TensorType } from '../types.js';
import { broadcastShapes, formatType, numel } from '../types.js';
import { defineOp, dtypeAttr, shapeOfFirst } from './define.js';

// ---- scalar math shared by the reference and the code generators ----

const SQRT_PI_2 = 2 / Math.sqrt(Math.PI);

/**
 * erf with ~1e-7 absolute error: Taylor series near 0, a Chebyshev-fitted erfc elsewhere.
 * NOTE: its source is pasted into exported ES modules (export/esm-runtime.ts): it may read
 * only SQRT_PI_2 and globals.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const z = Math.abs(x);
  if (z < 0.5) {
    // sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 12; n++) {
      term *= -x2 / n;
      sum += term / (2 * n + 1);
    }
    return SQRT_PI_2 * sum;
  }
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z - 1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(poly);
  return x >= 0 ? 1 - erfc : erfc - 1;
}

export function sigmoid(x: number): number {
  // NOTE: split by sign so exp never overflows into inf/inf.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

// ---- evaluators ----

function evalMap(inputs: readonly NDArray[], out: NDArray, fn: (...xs: number[]) => number): void {
  const n = numel(out.shape);
  const o = out.data;
  if (inputs.length === 1) {
    const a = inputs[0]!.data;
    const ia = broadcastIndex(inputs[0]!.shape, out.shape);
    for (let i = 0; i < n; i++) o[i] = fn(a[ia ? ia[i]! : i]!);
    return;
  }
  if (inputs.length === 2) {
    const [x, y] = inputs as [NDArray, NDArray];
    const ia = broadcastIndex(x.shape, out.shape);
    const ib = broadcastIndex(y.shape, out.shape);
    const a = x.data;
    const b = y.data;
    for (let i = 0; i < n; i++) o[i] = fn(a[ia ? ia[i]! : i]!, b[ib ? ib[i]! : i]!);
    return;
  }
  const idx = inputs.map((x) => broadcastIndex(x.shape, out.shape));
  const args = new Array<number>(inputs.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < inputs.length; k++) {
      const ik = idx[k];
      args[k] = inputs[k]!.data[ik ? ik[i]! : i]!;
    }
    o[i] = fn(...args);
  }
}

function requireFloat(op: string, inputs: readonly TensorType[]): DType {
  for (const t of inputs) {
    if (t.dtype !== 'f32') {
      throw new DTypeError(`${op}: expected a floating-point tensor, got ${formatType(t)}`);
    }
  }
  return 'f32';
}

function requireSame(op: string, inputs: readonly TensorType[]): DType {
  const d = inputs[0]!.dtype;
  for (const t of inputs) {
    if (t.dtype !== d) {
      throw new DTypeError(`${op}: operands must have one dtype, got ${inputs.map(formatType).join(' vs ')}`);
    }
  }
  return d;
}

function unary(name: string, scalar: (x: number) => number, floatOnly = true) {
  return defineOp({
    name,
    family: 'unary',
    arity: 1,
    shape: shapeOfFirst,
    dtype: (inputs: readonly TensorType[]) => (floatOnly ? requireFloat(name, inputs) : inputs[0]!.dtype),
    eval: (inputs: readonly NDArray[], out: NDArray) => evalMap(inputs, out, scalar),
    scalar,
  });
}

function binary(name: string, scalar: (a: number, b: number) => number, result: 'same' | 'bool') {
  return defineOp({
    name,
    family: 'binary',
    arity: 2,
    shape: (inputs: readonly TensorType[]) => broadcastTypes(name, inputs),
    dtype: (inputs: readonly TensorType[]): DType => {
      const d = requireSame(name, inputs);
      return result === 'bool' ? 'bool' : d;
    },
    eval: (inputs: readonly NDArray[], out: NDArray) => evalMap(inputs, out, scalar),
    scalar,
  });
}

const b2n = (b: boolean): number => (b ? 1 : 0);

/** Broadcasts operand shapes; the error shows the operands' full types. */
function broadcastTypes(op: string, inputs: readonly TensorType[]): number[] {
  // The common eager cases first: a 0-d operand (a lifted number), or equal shapes.
  if (inputs.length === 2) {
    const a = inputs[0]!.shape;
    const b = inputs[1]!.shape;
    if (b.length === 0 || a === b) return [...a];
    if (a.length === 0) return [...b];
  }
  try {
    return broadcastShapes(op, ...inputs.map((t) => t.shape));
  } catch (e) {
    const why = e instanceof Error ? / \(dim .*\)$/.exec(e.message)?.[0] ?? '' : '';
    throw new ShapeError(`${op}: shapes do not broadcast: ${inputs.map(formatType).join(' vs ')}${why}`);
  }
}

export const elementwiseOps = {
  neg: unary('neg', (x) => -x, false),
  abs: unary('abs', (x) => Math.abs(x), false),
  sign: unary('sign', (x) => Math.sign(x), false),
  exp: unary('exp', (x) => Math.exp(x)),
  log: unary('log', (x) => Math.log(x)),
  log1p: unary('log1p', (x) => Math.log1p(x)),
  expm1: unary('expm1', (x) => Math.expm1(x)),
  sqrt: unary('sqrt', (x) => Math.sqrt(x)),
  rsqrt: unary('rsqrt', (x) => 1 / Math.sqrt(x)),
  reciprocal: unary('reciprocal', (x) => 1 / x),
  sin: unary('sin', (x) => Math.sin(x)),
  cos: unary('cos', (x) => Math.cos(x)),
  tanh: unary('tanh', (x) => Math.tanh(x)),
  sigmoid: unary('sigmoid', sigmoid),
  erf: unary('erf', erf),
  floor: unary('floor', (x) => Math.floor(x)),
  logical_not: defineOp({
    name: 'logical_not',
    family: 'unary',
    arity: 1,
    shape: shapeOfFirst,
    dtype: (inputs: readonly TensorType[]): DType => {
      if (inputs[0]!.dtype !== 'bool') throw new DTypeError(`logical_not: expected a bool tensor, got ${formatType(inputs[0]!)}`);
      return 'bool';
    },
    eval: (inputs: readonly NDArray[], out: NDArray) => evalMap(inputs, out, (x) => b2n(!x)),
    scalar: (x: number) => b2n(!x),
  }),

  add: binary('add', (a, b) => a + b, 'same'),
  sub: binary('sub', (a, b) => a - b, 'same'),
  mul: binary('mul', (a, b) => a * b, 'same'),
  div: binary('div', (a, b) => a / b, 'same'),
  pow: binary('pow', (a, b) => Math.pow(a, b), 'same'),
  maximum: binary('maximum', (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)), 'same'),
  minimum: binary('minimum', (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)), 'same'),
  eq: binary('eq', (a, b) => b2n(a === b), 'bool'),
  ne: binary('ne', (a, b) => b2n(a !== b), 'bool'),
  lt: binary('lt', (a, b) => b2n(a < b), 'bool'),
  le: binary('le', (a, b) => b2n(a <= b), 'bool'),
  gt: binary('gt', (a, b) => b2n(a > b), 'bool'),
  ge: binary('ge', (a, b) => b2n(a >= b), 'bool'),
  logical_and: binary('logical_and', (a, b) => b2n(a !== 0 && b !== 0), 'bool'),
  logical_or: binary('logical_or', (a, b) => b2n(a !== 0 || b !== 0), 'bool'),

  /** where(cond, a, b): cond is bool, a and b one dtype, all three broadcast. */
  where: defineOp({
    name: 'where',
    family: 'ternary',
    arity: 3,
    shape: (inputs: readonly TensorType[]) => broadcastTypes('where', inputs),
    dtype: (inputs: readonly TensorType[]): DType => {
      if (inputs[0]!.dtype !== 'bool') {
        throw new DTypeError(`where: condition must be bool, got ${formatType(inputs[0]!)}`);
      }
      return requireSame('where', inputs.slice(1));
    },
    eval: (inputs: readonly NDArray[], out: NDArray) => evalMap(inputs, out, (c, a, b) => (c ? a : b)),
    scalar: (c: number, a: number, b: number) => (c ? a : b),
  }),

  /** Converts dtype; float → int truncates toward zero like PyTorch. */
  cast: defineOp({
    name: 'cast',
    family: 'cast',
    arity: 1,
    shape: shapeOfFirst,
    dtype: (_inputs: readonly TensorType[], attrs: Attrs) => dtypeAttr('cast', attrs, 'dtype'),
    eval: (inputs: readonly NDArray[], out: NDArray) => {
      const conv =
        out.dtype === 'bool' ? (x: number) => b2n(x !== 0) : out.dtype === 'i32' ? (x: number) => Math.trunc(x) : (x: number) => x;
      evalMap(inputs, out, conv);
    },
  }),
};

import { ArgumentError, DTypeError } from '../ir/errors.js';
import type { Storage } from '../ir/ndarray.js';
import { allocStorage } from '../ir/ndarray.js';
import type { DType, Shape } from '../ir/types.js';
import { numel } from '../ir/types.js';
import { LazyBuffer } from './lazy.js';
import { defaultGenerator, type Generator } from './random.js';
import { Tensor, type NestedArray } from './tensor.js';

export interface TensorOptions {
  /** Element type; numbers default to f32 (JS has no integer literals), booleans to bool. */
  dtype?: DType;
  requiresGrad?: boolean;
}

export interface RandomOptions extends TensorOptions {
  generator?: Generator;
}

/** A leaf tensor over `data` (taken as is, not copied). */
export function fromStorage(data: Storage, shape: Shape, opts: TensorOptions = {}): Tensor {
  const dtype = opts.dtype ?? (data instanceof Int32Array ? 'i32' : data instanceof Uint8Array ? 'bool' : 'f32');
  if (data.length !== numel(shape)) {
    throw new ArgumentError(`tensor: ${data.length} values do not fill shape [${shape.join(',')}]`);
  }
  const storage = allocStorage({ dtype, shape }, 'f32');
  storage.set(data);
  const t = new Tensor(LazyBuffer.fromData({ dtype, shape: [...shape] }, storage));
  if (opts.requiresGrad) t.requiresGrad_(true);
  return t;
}

function inferShape(data: NestedArray | readonly NestedArray[]): number[] {
  const shape: number[] = [];
  let cur: unknown = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  return shape;
}

function flatten(data: NestedArray, shape: number[], dim: number, out: number[]): void {
  if (dim === shape.length) {
    if (Array.isArray(data)) throw new ArgumentError(`tensor: ragged nested array (expected a number at depth ${dim})`);
    if (typeof data !== 'number' && typeof data !== 'boolean') {
      throw new ArgumentError(`tensor: expected numbers or booleans, got ${typeof data}`);
    }
    out.push(typeof data === 'boolean' ? Number(data) : data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new ArgumentError(`tensor: ragged nested array: expected length ${shape[dim]} at depth ${dim}`);
  }
  for (const x of data) flatten(x, shape, dim + 1, out);
}

/**
 * A leaf tensor from nested arrays or a typed array.
 *
 * ```ts
 * const w = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const idx = tensor([0, 2, 1], { dtype: 'i32' });
 * ```
 */
export function tensor(data: NestedArray | Storage, opts: TensorOptions = {}): Tensor {
  if (ArrayBuffer.isView(data)) return fromStorage(data, [data.length], opts);
  const shape = inferShape(data);
  const flat: number[] = [];
  flatten(data, shape, 0, flat);
  let first: unknown = data;
  while (Array.isArray(first)) first = first[0];
  const dtype = opts.dtype ?? (typeof first === 'boolean' ? 'bool' : 'f32');
  return fromStorage(allocFilled(dtype, shape, flat), shape, { ...opts, dtype });
}

function allocFilled(dtype: DType, shape: Shape, values: ArrayLike<number>): Storage {
  const s = allocStorage({ dtype, shape }, 'f32');
  s.set(values);
  return s;
}

export function full(shape: Shape, value: number, opts: TensorOptions = {}): Tensor {
  const dtype = opts.dtype ?? 'f32';
  const s = allocStorage({ dtype, shape }, 'f32');
  s.fill(value);
  return fromStorage(s, shape, { ...opts, dtype });
}
export function zeros(shape: Shape, opts: TensorOptions = {}): Tensor {
  return full(shape, 0, opts);
}
export function ones(shape: Shape, opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** `arange(end)` or `arange(start, end, step = 1)`; f32 unless `dtype` says otherwise. */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0) throw new ArgumentError('arange: step must be nonzero');
  const n = Math.max(0, Math.ceil((end - start) / step));
  return fromStorage(allocFilled(opts.dtype ?? 'f32', [n], Array.from({ length: n }, (_, i) => start + i * step)), [n], opts);
}

export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new ArgumentError(`linspace: number of steps must be non-negative, got ${steps}`);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  // NOTE: PyTorch fills the second half from the end so the last value is exactly `end`.
  const vals = Array.from({ length: steps }, (_, i) => (i < steps / 2 ? start + i * step : end - (steps - 1 - i) * step));
  return fromStorage(allocFilled(opts.dtype ?? 'f32', [steps], vals), [steps], opts);
}

export function eye(n: number, m = n, opts: TensorOptions = {}): Tensor {
  const s = allocStorage({ dtype: opts.dtype ?? 'f32', shape: [n, m] }, 'f32');
  for (let i = 0; i < Math.min(n, m); i++) s[i * m + i] = 1;
  return fromStorage(s, [n, m], opts);
}

function random(shape: Shape, opts: RandomOptions, sample: (g: Generator) => number, op: string): Tensor {
  if (opts.dtype && opts.dtype !== 'f32') throw new DTypeError(`${op}: only f32 is supported, got ${opts.dtype}`);
  const g = opts.generator ?? defaultGenerator;
  const s = new Float32Array(numel(shape));
  for (let i = 0; i < s.length; i++) s[i] = sample(g);
  return fromStorage(s, shape, opts);
}

/** Uniform samples in [0, 1) from the default (or given) generator. */
export function rand(shape: Shape, opts: RandomOptions = {}): Tensor {
  return random(shape, opts, (g) => g.random(), 'rand');
}
/** Standard normal samples. */
export function randn(shape: Shape, opts: RandomOptions = {}): Tensor {
  return random(shape, opts, (g) => g.normal(), 'randn');
}

const like = (t: Tensor, opts: TensorOptions): TensorOptions => ({ dtype: t.dtype, ...opts });
export const zerosLike = (t: Tensor, opts: TensorOptions = {}): Tensor => zeros(t.shape, like(t, opts));
export const onesLike = (t: Tensor, opts: TensorOptions = {}): Tensor => ones(t.shape, like(t, opts));
export const fullLike = (t: Tensor, value: number, opts: TensorOptions = {}): Tensor => full(t.shape, value, like(t, opts));
export const randLike = (t: Tensor, opts: RandomOptions = {}): Tensor => rand(t.shape, opts);
export const randnLike = (t: Tensor, opts: RandomOptions = {}): Tensor => randn(t.shape, opts);

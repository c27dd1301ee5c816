import type { Emitter } from '../emitter.js';
import { ArgumentError, ShapeError } from '../errors.js';
import type { Attrs } from '../graph.js';
import type { OpName } from '../ops/index.js';
import type { DType, Shape, TensorType } from '../types.js';
import { broadcastShapes, formatShape, formatType, normalizeAxes, numel, shapesEqual } from '../types.js';

/** A tensor operand or a Python-style number (it takes the other operand's dtype). */
export type Operand<T> = T | number;

const RANK: Record<DType, number> = { bool: 0, i32: 1, f32: 2 };

/** The wider of two dtypes (bool < i32 < f32), PyTorch's type promotion for kiln's dtypes. */
export function promoteDtypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * Typed wrappers over the primitives, plus number lifting and dtype promotion. The layers
 * above (shape, math, nn) build the op vocabulary from these alone.
 * NOTE: methods are arrow-function fields so they can be destructured into free functions.
 */
export class PrimOps<T> {
  constructor(readonly e: Emitter<T>) {}

  readonly type = (x: T): TensorType => this.e.typeOf(x);
  readonly shape = (x: T): Shape => this.e.typeOf(x).shape;
  readonly dtype = (x: T): DType => this.e.typeOf(x).dtype;
  readonly rank = (x: T): number => this.e.typeOf(x).shape.length;
  readonly numel = (x: T): number => numel(this.e.typeOf(x).shape);

  readonly emit = (op: OpName, inputs: readonly T[], attrs: Attrs = {}): T => this.e.emit(op, inputs, attrs);

  /** Runs a composite under its name (eager gradFn names, provenance). */
  protected named<R extends T>(name: string, body: () => R): R {
    return this.e.scope ? this.e.scope(name, body) : body();
  }

  // ---- sources ----

  readonly full = (shape: Shape, value: number, dtype: DType = 'f32'): T =>
    this.emit('const', [], { dtype, shape: [...shape], value });
  readonly scalar = (value: number, dtype: DType = 'f32'): T => this.full([], value, dtype);
  readonly zerosLike = (x: T): T => this.full(this.shape(x), 0, this.dtype(x));
  readonly onesLike = (x: T): T => this.full(this.shape(x), 1, this.dtype(x));
  readonly iota = (shape: Shape, axis: number, dtype: DType = 'i32'): T =>
    this.emit('iota', [], { dtype, shape: [...shape], axis });

  // ---- dtype handling ----

  readonly cast = (x: T, dtype: DType): T => (this.dtype(x) === dtype ? x : this.emit('cast', [x], { dtype }));
  /** Math functions promote integer and bool inputs to f32, as PyTorch does. */
  readonly toFloat = (x: T): T => this.cast(x, 'f32');

  /** Turns a number into a 0-d constant matching `like` (a non-integer number makes it f32). */
  readonly lift = (x: Operand<T>, like: DType): T => {
    if (typeof x !== 'number') return x;
    const dtype = like !== 'f32' && !Number.isInteger(x) ? 'f32' : like;
    return this.scalar(x, dtype);
  };

  /** Lifts numbers and promotes both operands to one dtype. */
  protected operands(op: string, a: Operand<T>, b: Operand<T>): [T, T] {
    if (typeof a === 'number' && typeof b === 'number') {
      throw new ArgumentError(`${op}: at least one operand must be a tensor, got two numbers (${a}, ${b})`);
    }
    const da = typeof a === 'number' ? null : this.dtype(a);
    const db = typeof b === 'number' ? null : this.dtype(b);
    const base = da ?? db!;
    let x = this.lift(a, db ?? base);
    let y = this.lift(b, da ?? base);
    const d = promoteDtypes(this.dtype(x), this.dtype(y));
    x = this.cast(x, d);
    y = this.cast(y, d);
    return [x, y];
  }

  protected binary(op: OpName, a: Operand<T>, b: Operand<T>): T {
    const [x, y] = this.operands(op, a, b);
    return this.emit(op, [x, y]);
  }

  protected arith(op: OpName, a: Operand<T>, b: Operand<T>): T {
    const [x, y] = this.operands(op, a, b);
    // bool arithmetic is integer arithmetic in PyTorch
    if (this.dtype(x) === 'bool') return this.emit(op, [this.cast(x, 'i32'), this.cast(y, 'i32')]);
    return this.emit(op, [x, y]);
  }

  protected floatUnary(op: OpName, x: T): T {
    return this.emit(op, [this.toFloat(x)]);
  }

  // ---- movement primitives ----

  /** Reshapes to `shape`; one entry may be -1 (inferred), as in PyTorch. */
  readonly reshape = (x: T, shape: Shape): T => {
    const target = inferReshape(this.type(x), shape);
    return shapesEqual(this.shape(x), target) ? x : this.emit('reshape', [x], { shape: target });
  };

  readonly permute = (x: T, perm: readonly number[]): T => {
    const p = normalizeAxes('permute', perm, this.rank(x));
    return p.every((v, i) => v === i) && p.length === this.rank(x) ? x : this.emit('permute', [x], { perm: p });
  };

  /** Broadcasts `x` to `shape` (explicitly; binary ops broadcast implicitly). */
  readonly expandTo = (x: T, shape: Shape): T =>
    shapesEqual(this.shape(x), shape) ? x : this.emit('expand', [x], { shape: [...shape] });

  /** The primitive strided slice: canonical starts/ends/steps for every dim. */
  readonly slicePrim = (x: T, starts: readonly number[], ends: readonly number[], steps: readonly number[]): T => {
    const s = this.shape(x);
    if (s.every((d, i) => starts[i] === 0 && ends[i] === d && steps[i] === 1)) return x;
    return this.emit('slice', [x], { starts: [...starts], ends: [...ends], steps: [...steps] });
  };

  readonly unslice = (x: T, shape: Shape, starts: readonly number[], ends: readonly number[], steps: readonly number[]): T =>
    this.emit('unslice', [x], { shape: [...shape], starts: [...starts], ends: [...ends], steps: [...steps] });

  /** Non-negative constant padding, [before0, after0, before1, after1, ...] in dim order. */
  readonly padPrim = (x: T, pads: readonly number[], value = 0): T =>
    pads.every((p) => p === 0) ? x : this.emit('pad', [x], { pads: [...pads], value });

  readonly flip = (x: T, dims: readonly number[]): T =>
    this.emit('flip', [x], { axes: normalizeAxes('flip', dims, this.rank(x)) });

  readonly concat = (xs: readonly T[], axis: number): T => {
    if (xs.length === 0) throw new ArgumentError('cat: expected a non-empty list of tensors');
    const d = xs.map(this.dtype).reduce(promoteDtypes);
    return xs.length === 1 ? xs[0]! : this.emit('concat', xs.map((x) => this.cast(x, d)), { axis });
  };

  // ---- reductions (keepdim) ----

  readonly sumKeep = (x: T, axes: readonly number[]): T =>
    axes.length === 0 ? x : this.emit('sum', [x], { axes: [...axes] });
  readonly maxKeep = (x: T, axes: readonly number[]): T => this.emit('max', [x], { axes: [...axes] });
  readonly minKeep = (x: T, axes: readonly number[]): T => this.emit('min', [x], { axes: [...axes] });
  readonly prodKeep = (x: T, axes: readonly number[]): T => this.emit('prod', [x], { axes: [...axes] });

  /** Sums `g` down to `shape`: the adjoint of broadcasting, used by every VJP. */
  readonly unbroadcast = (g: T, shape: Shape): T => {
    const gs = this.shape(g);
    if (shapesEqual(gs, shape)) return g;
    broadcastShapes('unbroadcast', shape, gs);
    const lead = gs.length - shape.length;
    const axes: number[] = [];
    for (let i = 0; i < gs.length; i++) {
      if (i < lead || (shape[i - lead] === 1 && gs[i] !== 1)) axes.push(i);
    }
    const summed = this.sumKeep(g, axes);
    return this.reshape(summed, shape);
  };

  // ---- the rest ----

  readonly matmulPrim = (a: T, b: T): T => this.emit('matmul', [a, b]);

  readonly where = (cond: T, a: Operand<T>, b: Operand<T>): T => {
    const [x, y] = this.operands('where', a, b);
    return this.emit('where', [cond, x, y]);
  };
}

/** Resolves a -1 in a reshape target; errors name `reshape` and show both sides. */
export function inferReshape(x: TensorType, shape: Shape): number[] {
  const inferred = shape.filter((d) => d === -1).length;
  if (inferred > 1) throw new ArgumentError(`reshape: only one dimension can be inferred, got shape ${formatShape(shape)}`);
  if (shape.some((d) => !Number.isInteger(d) || d < -1)) {
    throw new ArgumentError(`reshape: invalid shape dimension in ${formatShape(shape)}`);
  }
  const n = numel(x.shape);
  const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
  const out = shape.map((d) => (d === -1 ? (known === 0 ? 0 : n / known) : d));
  if (numel(out) !== n || out.some((d) => !Number.isInteger(d))) {
    throw new ShapeError(`reshape: shape ${formatShape(shape)} is invalid for input ${formatType(x)} of size ${n}`);
  }
  return out;
}

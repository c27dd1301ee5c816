import { ArgumentError, DTypeError } from '../errors.js';
import { formatType } from '../types.js';
import type { Operand } from './prim.js';
import { dimOf, dimsOf, ShapeOps } from './shape.js';

/** `dim` of a reduction: one dim, a list, or null/undefined (every dim). */
export type Dims = number | readonly number[] | null | undefined;

/** `torch.norm`'s `p`: a number (inf allowed) or 'fro' (= 2). */
export type NormOrder = number | 'fro';

/** Options of `var` and `std`. */
export interface VarOptions {
  /** Bessel-style correction subtracted from the element count (1: unbiased). */
  correction?: number;
  keepdim?: boolean;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * Elementwise math, comparisons and reductions with PyTorch's dtype promotion, defaults and
 * numerically stable forms.
 * NOTE: methods are arrow-function fields so they can be destructured into free functions.
 */
export class MathOps<T> extends ShapeOps<T> {
  // ---- unary ----

  readonly neg = (x: T): T => {
    if (this.dtype(x) === 'bool') throw new DTypeError(`neg: negation of a bool tensor is not supported, got ${formatType(this.type(x))}`);
    return this.emit('neg', [x]);
  };
  readonly abs = (x: T): T => this.emit('abs', [x]);
  readonly sign = (x: T): T => this.emit('sign', [x]);
  readonly exp = (x: T): T => this.floatUnary('exp', x);
  readonly log = (x: T): T => this.floatUnary('log', x);
  readonly log1p = (x: T): T => this.floatUnary('log1p', x);
  readonly expm1 = (x: T): T => this.floatUnary('expm1', x);
  readonly sqrt = (x: T): T => this.floatUnary('sqrt', x);
  readonly rsqrt = (x: T): T => this.floatUnary('rsqrt', x);
  readonly reciprocal = (x: T): T => this.floatUnary('reciprocal', x);
  readonly sin = (x: T): T => this.floatUnary('sin', x);
  readonly cos = (x: T): T => this.floatUnary('cos', x);
  readonly tanh = (x: T): T => this.floatUnary('tanh', x);
  readonly sigmoid = (x: T): T => this.floatUnary('sigmoid', x);
  readonly erf = (x: T): T => this.floatUnary('erf', x);
  /** `torch.floor`: integers are already whole, so they come back unchanged. */
  readonly floor = (x: T): T => (this.dtype(x) === 'f32' ? this.emit('floor', [x]) : x);

  readonly square = (x: T): T => this.named('square', () => this.arith('mul', x, x));

  /** `torch.relu`: `x > 0 ? x : 0` (gradient 0 at 0, as PyTorch). */
  readonly relu = (x: T): T => this.named('relu', () => this.where(this.gt(x, 0), x, 0));

  readonly silu = (x: T): T =>
    this.named('silu', () => {
      const xf = this.toFloat(x);
      return this.mul(xf, this.sigmoid(xf));
    });

  /** `F.gelu`: exact (erf) or the tanh approximation. */
  readonly gelu = (x: T, options: { approximate?: 'none' | 'tanh' } = {}): T => {
    const approximate = options.approximate ?? 'none';
    if (approximate !== 'none' && approximate !== 'tanh') {
      throw new ArgumentError(`gelu: approximate must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`);
    }
    return this.named('gelu', () => {
      const xf = this.toFloat(x);
      const inner =
        approximate === 'none'
          ? this.erf(this.mul(xf, Math.SQRT1_2))
          : this.tanh(this.mul(this.add(xf, this.mul(this.mul(this.mul(xf, xf), xf), 0.044715)), SQRT_2_OVER_PI));
      return this.mul(this.mul(xf, 0.5), this.add(inner, 1));
    });
  };

  /**
   * `F.softplus`: `log1p(exp(beta*x)) / beta`, and `x` where `beta*x > threshold`.
   * NOTE: the soft branch sees min(beta*x, threshold) so neither it nor its gradient overflows.
   */
  readonly softplus = (x: T, beta = 1, threshold = 20): T =>
    this.named('softplus', () => {
      const xf = this.toFloat(x);
      const bx = beta === 1 ? xf : this.mul(xf, beta);
      const soft = this.log1p(this.exp(this.minimum(bx, threshold)));
      return this.where(this.gt(bx, threshold), xf, beta === 1 ? soft : this.div(soft, beta));
    });

  /** `F.elu`: `x > 0 ? x : alpha * (exp(x) - 1)`. */
  readonly elu = (x: T, alpha = 1): T =>
    this.named('elu', () => {
      const xf = this.toFloat(x);
      const neg = this.expm1(this.minimum(xf, 0)); // NOTE: clipped so the masked branch stays finite
      return this.where(this.gt(xf, 0), xf, alpha === 1 ? neg : this.mul(neg, alpha));
    });

  /** `F.leaky_relu`: `x > 0 ? x : negativeSlope * x`. */
  readonly leakyRelu = (x: T, negativeSlope = 0.01): T =>
    this.named('leaky_relu', () => {
      const xf = this.toFloat(x);
      return this.where(this.gt(xf, 0), xf, this.mul(xf, negativeSlope));
    });

  /** `torch.clamp`: `min(max(x, min), max)`; at least one bound must be given. */
  readonly clamp = (x: T, min?: Operand<T> | null, max?: Operand<T> | null): T => {
    const lo = min ?? null;
    const hi = max ?? null;
    if (lo === null && hi === null) throw new ArgumentError("clamp: at least one of 'min' or 'max' must not be None");
    return this.named('clamp', () => {
      const low = lo === null ? x : this.binary('maximum', x, lo);
      return hi === null ? low : this.binary('minimum', low, hi);
    });
  };

  // ---- binary arithmetic (numbers take the tensor's dtype; dtypes promote) ----

  readonly add = (a: Operand<T>, b: Operand<T>): T => this.arith('add', a, b);
  readonly sub = (a: Operand<T>, b: Operand<T>): T => this.arith('sub', a, b);
  readonly mul = (a: Operand<T>, b: Operand<T>): T => this.arith('mul', a, b);

  /** `torch.div`: true division (integers give f32), or `roundingMode` 'trunc' / 'floor'. */
  readonly div = (a: Operand<T>, b: Operand<T>, options: { roundingMode?: 'trunc' | 'floor' | null } = {}): T => {
    const mode = options.roundingMode ?? null;
    if (mode !== null && mode !== 'trunc' && mode !== 'floor') {
      throw new ArgumentError(`div: rounding_mode must be null, 'trunc' or 'floor', got ${JSON.stringify(mode)}`);
    }
    const [x, y] = this.operands('div', a, b);
    const d = this.dtype(x);
    if (mode === null) return this.emit('div', [this.toFloat(x), this.toFloat(y)]);
    return this.named('div', () => {
      const q = this.emit('div', [this.toFloat(x), this.toFloat(y)]);
      const r = mode === 'floor' ? this.emit('floor', [q]) : this.mul(this.sign(q), this.emit('floor', [this.abs(q)]));
      return this.cast(r, d === 'bool' ? 'i32' : d);
    });
  };

  readonly pow = (a: Operand<T>, b: Operand<T>): T => this.arith('pow', a, b);

  /** `torch.maximum`; a number acts as a 0-d tensor of the other operand's dtype. */
  readonly maximum = (a: Operand<T>, b: Operand<T>): T => this.extremum('maximum', a, b);
  readonly minimum = (a: Operand<T>, b: Operand<T>): T => this.extremum('minimum', a, b);

  protected extremum(op: 'maximum' | 'minimum', a: Operand<T>, b: Operand<T>): T {
    if (typeof a === 'number' && typeof b !== 'number') a = this.scalar(a, this.dtype(b));
    if (typeof b === 'number' && typeof a !== 'number') b = this.scalar(b, this.dtype(a));
    return this.binary(op, a, b);
  }

  // ---- comparisons and logic (→ bool) ----

  readonly eq = (a: Operand<T>, b: Operand<T>): T => this.binary('eq', a, b);
  readonly ne = (a: Operand<T>, b: Operand<T>): T => this.binary('ne', a, b);
  readonly lt = (a: Operand<T>, b: Operand<T>): T => this.binary('lt', a, b);
  readonly le = (a: Operand<T>, b: Operand<T>): T => this.binary('le', a, b);
  readonly gt = (a: Operand<T>, b: Operand<T>): T => this.binary('gt', a, b);
  readonly ge = (a: Operand<T>, b: Operand<T>): T => this.binary('ge', a, b);

  readonly logicalNot = (x: T): T => this.emit('logical_not', [this.toBool(x)]);
  readonly logicalAnd = (a: T, b: T): T => this.emit('logical_and', [this.toBool(a), this.toBool(b)]);
  readonly logicalOr = (a: T, b: T): T => this.emit('logical_or', [this.toBool(a), this.toBool(b)]);

  /** Nonzero → true (PyTorch's truthiness for the logical ops). */
  protected toBool(x: T): T {
    return this.dtype(x) === 'bool' ? x : this.ne(x, 0);
  }

  // ---- reductions ----

  /** The dims a reduction covers, normalized; a 0-d tensor has none (dim 0/-1 still allowed). */
  protected reduceAxes(op: string, x: T, dim: Dims): number[] {
    const t = this.type(x);
    const dims = dim === null || dim === undefined ? [] : typeof dim === 'number' ? [dim] : dim;
    const axes = dimsOf(op, t, dims);
    if (t.shape.length === 0) return [];
    return dims.length === 0 ? t.shape.map((_, i) => i) : axes;
  }

  /** Drops the kept size-1 `axes` of a primitive reduction unless `keepdim`. */
  protected finish(r: T, axes: readonly number[], keepdim: boolean): T {
    if (keepdim || axes.length === 0) return r;
    return this.reshape(r, this.shape(r).filter((_, i) => !axes.includes(i)));
  }

  /** Number of elements a reduction over `axes` combines. */
  protected countOf(x: T, axes: readonly number[]): number {
    const s = this.shape(x);
    return axes.reduce((n, a) => n * s[a]!, 1);
  }

  protected requireFloat(op: string, x: T): void {
    if (this.dtype(x) !== 'f32') {
      throw new DTypeError(`${op}: expected a floating-point input, got ${formatType(this.type(x))}`);
    }
  }

  /** `torch.sum`; bool and integer inputs sum as i32 (PyTorch's int64). */
  readonly sum = (x: T, dim?: Dims, keepdim = false): T => {
    const axes = this.reduceAxes('sum', x, dim);
    return this.named('sum', () => this.finish(this.sumKeep(this.nonBool(x), axes), axes, keepdim));
  };

  /** `torch.mean` (floating-point inputs only, as PyTorch). */
  readonly mean = (x: T, dim?: Dims, keepdim = false): T => {
    this.requireFloat('mean', x);
    const axes = this.reduceAxes('mean', x, dim);
    return this.named('mean', () => {
      const n = this.countOf(x, axes);
      const s = this.sumKeep(x, axes);
      return this.finish(n === 1 ? s : this.div(s, n), axes, keepdim);
    });
  };

  readonly amax = (x: T, dim?: Dims, keepdim = false): T => this.extreme('amax', 'max', x, this.reduceAxes('amax', x, dim), keepdim);
  readonly amin = (x: T, dim?: Dims, keepdim = false): T => this.extreme('amin', 'min', x, this.reduceAxes('amin', x, dim), keepdim);

  /** `torch.max(x)` / `torch.max(x, dim, keepdim).values`. */
  readonly max = (x: T, dim?: number | null, keepdim = false): T => this.extreme('max', 'max', x, this.reduceAxes('max', x, dim), keepdim);
  readonly min = (x: T, dim?: number | null, keepdim = false): T => this.extreme('min', 'min', x, this.reduceAxes('min', x, dim), keepdim);

  protected extreme(name: string, op: 'max' | 'min', x: T, axes: number[], keepdim: boolean): T {
    if (axes.length === 0) return x;
    return this.named(name, () => {
      const isBool = this.dtype(x) === 'bool';
      const r = this.emit(op, [isBool ? this.cast(x, 'i32') : x], { axes });
      return this.finish(isBool ? this.cast(r, 'bool') : r, axes, keepdim);
    });
  }

  /** `torch.prod` over one dim, or over all when `dim` is null. */
  readonly prod = (x: T, dim?: number | null, keepdim = false): T => {
    const axes = this.reduceAxes('prod', x, dim);
    return this.named('prod', () => (axes.length === 0 ? this.nonBool(x) : this.finish(this.prodKeep(this.nonBool(x), axes), axes, keepdim)));
  };

  /** `torch.logsumexp`, stabilized by the max (infinite maxima pass through unshifted). */
  readonly logsumexp = (x: T, dim?: Dims, keepdim = false): T => {
    const axes = this.reduceAxes('logsumexp', x, dim);
    return this.named('logsumexp', () => {
      const xf = this.toFloat(x);
      if (axes.length === 0) return xf;
      const m = this.maxKeep(xf, axes);
      const shift = this.where(this.lt(this.abs(m), Infinity), m, 0);
      const r = this.add(this.log(this.sumKeep(this.exp(this.sub(xf, shift)), axes)), shift);
      return this.finish(r, axes, keepdim);
    });
  };

  /** `torch.var`: `sum((x - mean)^2) / max(0, N - correction)`. */
  readonly var = (x: T, dim?: Dims, options: VarOptions = {}): T => {
    this.requireFloat('var', x);
    const axes = this.reduceAxes('var', x, dim);
    return this.named('var', () => this.variance(x, axes, options));
  };

  /** `torch.std`: the square root of `var`. */
  readonly std = (x: T, dim?: Dims, options: VarOptions = {}): T => {
    this.requireFloat('std', x);
    const axes = this.reduceAxes('std', x, dim);
    return this.named('std', () => this.sqrt(this.variance(x, axes, options)));
  };

  protected variance(x: T, axes: number[], { correction = 1, keepdim = false }: VarOptions): T {
    const n = this.countOf(x, axes);
    const mu = this.div(this.sumKeep(x, axes), n);
    const d = this.sub(x, mu);
    const ss = this.sumKeep(this.mul(d, d), axes);
    return this.finish(this.div(ss, Math.max(0, n - correction)), axes, keepdim);
  }

  /** `torch.argmax`: i32 indices; with no dim, the index into the flattened tensor. */
  readonly argmax = (x: T, dim?: number | null, keepdim = false): T => this.argExtreme('argmax', x, dim, keepdim);
  readonly argmin = (x: T, dim?: number | null, keepdim = false): T => this.argExtreme('argmin', x, dim, keepdim);

  protected argExtreme(op: 'argmax' | 'argmin', x: T, dim: number | null | undefined, keepdim: boolean): T {
    const t = this.type(x);
    if (t.dtype === 'bool') throw new DTypeError(`${op}: not implemented for bool tensors, got ${formatType(t)}`);
    if (dim === null || dim === undefined) {
      return this.named(op, () => {
        const r = this.emit(op, [this.reshape(x, [-1])], { axis: 0 });
        return this.reshape(r, keepdim ? t.shape.map(() => 1) : []);
      });
    }
    const axis = dimOf(op, t, dim);
    if (t.shape.length === 0) return this.named(op, () => this.full([], 0, 'i32'));
    return this.named(op, () => this.finish(this.emit(op, [x], { axis }), [axis], keepdim));
  }

  /** `torch.cumsum` along `dim`; bool and integer inputs accumulate as i32. */
  readonly cumsum = (x: T, dim: number): T => {
    const axis = dimOf('cumsum', this.type(x), dim);
    return this.named('cumsum', () => this.emit('cumsum', [this.nonBool(x)], { axis }));
  };

  /** `torch.norm`: the vector p-norm over `dim` (all dims by default). */
  readonly norm = (x: T, p: NormOrder = 2, dim?: Dims, keepdim = false): T => {
    const order = p === 'fro' ? 2 : p;
    if (typeof order !== 'number' || Number.isNaN(order)) throw new ArgumentError(`norm: unsupported p ${JSON.stringify(p)}`);
    this.requireFloat('norm', x);
    const axes = this.reduceAxes('norm', x, dim);
    return this.named('norm', () => {
      const a = this.abs(x);
      if (axes.length === 0) return order === 0 ? this.cast(this.ne(x, 0), 'f32') : a;
      let r: T;
      if (order === Infinity) r = this.maxKeep(a, axes);
      else if (order === -Infinity) r = this.minKeep(a, axes);
      else if (order === 0) r = this.sumKeep(this.cast(this.ne(x, 0), 'f32'), axes);
      else if (order === 1) r = this.sumKeep(a, axes);
      else if (order === 2) r = this.sqrt(this.sumKeep(this.mul(x, x), axes));
      else r = this.pow(this.sumKeep(this.pow(a, order), axes), 1 / order);
      return this.finish(r, axes, keepdim);
    });
  };

  /** Bool counts as integers in sums and products, as in PyTorch. */
  protected nonBool(x: T): T {
    return this.dtype(x) === 'bool' ? this.cast(x, 'i32') : x;
  }
}

import { ArgumentError, DTypeError, IndexError, ShapeError } from '../errors.js';
import type { Shape, TensorType } from '../types.js';
import { formatShape, formatType, shapesEqual } from '../types.js';
import { PrimOps } from './prim.js';

/**
 * Normalizes a possibly negative `dim` of a tensor of type `t` (rank + `extra` slots, e.g. 1
 * for unsqueeze/stack). Throws IndexError naming `op` and the tensor's type.
 */
export function dimOf(op: string, t: TensorType, dim: number, extra = 0): number {
  const r = Math.max(t.shape.length + extra, 1); // PyTorch lets a scalar be indexed by dim 0 / -1
  if (!Number.isInteger(dim) || dim < -r || dim >= r) {
    throw new IndexError(
      `${op}: dimension out of range (expected to be in range of [${-r}, ${r - 1}], but got ${dim}) for ${formatType(t)}`,
    );
  }
  return dim < 0 ? dim + r : dim;
}

/** Normalizes a list of dims; repeats are an ArgumentError. */
export function dimsOf(op: string, t: TensorType, dims: readonly number[]): number[] {
  const out = dims.map((d) => dimOf(op, t, d));
  if (new Set(out).size !== out.length) {
    throw new ArgumentError(`${op}: dim ${JSON.stringify(dims)} appears multiple times in the list of dims of ${formatType(t)}`);
  }
  return out;
}

/** Python's slice bounds for one dim of size `n` (step >= 1): clamps negative and past-the-end. */
export function pySliceBounds(n: number, start: number | null, end: number | null): [number, number] {
  const clamp = (v: number | null, dflt: number): number => {
    if (v === null) return dflt;
    const w = v < 0 ? v + n : v;
    return Math.min(Math.max(w, 0), n);
  };
  const s = clamp(start, 0);
  const e = clamp(end, n);
  return [s, Math.max(s, e)];
}

/** Throws a DTypeError unless `index` holds integers (kiln stores PyTorch's int64 as i32). */
export function requireIndex(op: string, index: TensorType, what = 'index'): void {
  if (index.dtype !== 'i32') {
    throw new DTypeError(`${op}: ${what} must be an integer tensor, got ${formatType(index)}`);
  }
}

/**
 * Shape manipulation: views, slicing, joining, padding, masking and indexing, decomposed into
 * the movement and index primitives.
 * NOTE: methods are arrow-function fields so they can be destructured into free functions.
 */
export class ShapeOps<T> extends PrimOps<T> {
  /** `torch.Tensor.view`: the same as reshape (kiln has no strides to respect). */
  readonly view = (x: T, shape: Shape): T => this.reshape(x, shape);

  /** `torch.flatten`: merges dims startDim..endDim into one. */
  readonly flatten = (x: T, startDim = 0, endDim = -1): T => {
    const t = this.type(x);
    if (t.shape.length === 0) return this.reshape(x, [1]);
    const s = dimOf('flatten', t, startDim);
    const e = dimOf('flatten', t, endDim);
    if (s > e) throw new ArgumentError(`flatten: start_dim (${startDim}) cannot come after end_dim (${endDim}) for ${formatType(t)}`);
    const merged = t.shape.slice(s, e + 1).reduce((a, d) => a * d, 1);
    return this.reshape(x, [...t.shape.slice(0, s), merged, ...t.shape.slice(e + 1)]);
  };

  /** `torch.squeeze`: drops size-1 dims (all of them, or those in `dim` that have size 1). */
  readonly squeeze = (x: T, dim?: number | readonly number[] | null): T => {
    const t = this.type(x);
    let drop: number[];
    if (dim === undefined || dim === null) drop = t.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    else if (t.shape.length === 0) {
      dimsOf('squeeze', t, typeof dim === 'number' ? [dim] : dim);
      return x;
    } else drop = dimsOf('squeeze', t, typeof dim === 'number' ? [dim] : dim).filter((i) => t.shape[i] === 1);
    return this.reshape(x, t.shape.filter((_, i) => !drop.includes(i)));
  };

  /** `torch.unsqueeze`: inserts a size-1 dim at `dim` (in range [-rank-1, rank]). */
  readonly unsqueeze = (x: T, dim: number): T => {
    const t = this.type(x);
    const d = dimOf('unsqueeze', t, dim, 1);
    return this.reshape(x, [...t.shape.slice(0, d), 1, ...t.shape.slice(d)]);
  };

  /** `torch.transpose`: swaps two dims. */
  readonly transpose = (x: T, dim0: number, dim1: number): T => {
    const t = this.type(x);
    const a = dimOf('transpose', t, dim0);
    const b = dimOf('transpose', t, dim1);
    if (t.shape.length < 2 || a === b) return x;
    const perm = t.shape.map((_, i) => (i === a ? b : i === b ? a : i));
    return this.permute(x, perm);
  };

  /** `torch.Tensor.expand`: -1 keeps a dim; new leading dims may be added (not as -1). */
  readonly expand = (x: T, size: readonly number[]): T => this.expandLike('expand', x, size);

  /** `torch.broadcast_to`: the same rules as expand. */
  readonly broadcastTo = (x: T, size: readonly number[]): T => this.expandLike('broadcast_to', x, size);

  protected expandLike(op: string, x: T, size: readonly number[]): T {
    const t = this.type(x);
    const lead = size.length - t.shape.length;
    if (lead < 0) {
      throw new ShapeError(`${op}: the number of sizes provided (${size.length}) must be greater or equal to the number of dimensions of ${formatType(t)}`);
    }
    const target = size.map((s, i) => {
      const have = i < lead ? undefined : t.shape[i - lead]!;
      if (s === -1) {
        if (have === undefined) throw new ArgumentError(`${op}: -1 is not allowed in a leading, non-existing dimension (${i}) of ${formatShape(size)}`);
        return have;
      }
      if (!Number.isInteger(s) || s < 0) throw new ArgumentError(`${op}: invalid size ${s} in ${formatShape(size)}`);
      if (have !== undefined && have !== 1 && have !== s) {
        throw new ShapeError(
          `${op}: the expanded size of the tensor (${s}) must match the existing size (${have}) at non-singleton dimension ${i}: ${formatType(t)} to ${formatShape(size)}`,
        );
      }
      return s;
    });
    return this.expandTo(x, target);
  }

  /** `torch.narrow`: `length` elements of `dim` from `start` (which may be negative). */
  readonly narrow = (x: T, dim: number, start: number, length: number): T => {
    const t = this.type(x);
    const d = dimOf('narrow', t, dim);
    const n = t.shape[d] ?? 1;
    if (!Number.isInteger(start) || start < -n || start > n) {
      throw new IndexError(`narrow: start ${start} is out of range for dim ${d} of ${formatType(t)}`);
    }
    const s = start < 0 ? start + n : start;
    if (!Number.isInteger(length) || length < 0) throw new ArgumentError(`narrow: length must be non-negative, got ${length}`);
    if (s + length > n) {
      throw new IndexError(`narrow: start (${s}) + length (${length}) exceeds dimension size (${n}) of dim ${d} of ${formatType(t)}`);
    }
    return this.sliceDim(x, d, s, s + length, 1);
  };

  /** Python's `x[..., start:end:step]` on `dim` (`step >= 1`; bounds clamp like Python's). */
  readonly slice = (x: T, dim: number, start: number | null = null, end: number | null = null, step = 1): T => {
    const t = this.type(x);
    const d = dimOf('slice', t, dim);
    if (!Number.isInteger(step) || step < 1) throw new ArgumentError(`slice: step must be a positive integer, got ${step}`);
    if ((start !== null && !Number.isInteger(start)) || (end !== null && !Number.isInteger(end))) {
      throw new ArgumentError(`slice: start and end must be integers or null, got ${start} and ${end}`);
    }
    if (t.shape.length === 0) throw new IndexError(`slice: cannot slice a 0-d tensor ${formatType(t)}`);
    const [s, e] = pySliceBounds(t.shape[d]!, start, end);
    return this.sliceDim(x, d, s, e, step);
  };

  /** A canonical slice of one dim (0 <= start <= end <= size). */
  protected sliceDim(x: T, dim: number, start: number, end: number, step: number): T {
    const s = this.shape(x);
    if (s.length === 0) return x;
    return this.slicePrim(
      x,
      s.map((_, i) => (i === dim ? start : 0)),
      s.map((n, i) => (i === dim ? end : n)),
      s.map((_, i) => (i === dim ? step : 1)),
    );
  }

  /** `torch.cat`: joins tensors along an existing dim (dtypes promote). */
  readonly cat = (xs: readonly T[], dim = 0): T => {
    if (xs.length === 0) throw new ArgumentError('cat: expected a non-empty list of tensors');
    const ts = xs.map(this.type);
    const first = ts[0]!;
    if (first.shape.length === 0) throw new ShapeError(`cat: zero-dimensional tensor ${formatType(first)} cannot be concatenated`);
    const d = dimOf('cat', first, dim);
    for (const t of ts) {
      const ok = t.shape.length === first.shape.length && t.shape.every((n, i) => i === d || n === first.shape[i]);
      if (!ok) {
        throw new ShapeError(`cat: sizes of tensors must match except in dimension ${d}: ${ts.map(formatType).join(', ')}`);
      }
    }
    return this.named('cat', () => this.concat(xs, d));
  };

  /** `torch.stack`: joins equal-shaped tensors along a new dim. */
  readonly stack = (xs: readonly T[], dim = 0): T => {
    if (xs.length === 0) throw new ArgumentError('stack: expected a non-empty list of tensors');
    const ts = xs.map(this.type);
    const first = ts[0]!;
    ts.forEach((t, i) => {
      if (!shapesEqual(t.shape, first.shape)) {
        throw new ShapeError(`stack: expects each tensor to be equal size, but got ${formatType(first)} at entry 0 and ${formatType(t)} at entry ${i}`);
      }
    });
    const d = dimOf('stack', first, dim, 1);
    return this.named('stack', () => this.concat(xs.map((x) => this.unsqueeze(x, d)), d));
  };

  /**
   * `F.pad` in constant mode: `pad` lists (before, after) pairs starting from the LAST dim.
   * Negative entries crop.
   */
  readonly pad = (x: T, pad: readonly number[], value = 0): T => {
    const t = this.type(x);
    const r = t.shape.length;
    if (pad.length % 2 !== 0 || pad.length > 2 * r || pad.some((p) => !Number.isInteger(p))) {
      throw new ArgumentError(`pad: padding ${JSON.stringify(pad)} must be an even number (at most ${2 * r}) of integers for ${formatType(t)}`);
    }
    // Per-dim [before, after] in dim order.
    const per = t.shape.map((_, i): [number, number] => {
      const k = r - 1 - i; // pad[2k], pad[2k+1] address dim r-1-k
      return 2 * k < pad.length ? [pad[2 * k]!, pad[2 * k + 1]!] : [0, 0];
    });
    per.forEach(([b, a], i) => {
      if (t.shape[i]! + Math.min(b, 0) + Math.min(a, 0) < 0) {
        throw new ShapeError(`pad: padding ${JSON.stringify(pad)} crops dim ${i} of ${formatType(t)} below size 0`);
      }
    });
    return this.named('pad', () => {
      const cropped = this.slicePrim(
        x,
        per.map(([b]) => Math.max(-b, 0)),
        per.map(([, a], i) => t.shape[i]! - Math.max(-a, 0)),
        per.map(() => 1),
      );
      return this.padPrim(cropped, per.flatMap(([b, a]) => [Math.max(b, 0), Math.max(a, 0)]), value);
    });
  };

  /** `torch.tril`: zeroes elements above the `diagonal` of the last two dims. */
  readonly tril = (x: T, diagonal = 0): T => this.triangle('tril', x, diagonal);

  /** `torch.triu`: zeroes elements below the `diagonal` of the last two dims. */
  readonly triu = (x: T, diagonal = 0): T => this.triangle('triu', x, diagonal);

  protected triangle(op: 'tril' | 'triu', x: T, diagonal: number): T {
    const t = this.type(x);
    if (t.shape.length < 2) throw new ShapeError(`${op}: input tensor must have at least 2 dimensions, got ${formatType(t)}`);
    if (!Number.isInteger(diagonal)) throw new ArgumentError(`${op}: diagonal must be an integer, got ${diagonal}`);
    return this.named(op, () => {
      const mn = t.shape.slice(-2);
      // col - row <= diagonal keeps the lower triangle
      const offset = this.emit('sub', [this.iota(mn, 1), this.iota(mn, 0)]);
      const keep = this.emit(op === 'tril' ? 'le' : 'ge', [offset, this.scalar(diagonal, 'i32')]);
      return this.where(keep, x, 0);
    });
  }

  /** `torch.index_select`: picks entries `index` (1-D integer) along `dim`. */
  readonly indexSelect = (x: T, dim: number, index: T): T => {
    const t = this.type(x);
    const it = this.type(index);
    requireIndex('index_select', it);
    if (it.shape.length > 1) throw new ShapeError(`index_select: index must be 0-D or 1-D, got ${formatType(it)}`);
    const d = dimOf('index_select', t, dim);
    if (t.shape.length === 0) return this.named('index_select', () => this.reshape(this.gatherPrim(this.reshape(x, [1]), this.reshape(index, [1]), 0), []));
    return this.named('index_select', () => {
      const k = it.shape[0] ?? 1;
      const out = t.shape.map((n, i) => (i === d ? k : n));
      const idx = this.reshape(index, t.shape.map((_, i) => (i === d ? k : 1)));
      return this.gatherPrim(x, this.expandTo(idx, out), d);
    });
  };

  /** `torch.gather`: `out[i][j] = x[index[i][j]][j]` along `dim`. */
  readonly gather = (x: T, dim: number, index: T): T => {
    const t = this.type(x);
    const it = this.type(index);
    requireIndex('gather', it);
    const d = dimOf('gather', t, dim);
    const fits = it.shape.length === t.shape.length && it.shape.every((n, i) => i === d || n <= t.shape[i]!);
    if (!fits) throw new ShapeError(`gather: index ${formatType(it)} does not fit input ${formatType(t)} outside dim ${d}`);
    return this.gatherPrim(x, index, d);
  };

  /** The gather primitive along a normalized axis. */
  protected gatherPrim(x: T, index: T, axis: number): T {
    return this.emit('gather', [x, index], { axis });
  }

  /** `torch.Tensor.contiguous`: kiln values have no strides, so this is the identity. */
  readonly contiguous = (x: T): T => x;

  /**
   * `torch.clone`: the same values as a NEW value, so in-place ops on the clone never touch
   * `x`. It is emitted as a same-shape reshape: free at run time, folded away by canonicalize.
   */
  readonly clone = (x: T): T => this.named('clone', () => this.emit('reshape', [x], { shape: [...this.shape(x)] }));
}

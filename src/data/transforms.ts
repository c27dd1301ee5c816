import { ArgumentError, ShapeError } from '../ir/errors.js';
import { formatType } from '../ir/types.js';
import { tensor } from '../frontend-eager/factories.js';
import { Tensor } from '../frontend-eager/tensor.js';
import type { Collated } from './collate.js';
import type { Dataset } from './dataset.js';

/** A function from one value to another, applied to samples (or batches). */
export type Transform<A = Tensor, B = Tensor> = (x: A) => B;

/**
 * `(x - mean) / std` per channel (torchvision's `Normalize`). `mean` and `std` are numbers,
 * or one value per entry of dimension `dim` of the input (default 0: the channels of a
 * `[C, H, W]` image, or the features of a `[F]` vector; use `dim: 1` on `[N, C, ...]` batches).
 *
 * ```ts
 * const norm = normalize([0.1307], [0.3081]);           // MNIST, [1, 28, 28] samples
 * const standardize = normalize(mean, std, { dim: 1 });   // [N, 64] feature batches
 * ```
 */
export function normalize(mean: number | readonly number[] | Tensor, std: number | readonly number[] | Tensor, { dim = 0 }: { dim?: number } = {}): Transform {
  const m = toTensor(mean);
  const s = toTensor(std);
  if (s.data().some((v) => v === 0)) throw new ArgumentError('normalize: std evaluated to zero, leading to division by zero');
  for (const t of [m, s]) if (t.ndim > 1) throw new ShapeError(`normalize: mean and std must be numbers or 1-D, got ${formatType(t.type)}`);
  return (x: Tensor) => {
    const d = dim < 0 ? dim + x.ndim : dim;
    const fit = (t: Tensor, what: string): Tensor => {
      if (t.ndim === 0) return t;
      const n = t.shape[0]!;
      if (d < 0 || d >= x.ndim || (n !== 1 && n !== x.shape[d])) {
        throw new ShapeError(`normalize: ${what} has ${n} values but dim ${dim} of the input ${formatType(x.type)} does not match`);
      }
      return t.reshape(x.shape.map((_, i) => (i === d ? n : 1)));
    };
    return x.sub(fit(m, 'mean')).div(fit(s, 'std'));
  };
}

function toTensor(v: number | readonly number[] | Tensor): Tensor {
  if (v instanceof Tensor) return v.float();
  return typeof v === 'number' ? tensor(v) : tensor([...v]);
}

/**
 * Chains transforms, applied in order (torchvision's `Compose`).
 *
 * ```ts
 * const t = new Compose([normalize(0.5, 0.25), (x) => x.flatten()]);
 * const y = t.apply(x);
 * ```
 */
export class Compose {
  constructor(readonly transforms: readonly Transform[]) {}

  apply(x: Tensor): Tensor {
    return this.transforms.reduce((acc, f) => f(acc), x);
  }
}

/**
 * A dataset whose samples are `fn(dataset.get(i))`, computed on access (the
 * `transform=` argument of torchvision datasets).
 *
 * ```ts
 * const norm = normalize(mean, std);
 * const ds = new MapDataset(digits(), ([x, y]) => [norm(x), y] as [Tensor, Tensor]);
 * ```
 */
export class MapDataset<T, U> implements Dataset<U> {
  /** The batch fast path, when a `batchFn` (the same transform over a collated batch) is given. */
  readonly getBatch?: (indices: readonly number[]) => Collated<U>;

  constructor(
    readonly dataset: Dataset<T>,
    readonly fn: Transform<T, U>,
    batchFn?: Transform<Collated<T>, Collated<U>>,
  ) {
    const inner = dataset.getBatch?.bind(dataset);
    if (inner && batchFn) this.getBatch = (idx) => batchFn(inner(idx));
  }

  get length(): number {
    return this.dataset.length;
  }

  get(index: number): U {
    return this.fn(this.dataset.get(index));
  }
}

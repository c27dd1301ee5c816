import { ArgumentError, IndexError, ShapeError } from '../ir/errors.js';
import type { Storage } from '../ir/ndarray.js';
import { formatType, numel } from '../ir/types.js';
import { fromStorage } from '../frontend-eager/factories.js';
import { defaultGenerator, type Generator } from '../frontend-eager/random.js';
import type { Tensor } from '../frontend-eager/tensor.js';
import type { Collated } from './collate.js';

/**
 * A map-style dataset (`torch.utils.data.Dataset`): `length` samples, read by index.
 * A dataset may also offer `getBatch`, a fast path the DataLoader uses instead of reading
 * samples one by one; it must return what `defaultCollate` would make of those samples.
 *
 * ```ts
 * const squares: Dataset<[number, number]> = { length: 10, get: (i) => [i, i * i] };
 * ```
 */
export interface Dataset<T> {
  readonly length: number;
  get(index: number): T;
  getBatch?(indices: readonly number[]): Collated<T>;
}

function checkIndex(who: string, i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new IndexError(`${who}: index ${i} is out of range for a dataset of length ${n}`);
}

/**
 * Wraps tensors that share their first dimension (`torch.utils.data.TensorDataset`): sample
 * `i` is the `i`-th row of each. Batches are gathered with one `indexSelect` per tensor.
 *
 * ```ts
 * const ds = new TensorDataset(x, y);        // x: f32[100, 64], y: i32[100]
 * const [xi, yi] = ds.get(3);                 // f32[64], i32[]
 * ```
 */
export class TensorDataset<N extends Tensor[]> {
  readonly tensors: N;
  /** Each tensor's values, read once (and again if the tensor is modified in place). */
  private readonly cache: ({ version: number; data: Storage } | null)[];

  constructor(...tensors: N) {
    if (tensors.length === 0) throw new ArgumentError('TensorDataset: expected at least one tensor');
    const n = tensors[0]!.shape[0];
    for (const t of tensors) {
      if (t.ndim === 0) throw new ShapeError(`TensorDataset: tensors need a first (sample) dimension, got ${formatType(t.type)}`);
      if (t.shape[0] !== n) {
        throw new ShapeError(`TensorDataset: size mismatch between tensors: ${tensors.map((x) => formatType(x.type)).join(', ')} (dim 0 differs)`);
      }
    }
    this.tensors = tensors;
    this.cache = tensors.map(() => null);
  }

  get length(): number {
    return this.tensors[0]!.shape[0]!;
  }

  get(index: number): N {
    checkIndex('TensorDataset', index, this.length);
    return this.tensors.map((t, k) => {
      const data = this.valuesOf(k);
      const rowShape = t.shape.slice(1);
      const n = numel(rowShape);
      return fromStorage(data.subarray(index * n, (index + 1) * n), rowShape, { dtype: t.dtype });
    }) as N;
  }

  /** The rows `indices` of each tensor: one gather per tensor (lazy, like any tensor op). */
  getBatch(indices: readonly number[]): N {
    for (const i of indices) checkIndex('TensorDataset', i, this.length);
    const idx = fromStorage(Int32Array.from(indices), [indices.length], { dtype: 'i32' });
    return this.tensors.map((t) => t.indexSelect(0, idx)) as N;
  }

  private valuesOf(k: number): Storage {
    const t = this.tensors[k]!;
    const c = this.cache[k];
    if (c && c.version === t.version) return c.data;
    const data = t.data();
    this.cache[k] = { version: t.version, data };
    return data;
  }
}

/**
 * The samples of `dataset` at `indices`, in that order (`torch.utils.data.Subset`). Keeps
 * the dataset's batch fast path.
 *
 * ```ts
 * const firstHundred = new Subset(ds, Array.from({ length: 100 }, (_, i) => i));
 * ```
 */
export class Subset<T> implements Dataset<T> {
  readonly getBatch?: (indices: readonly number[]) => Collated<T>;

  constructor(
    readonly dataset: Dataset<T>,
    readonly indices: readonly number[],
  ) {
    for (const i of indices) checkIndex('Subset', i, dataset.length);
    const inner = dataset.getBatch?.bind(dataset);
    if (inner) this.getBatch = (idx) => inner(idx.map((i) => this.indices[this.check(i)]!));
  }

  get length(): number {
    return this.indices.length;
  }

  get(index: number): T {
    return this.dataset.get(this.indices[this.check(index)]!);
  }

  private check(i: number): number {
    checkIndex('Subset', i, this.indices.length);
    return i;
  }
}

/**
 * Splits a dataset into non-overlapping random subsets (`torch.utils.data.random_split`).
 * `lengths` are sizes summing to the dataset's length, or fractions summing to 1 (sizes are
 * floored, and the remainder handed out one by one from the first subset on, as PyTorch
 * does). The permutation comes from `generator` (default: the global one, see `manualSeed`).
 *
 * ```ts
 * const [train, test] = randomSplit(ds, [0.8, 0.2], new Generator(42));
 * ```
 */
export function randomSplit<T>(dataset: Dataset<T>, lengths: readonly number[], generator: Generator = defaultGenerator): Subset<T>[] {
  const n = dataset.length;
  let sizes = [...lengths];
  const sum = sizes.reduce((a, b) => a + b, 0);
  if (sizes.some((l) => l < 0 || !Number.isFinite(l))) throw new ArgumentError(`randomSplit: lengths must be non-negative, got [${lengths.join(', ')}]`);
  if (Math.abs(sum - 1) < 1e-9 && sum !== n) {
    sizes = sizes.map((f) => Math.floor(n * f));
    const remainder = n - sizes.reduce((a, b) => a + b, 0);
    for (let i = 0; i < remainder; i++) sizes[i % sizes.length]! += 1;
  }
  if (sizes.some((l) => !Number.isInteger(l))) throw new ArgumentError(`randomSplit: lengths must be integers or fractions summing to 1, got [${lengths.join(', ')}]`);
  if (sizes.reduce((a, b) => a + b, 0) !== n) {
    throw new ArgumentError(`randomSplit: sum of input lengths [${sizes.join(', ')}] does not equal the length of the input dataset (${n})`);
  }
  const perm = randperm(n, generator);
  let offset = 0;
  return sizes.map((len) => {
    const sub = new Subset(dataset, perm.slice(offset, offset + len));
    offset += len;
    return sub;
  });
}

/**
 * A uniformly random permutation of 0..n-1 drawn from `generator` (Fisher–Yates).
 *
 * ```ts
 * randperm(5, new Generator(0)); // e.g. [3, 0, 4, 1, 2]
 * ```
 */
export function randperm(n: number, generator: Generator = defaultGenerator): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = generator.randint(i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

import { ArgumentError } from '../ir/errors.js';
import { realize } from '../frontend-eager/lazy.js';
import { defaultGenerator, type Generator } from '../frontend-eager/random.js';
import { Tensor } from '../frontend-eager/tensor.js';
import { type Collated, collateSamples } from './collate.js';
import { type Dataset, randperm } from './dataset.js';

export interface DataLoaderOptions<T, B> {
  /** Samples per batch (default 1). */
  batchSize?: number;
  /** Draw a fresh random order every epoch (default false). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /** Turns a list of samples into a batch (default: `defaultCollate`, or the dataset's `getBatch`). */
  collate?: (samples: T[]) => B;
  /** The source of the shuffles (default: the global generator, see `manualSeed`). */
  generator?: Generator;
  /** How many batches to prepare ahead of the one being consumed (default 0); see `DataLoader`. */
  prefetch?: number;
}

/**
 * Iterates over a dataset in batches (`torch.utils.data.DataLoader`).
 *
 * Each iteration is one epoch: with `shuffle`, it draws a fresh permutation from the
 * generator, so a seeded generator gives the same sequence of epochs on every run. Batches
 * come from the dataset's `getBatch` fast path when it has one (a `TensorDataset` gathers
 * each batch with one `indexSelect` per tensor), else from `collate` over `get(i)`.
 *
 * Prefetching, honestly, in a single-threaded runtime: kiln computes on the calling thread,
 * so preparing a batch cannot run *at the same time* as the training step.
 * - `for (const b of loader)` with `prefetch: N` keeps N batches built and computed ahead
 *   of the one it yields (each batch realized in its own small graph). That moves the work
 *   earlier (dataset reads, collation, gathers), it does not hide it. With `prefetch: 0`
 *   a batch is built when asked for and left lazy, so its gather fuses into the step's graph.
 * - `for await (const b of loader)` prepares the next N batches in macrotasks, which run
 *   whenever the consumer awaits (file or network reads, GPU read-backs, worker kernels):
 *   there the preparation does overlap with the waiting.
 *
 * ```ts
 * const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 64, shuffle: true, generator: new Generator(0) });
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for (const [xb, yb] of loader) {
 *     opt.zeroGrad();
 *     F.crossEntropy(model(xb), yb).backward();
 *     opt.step();
 *   }
 * }
 * ```
 */
export class DataLoader<T, B = Collated<T>> implements Iterable<B>, AsyncIterable<B> {
  readonly dataset: Dataset<T>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly prefetch: number;
  readonly generator: Generator;
  private readonly collate: ((samples: T[]) => B) | undefined;

  constructor(dataset: Dataset<T>, opts: DataLoaderOptions<T, B> = {}) {
    const { batchSize = 1, shuffle = false, dropLast = false, prefetch = 0 } = opts;
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new ArgumentError(`DataLoader: batchSize should be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(prefetch) || prefetch < 0) throw new ArgumentError(`DataLoader: prefetch should be a non-negative integer, got ${prefetch}`);
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.prefetch = prefetch;
    this.generator = opts.generator ?? defaultGenerator;
    this.collate = opts.collate;
  }

  /**
   * The number of batches in an epoch.
   *
   * ```ts
   * new DataLoader(ds, { batchSize: 64 }).length; // ceil(ds.length / 64)
   * ```
   */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** One epoch's batches, as lists of sample indices (draws a permutation when shuffling). */
  private plan(): number[][] {
    const n = this.dataset.length;
    const order = this.shuffle ? randperm(n, this.generator) : Array.from({ length: n }, (_, i) => i);
    const batches: number[][] = [];
    for (let start = 0; start < n; start += this.batchSize) {
      const idx = order.slice(start, start + this.batchSize);
      if (idx.length < this.batchSize && this.dropLast) break;
      batches.push(idx);
    }
    return batches;
  }

  private makeBatch(indices: readonly number[]): B {
    if (this.collate) return this.collate(indices.map((i) => this.dataset.get(i)));
    // NOTE: without a collate function B is Collated<T> (the class's default), which is what
    // getBatch and collateSamples build; TypeScript cannot relate the two type parameters.
    const batch: unknown = this.dataset.getBatch ? this.dataset.getBatch(indices) : collateSamples(indices.map((i) => this.dataset.get(i)), 'sample');
    return batch as B;
  }

  *[Symbol.iterator](): Iterator<B> {
    const plan = this.plan();
    if (this.prefetch === 0) {
      for (const idx of plan) yield this.makeBatch(idx);
      return;
    }
    const ready: B[] = [];
    let next = 0;
    while (next < plan.length || ready.length > 0) {
      while (ready.length <= this.prefetch && next < plan.length) ready.push(realizeBatch(this.makeBatch(plan[next++]!)));
      yield ready.shift()!;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<B> {
    const plan = this.plan();
    if (this.prefetch === 0) {
      for (const idx of plan) yield this.makeBatch(idx);
      return;
    }
    // NOTE: outcomes, not bare promises: a batch that fails while queued must not become
    // an unhandled rejection before the consumer reaches it.
    const queue: Promise<Outcome<B>>[] = [];
    let next = 0;
    for (;;) {
      // the batch to hand out next, and `prefetch` more behind it
      while (queue.length <= this.prefetch && next < plan.length) {
        const idx = plan[next++]!;
        queue.push(inMacrotask(() => realizeBatch(this.makeBatch(idx))));
      }
      const pending = queue.shift();
      if (!pending) return;
      const out = await pending;
      if (!out.ok) throw out.error;
      yield out.value;
    }
  }
}

type Outcome<V> = { ok: true; value: V } | { ok: false; error: unknown };

/** Runs `fn` in a later macrotask (after pending I/O callbacks), capturing its outcome. */
function inMacrotask<V>(fn: () => V): Promise<Outcome<V>> {
  return new Promise((resolve) => {
    const run = () => {
      try {
        resolve({ ok: true, value: fn() });
      } catch (error) {
        resolve({ ok: false, error });
      }
    };
    const g = globalThis as { setImmediate?: (cb: () => void) => unknown };
    if (g.setImmediate) g.setImmediate(run);
    else setTimeout(run, 0);
  });
}

/** Computes every tensor in a batch (tuples, arrays and objects searched), as one graph. */
function realizeBatch<B>(batch: B): B {
  const tensors: Tensor[] = [];
  const visit = (x: unknown): void => {
    if (x instanceof Tensor) tensors.push(x);
    else if (Array.isArray(x)) x.forEach(visit);
    else if (typeof x === 'object' && x !== null) Object.values(x).forEach(visit);
  };
  visit(batch);
  realize(tensors.map((t) => t._buf));
  return batch;
}

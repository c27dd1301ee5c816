/** Layers without windows or statistics: Identity, Linear, Flatten, Unflatten, Dropout, Embedding. */
import { ArgumentError, IndexError } from '../ir/errors.js';
import { formatType } from '../ir/types.js';
import { F, type Tensor, zeros } from '../frontend-eager/index.js';
import { calculateFanInAndFanOut, kaimingUniform_, normal_, uniform_ } from './init.js';
import { Module } from './module.js';
import { pyBool, pyFloat, pyTuple } from './py-repr.js';

/** @internal Checks a layer size argument: a positive (or, with `allowZero`, non-negative) integer. */
export function checkSize(op: string, name: string, v: number, allowZero = false): number {
  if (!Number.isInteger(v) || v < (allowZero ? 0 : 1)) {
    throw new ArgumentError(`${op}: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${v}`);
  }
  return v;
}

/**
 * @internal PyTorch's default initialization of a weight and its bias: kaiming-uniform with
 * a = sqrt(5) (bound 1/sqrt(fanIn)), and U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for the bias.
 */
export function resetLinearLike(weight: Tensor, bias: Tensor | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const [fanIn] = calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound);
  }
}

/**
 * Returns its input unchanged (`nn.Identity`): a placeholder in a model.
 *
 * ```ts
 * new Identity().call(x) === x; // true
 * ```
 */
export class Identity extends Module {
  override forward(input: Tensor): Tensor {
    return input;
  }
}

/**
 * `y = x W^T + b` with weight [outFeatures, inFeatures] and bias [outFeatures]
 * (`nn.Linear`), initialized as PyTorch does (from the default generator).
 *
 * ```ts
 * manualSeed(0);
 * const fc = new Linear(64, 10);
 * fc.call(randn([32, 64])).shape; // [32, 10]
 * ```
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, bias = true) {
    super();
    this.inFeatures = checkSize('Linear', 'in_features', inFeatures, true);
    this.outFeatures = checkSize('Linear', 'out_features', outFeatures, true);
    this.registerParameter('weight', zeros([outFeatures, inFeatures]));
    this.registerParameter('bias', bias ? zeros([outFeatures]) : null);
    this.resetParameters();
  }

  get weight(): Tensor {
    return this.ownParameter('weight')!;
  }
  get bias(): Tensor | null {
    return this.ownParameter('bias');
  }

  /**
   * Re-draws the weight and bias with PyTorch's default initialization.
   *
   * ```ts
   * manualSeed(0);
   * fc.resetParameters();
   * ```
   */
  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }

  override forward(input: Tensor): Tensor {
    return F.linear(input, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}`;
  }
}

/**
 * Flattens dims `startDim..endDim` into one (`nn.Flatten`; by default all but the batch dim).
 *
 * ```ts
 * new Flatten().call(zeros([32, 4, 4, 4])).shape; // [32, 64]
 * ```
 */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  override forward(input: Tensor): Tensor {
    return input.flatten(this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/**
 * Splits dim `dim` into `unflattenedSize` (`nn.Unflatten`; one entry may be -1).
 *
 * ```ts
 * new Unflatten(1, [1, 8, 8]).call(zeros([32, 64])).shape; // [32, 1, 8, 8]
 * ```
 */
export class Unflatten extends Module {
  readonly unflattenedSize: number[];

  constructor(
    readonly dim: number,
    unflattenedSize: readonly number[],
  ) {
    super();
    this.unflattenedSize = [...unflattenedSize];
  }

  override forward(input: Tensor): Tensor {
    const s = input.shape;
    const d = this.dim < 0 ? this.dim + s.length : this.dim;
    if (!(d >= 0 && d < s.length)) throw new IndexError(`Unflatten: dim ${this.dim} is out of range for ${formatType(input.type)}`);
    return input.reshape([...s.slice(0, d), ...this.unflattenedSize, ...s.slice(d + 1)]);
  }

  override extraRepr(): string {
    return `dim=${this.dim}, unflattened_size=${pyTuple(this.unflattenedSize)}`;
  }
}

/**
 * Zeroes each element with probability `p` while training and scales the rest by
 * 1/(1-p) (`nn.Dropout`); the identity in eval mode. The mask comes from the default generator.
 *
 * ```ts
 * const drop = new Dropout(0.2);
 * drop.eval().call(x); // x
 * ```
 */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ArgumentError(`Dropout: dropout probability has to be between 0 and 1, but got ${p}`);
  }

  override forward(input: Tensor): Tensor {
    return F.dropout(input, this.p, this.training);
  }

  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=False`;
  }
}

/**
 * A lookup table of `numEmbeddings` vectors of size `embeddingDim` (`nn.Embedding`),
 * initialized N(0, 1); `forward` takes integer indices of any shape.
 *
 * ```ts
 * const emb = new Embedding(10, 3);
 * emb.call(tensor([[1, 2], [4, 9]], { dtype: 'i32' })).shape; // [2, 2, 3]
 * ```
 */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;

  constructor(numEmbeddings: number, embeddingDim: number) {
    super();
    this.numEmbeddings = checkSize('Embedding', 'num_embeddings', numEmbeddings, true);
    this.embeddingDim = checkSize('Embedding', 'embedding_dim', embeddingDim, true);
    this.registerParameter('weight', zeros([numEmbeddings, embeddingDim]));
    this.resetParameters();
  }

  get weight(): Tensor {
    return this.ownParameter('weight')!;
  }

  /**
   * Re-draws the table from N(0, 1).
   *
   * ```ts
   * emb.resetParameters();
   * ```
   */
  resetParameters(): void {
    normal_(this.weight);
  }

  override forward(input: Tensor): Tensor {
    return F.embedding(input, this.weight);
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}`;
  }
}

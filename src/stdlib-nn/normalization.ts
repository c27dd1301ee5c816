/** Normalization layers: BatchNorm1d / BatchNorm2d (with running statistics) and LayerNorm. */
import { ShapeError } from '../ir/errors.js';
import { formatType } from '../ir/types.js';
import { F, noGrad, ones, type Tensor, zeros } from '../frontend-eager/index.js';
import { checkSize } from './linear.js';
import { Module } from './module.js';
import { pyBool, pyFloat, pyTuple } from './py-repr.js';

/** Options of `BatchNorm1d` / `BatchNorm2d` (PyTorch's defaults). */
export interface BatchNormOptions {
  /** Added to the variance; default 1e-5. */
  eps?: number;
  /** Weight of the new batch in the running averages; `null`: a cumulative average. Default 0.1. */
  momentum?: number | null;
  /** Learnable per-channel weight and bias; default true. */
  affine?: boolean;
  /** Keep running mean/var (used in eval mode); default true. */
  trackRunningStats?: boolean;
}

/** The shared part of BatchNorm1d and BatchNorm2d. */
abstract class BatchNormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(op: string, numFeatures: number, opts: BatchNormOptions) {
    super();
    this.numFeatures = checkSize(op, 'num_features', numFeatures);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    this.registerParameter('weight', this.affine ? ones([numFeatures]) : null);
    this.registerParameter('bias', this.affine ? zeros([numFeatures]) : null);
    const track = this.trackRunningStats;
    this.registerBuffer('running_mean', track ? zeros([numFeatures]) : null);
    this.registerBuffer('running_var', track ? ones([numFeatures]) : null);
    this.registerBuffer('num_batches_tracked', track ? zeros([], { dtype: 'i32' }) : null);
  }

  get weight(): Tensor | null {
    return this.ownParameter('weight');
  }
  get bias(): Tensor | null {
    return this.ownParameter('bias');
  }
  /** Running mean per channel (state dict key `running_mean`, as PyTorch). */
  get runningMean(): Tensor | null {
    return this.ownBuffer('running_mean');
  }
  /** Running unbiased variance per channel (`running_var`). */
  get runningVar(): Tensor | null {
    return this.ownBuffer('running_var');
  }
  /** How many training batches updated the running stats (`num_batches_tracked`, i32). */
  get numBatchesTracked(): Tensor | null {
    return this.ownBuffer('num_batches_tracked');
  }

  /**
   * Zeroes the running mean, sets the running variance to 1 and the batch count to 0.
   *
   * ```ts
   * bn.resetRunningStats();
   * ```
   */
  resetRunningStats(): void {
    noGrad(() => {
      this.runningMean?.zero_();
      this.runningVar?.fill_(1);
      this.numBatchesTracked?.zero_();
    });
  }

  /**
   * Resets the running stats and the affine weight (1) and bias (0).
   *
   * ```ts
   * bn.resetParameters();
   * ```
   */
  resetParameters(): void {
    this.resetRunningStats();
    noGrad(() => {
      this.weight?.fill_(1);
      this.bias?.zero_();
    });
  }

  protected abstract checkInputDim(input: Tensor): void;

  override forward(input: Tensor): Tensor {
    this.checkInputDim(input);
    const rm = this.runningMean;
    const rv = this.runningVar;
    const updating = this.training && this.trackRunningStats && rm !== null && rv !== null;
    const useBatchStats = this.training || rm === null || rv === null;
    const y = F.batchNorm(input, rm, rv, this.weight, this.bias, useBatchStats, this.momentum ?? 0, this.eps);
    if (updating) this.updateRunningStats(input, rm, rv);
    return y;
  }

  /**
   * PyTorch's update, in place without history: `r = (1 - m) r + m s` with the batch mean
   * and the UNBIASED batch variance; `m = 1 / numBatchesTracked` when momentum is null.
   */
  private updateRunningStats(input: Tensor, rm: Tensor, rv: Tensor): void {
    noGrad(() => {
      const nbt = this.numBatchesTracked;
      nbt?.add_(1);
      const m = this.momentum ?? 1 / Number(nbt ? nbt.item() : 1);
      const x = input.detach();
      const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
      rm.copy_(rm.mul(1 - m).add(x.mean(axes).mul(m)));
      rv.copy_(rv.mul(1 - m).add(x.var(axes, { correction: 1 }).mul(m)));
    });
  }

  override extraRepr(): string {
    const mom = this.momentum === null ? 'None' : pyFloat(this.momentum);
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${mom}, affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.trackRunningStats)}`;
  }
}

/**
 * Batch normalization over [N, C] or [N, C, L] inputs (`nn.BatchNorm1d`). Training mode
 * normalizes with the batch statistics and updates `runningMean` / `runningVar` in place;
 * eval mode normalizes with the running statistics.
 *
 * ```ts
 * const bn = new BatchNorm1d(32);
 * const y = bn.call(randn([16, 32]));   // training: batch stats, running stats updated
 * bn.eval().call(randn([4, 32]));        // eval: running stats
 * ```
 */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super('BatchNorm1d', numFeatures, opts);
  }

  protected checkInputDim(input: Tensor): void {
    if (input.ndim !== 2 && input.ndim !== 3) throw new ShapeError(`BatchNorm1d: expected 2D or 3D input (got ${input.ndim}D input ${formatType(input.type)})`);
  }
}

/**
 * Batch normalization over [N, C, H, W] inputs (`nn.BatchNorm2d`); see `BatchNorm1d`.
 *
 * ```ts
 * const bn = new BatchNorm2d(4, { momentum: 0.01 });
 * bn.call(randn([8, 4, 6, 6])).shape; // [8, 4, 6, 6]
 * ```
 */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super('BatchNorm2d', numFeatures, opts);
  }

  protected checkInputDim(input: Tensor): void {
    if (input.ndim !== 4) throw new ShapeError(`BatchNorm2d: expected 4D input (got ${input.ndim}D input ${formatType(input.type)})`);
  }
}

/** Options of `LayerNorm` (PyTorch's defaults). */
export interface LayerNormOptions {
  /** Added to the variance; default 1e-5. */
  eps?: number;
  /** Learnable weight (and bias) of `normalizedShape`; default true. */
  elementwiseAffine?: boolean;
  /** With `elementwiseAffine`, whether there is a bias; default true. */
  bias?: boolean;
}

/**
 * Normalizes over the trailing `normalizedShape` dims with the biased variance
 * (`nn.LayerNorm`), then applies the elementwise weight (ones) and bias (zeros).
 *
 * ```ts
 * const ln = new LayerNorm(64);
 * ln.call(randn([32, 64])).shape; // [32, 64]
 * ```
 */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;

  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    for (const d of this.normalizedShape) checkSize('LayerNorm', 'normalized_shape', d, true);
    this.eps = opts.eps ?? 1e-5;
    this.elementwiseAffine = opts.elementwiseAffine ?? true;
    const affine = this.elementwiseAffine;
    this.registerParameter('weight', affine ? ones(this.normalizedShape) : null);
    this.registerParameter('bias', affine && (opts.bias ?? true) ? zeros(this.normalizedShape) : null);
  }

  get weight(): Tensor | null {
    return this.ownParameter('weight');
  }
  get bias(): Tensor | null {
    return this.ownParameter('bias');
  }

  /**
   * Sets the weight to 1 and the bias to 0.
   *
   * ```ts
   * ln.resetParameters();
   * ```
   */
  resetParameters(): void {
    noGrad(() => {
      this.weight?.fill_(1);
      this.bias?.zero_();
    });
  }

  override forward(input: Tensor): Tensor {
    return F.layerNorm(input, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${pyTuple(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${pyBool(this.elementwiseAffine)}`;
  }
}

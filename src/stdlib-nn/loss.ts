/** Loss modules: `forward(input, target)` over the vocabulary's loss functions. */
import { ArgumentError } from '../ir/errors.js';
import type { Reduction } from '../ir/lang/index.js';
import { F, type Tensor } from '../frontend-eager/index.js';
import { Module } from './module.js';

/** `reduction`: 'mean' (default), 'sum' or 'none' (per element). */
export interface LossModuleOptions {
  reduction?: Reduction;
}

/** The shared part of the losses: the checked `reduction`. */
abstract class Loss extends Module {
  readonly reduction: Reduction;

  constructor(opts: LossModuleOptions = {}) {
    super();
    const r = opts.reduction ?? 'mean';
    if (r !== 'mean' && r !== 'sum' && r !== 'none') {
      throw new ArgumentError(`${new.target.name}: reduction must be 'none', 'mean' or 'sum', got ${JSON.stringify(r)}`);
    }
    this.reduction = r;
  }

  abstract override forward(input: Tensor, target: Tensor): Tensor;
}

/** Options of `CrossEntropyLoss`. */
export interface CrossEntropyLossOptions extends LossModuleOptions {
  /** Mix the target with the uniform distribution: (1 - s) * target + s / C. Default 0. */
  labelSmoothing?: number;
  /** Targets equal to this class are left out of the loss (and of the mean's count). Off unless given. */
  ignoreIndex?: number;
}

/**
 * Log-softmax over the class dim (1, or 0 when unbatched) and negative log-likelihood of
 * the integer class targets (or class probabilities) (`nn.CrossEntropyLoss`).
 *
 * ```ts
 * const lossFn = new CrossEntropyLoss({ labelSmoothing: 0.1 });
 * const loss = lossFn.call(logits, tensor([3, 0], { dtype: 'i32' }));
 * ```
 */
export class CrossEntropyLoss extends Loss {
  readonly labelSmoothing: number;
  readonly ignoreIndex: number | undefined;

  constructor(opts: CrossEntropyLossOptions = {}) {
    super(opts);
    this.labelSmoothing = opts.labelSmoothing ?? 0;
    this.ignoreIndex = opts.ignoreIndex;
    if (!(this.labelSmoothing >= 0 && this.labelSmoothing <= 1)) {
      throw new ArgumentError(`CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, got ${this.labelSmoothing}`);
    }
  }

  override forward(input: Tensor, target: Tensor): Tensor {
    return F.crossEntropy(input, target, { reduction: this.reduction, labelSmoothing: this.labelSmoothing, ignoreIndex: this.ignoreIndex });
  }
}

/**
 * `-input[n, target[n]]` on log-probabilities (`nn.NLLLoss`); pair with `LogSoftmax`.
 *
 * ```ts
 * const loss = new NLLLoss().call(new LogSoftmax(1).call(logits), target);
 * ```
 */
export class NLLLoss extends Loss {
  readonly ignoreIndex: number | undefined;

  constructor(opts: LossModuleOptions & { ignoreIndex?: number } = {}) {
    super(opts);
    this.ignoreIndex = opts.ignoreIndex;
  }

  override forward(input: Tensor, target: Tensor): Tensor {
    return F.nllLoss(input, target, { reduction: this.reduction, ignoreIndex: this.ignoreIndex });
  }
}

/**
 * Mean squared error `(input - target)^2` (`nn.MSELoss`).
 *
 * ```ts
 * new MSELoss().call(pred, target);
 * ```
 */
export class MSELoss extends Loss {
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, { reduction: this.reduction });
  }
}

/**
 * Mean absolute error `|input - target|` (`nn.L1Loss`).
 *
 * ```ts
 * new L1Loss({ reduction: 'sum' }).call(pred, target);
 * ```
 */
export class L1Loss extends Loss {
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.l1Loss(input, target, { reduction: this.reduction });
  }
}

/**
 * Huber-like loss: `0.5 d^2 / beta` where `|d| < beta`, else `|d| - 0.5 beta` (`nn.SmoothL1Loss`).
 *
 * ```ts
 * new SmoothL1Loss({ beta: 0.5 }).call(pred, target);
 * ```
 */
export class SmoothL1Loss extends Loss {
  readonly beta: number;

  constructor(opts: LossModuleOptions & { beta?: number } = {}) {
    super(opts);
    this.beta = opts.beta ?? 1;
    if (!(this.beta >= 0)) throw new ArgumentError(`SmoothL1Loss: beta must be non-negative, got ${this.beta}`);
  }

  override forward(input: Tensor, target: Tensor): Tensor {
    return F.smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

/**
 * Binary cross-entropy on probabilities in [0, 1] (`nn.BCELoss`); logs clamped at -100.
 *
 * ```ts
 * new BCELoss().call(pred.sigmoid(), target);
 * ```
 */
export class BCELoss extends Loss {
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropy(input, target, { reduction: this.reduction });
  }
}

/**
 * Sigmoid + binary cross-entropy in one numerically stable step (`nn.BCEWithLogitsLoss`).
 *
 * ```ts
 * new BCEWithLogitsLoss().call(logits, target);
 * ```
 */
export class BCEWithLogitsLoss extends Loss {
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropyWithLogits(input, target, { reduction: this.reduction });
  }
}

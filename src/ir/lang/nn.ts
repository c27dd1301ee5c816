import type { Emitter } from '../emitter.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import type { Shape, TensorType } from '../types.js';
import { broadcastShapes, formatShape, formatType, numel, shapesEqual } from '../types.js';
import { MathOps } from './math.js';
import type { Operand } from './prim.js';
import { dimOf, requireIndex } from './shape.js';

/** `reduction` of the losses. */
export type Reduction = 'none' | 'mean' | 'sum';

export interface LossOptions {
  reduction?: Reduction;
}

export interface CrossEntropyOptions extends LossOptions {
  labelSmoothing?: number;
  /** Targets equal to this class are skipped (PyTorch's ignore_index); off unless given. */
  ignoreIndex?: number;
}

export interface NllLossOptions extends LossOptions {
  ignoreIndex?: number;
}

/** An int or an (h, w) pair, as PyTorch's `_pair` arguments. */
export type Size2 = number | readonly [number, number] | readonly number[];
/** An int or a 1-tuple (conv1d's `_single` arguments). */
export type Size1 = number | readonly number[];
/** conv padding: numbers, or 'valid' (none) / 'same' (output size = input size, stride 1). */
export type ConvPadding = Size2 | 'valid' | 'same';
export type ConvPadding1 = Size1 | 'valid' | 'same';

/**
 * Optional emitter capabilities the vocabulary uses when they are present:
 * `rand` gives dropout its mask; `peek` lets an emitter that knows concrete values (eager)
 * resolve data-dependent shapes, e.g. `one_hot` with `numClasses = -1`.
 */
export interface EmitterHooks<T> {
  /** A fresh f32 tensor of `shape`, uniform on [0, 1). */
  rand?(shape: Shape): T;
  /** The row-major values of `x` when the emitter knows them, else undefined. */
  peek?(x: T): ArrayLike<number> | undefined;
}

/** One convolution or pooling window sweep over H, W (after unbatched inputs gain N = 1). */
interface Window2 {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
}

/**
 * Linear algebra and neural-network ops: matmul with torch.matmul's rank rules, softmax,
 * losses, normalization, convolution and pooling (via the unfold primitive), embedding.
 * NOTE: methods are arrow-function fields so they can be destructured into free functions.
 */
export class NNOps<T> extends MathOps<T> {
  protected get hooks(): Emitter<T> & EmitterHooks<T> {
    return this.e;
  }

  // ---- linear algebra ----

  /** `torch.matmul`: 1-D operands are promoted and squeezed back; batch dims broadcast. */
  readonly matmul = (a: T, b: T): T => {
    const ta = this.type(a);
    const tb = this.type(b);
    const ra = ta.shape.length;
    const rb = tb.shape.length;
    if (ra === 0 || rb === 0) {
      throw new ShapeError(`matmul: both arguments need to be at least 1-D, got ${formatType(ta)} and ${formatType(tb)}`);
    }
    this.checkMatmulDtypes('matmul', ta, tb);
    const ka = ta.shape[ra - 1]!;
    const kDim = rb === 1 ? 0 : rb - 2;
    const kb = tb.shape[kDim]!;
    if (ka !== kb) {
      throw new ShapeError(`matmul: contracting dimensions differ: ${formatType(ta)} (dim ${ra - 1} = ${ka}) vs ${formatType(tb)} (dim ${kDim} = ${kb})`);
    }
    const batch = broadcastShapes('matmul', ta.shape.slice(0, -2), tb.shape.slice(0, -2));
    const out = [...batch, ...(ra > 1 ? [ta.shape[ra - 2]!] : []), ...(rb > 1 ? [tb.shape[rb - 1]!] : [])];
    if (ra > 1 && rb > 1) return this.matmulPrim(a, b);
    return this.named('matmul', () => {
      const a2 = ra === 1 ? this.reshape(a, [1, ka]) : a;
      const b2 = rb === 1 ? this.reshape(b, [kb, 1]) : b;
      return this.reshape(this.matmulPrim(a2, b2), out);
    });
  };

  /** `torch.mm`: 2-D x 2-D. */
  readonly mm = (a: T, b: T): T => this.fixedRankMatmul('mm', a, b, 2);

  /** `torch.bmm`: 3-D x 3-D with equal batch sizes (no broadcasting). */
  readonly bmm = (a: T, b: T): T => this.fixedRankMatmul('bmm', a, b, 3);

  protected fixedRankMatmul(op: 'mm' | 'bmm', a: T, b: T, rank: 2 | 3): T {
    const ta = this.type(a);
    const tb = this.type(b);
    if (ta.shape.length !== rank || tb.shape.length !== rank) {
      throw new ShapeError(`${op}: expected ${rank}-D tensors, got ${formatType(ta)} and ${formatType(tb)}`);
    }
    this.checkMatmulDtypes(op, ta, tb);
    if (rank === 3 && ta.shape[0] !== tb.shape[0]) throw new ShapeError(`${op}: batch sizes differ: ${formatType(ta)} vs ${formatType(tb)}`);
    if (ta.shape[rank - 1] !== tb.shape[rank - 2]) {
      throw new ShapeError(
        `${op}: contracting dimensions differ: ${formatType(ta)} (dim ${rank - 1} = ${ta.shape[rank - 1]}) vs ${formatType(tb)} (dim ${rank - 2} = ${tb.shape[rank - 2]})`,
      );
    }
    return this.matmulPrim(a, b);
  }

  protected checkMatmulDtypes(op: string, ta: TensorType, tb: TensorType): void {
    if (ta.dtype !== 'f32' || tb.dtype !== 'f32') {
      throw new DTypeError(`${op}: expected f32 operands, got ${formatType(ta)} and ${formatType(tb)}`);
    }
  }

  /** `torch.outer`: `a[i] * b[j]` of two 1-D tensors. */
  readonly outer = (a: T, b: T): T => {
    const ta = this.type(a);
    const tb = this.type(b);
    if (ta.shape.length !== 1 || tb.shape.length !== 1) {
      throw new ShapeError(`outer: expected 1-D tensors, got ${formatType(ta)} and ${formatType(tb)}`);
    }
    return this.named('outer', () => this.mul(this.reshape(a, [-1, 1]), this.reshape(b, [1, -1])));
  };

  /** `F.linear`: `x @ weight.T + bias`, weight [out, in] (or [in]). */
  readonly linear = (x: T, weight: T, bias?: T | null): T => {
    const tx = this.type(x);
    const tw = this.type(weight);
    if (tx.shape.length === 0 || tw.shape.length === 0 || tw.shape.length > 2) {
      throw new ShapeError(`linear: expected input of rank >= 1 and a 1-D or 2-D weight, got ${formatType(tx)} and ${formatType(tw)}`);
    }
    const inF = tw.shape[tw.shape.length - 1]!;
    if (tx.shape[tx.shape.length - 1] !== inF) {
      throw new ShapeError(`linear: input ${formatType(tx)} (last dim ${tx.shape[tx.shape.length - 1]}) does not match weight ${formatType(tw)} (in_features ${inF})`);
    }
    this.checkMatmulDtypes('linear', tx, tw);
    const out = [...tx.shape.slice(0, -1), ...(tw.shape.length === 2 ? [tw.shape[0]!] : [])];
    if (bias) {
      const tb = this.type(bias);
      if (!shapesEqual(broadcastShapes('linear', out, tb.shape), out)) {
        throw new ShapeError(`linear: bias ${formatType(tb)} does not broadcast to the output ${formatShape(out)}`);
      }
    }
    return this.named('linear', () => {
      let y: T;
      if (tw.shape.length === 1) y = this.matmul(x, weight);
      else if (tx.shape.length <= 2) y = this.matmul(x, this.transpose(weight, 0, 1));
      else y = this.reshape(this.matmulPrim(this.reshape(x, [-1, inF]), this.transpose(weight, 0, 1)), out);
      return bias ? this.add(y, bias) : y;
    });
  };

  // ---- softmax family ----

  /** `F.softmax`, stabilized by subtracting the max along `dim`. */
  readonly softmax = (x: T, dim: number): T => {
    const axes = this.softmaxAxes('softmax', x, dim);
    return this.named('softmax', () => {
      const xf = this.toFloat(x);
      const e = this.exp(this.sub(xf, this.maxKeep(xf, axes)));
      return this.div(e, this.sumKeep(e, axes));
    });
  };

  /** `F.log_softmax`: `x - max - log(sum(exp(x - max)))`. */
  readonly logSoftmax = (x: T, dim: number): T => {
    const axes = this.softmaxAxes('log_softmax', x, dim);
    return this.named('log_softmax', () => {
      const xf = this.toFloat(x);
      const s = this.sub(xf, this.maxKeep(xf, axes));
      return this.sub(s, this.log(this.sumKeep(this.exp(s), axes)));
    });
  };

  protected softmaxAxes(op: string, x: T, dim: number): number[] {
    const t = this.type(x);
    const d = dimOf(op, t, dim);
    return t.shape.length === 0 ? [] : [d];
  }

  // ---- losses ----

  /**
   * `F.cross_entropy` over dim 1 (dim 0 for an unbatched [C] input). Integer targets are
   * class indices; f32 targets of the input's shape are class probabilities.
   */
  readonly crossEntropy = (input: T, target: T, options: CrossEntropyOptions = {}): T => {
    const op = 'cross_entropy';
    const reduction = this.checkReduction(op, options.reduction);
    const ls = options.labelSmoothing ?? 0;
    if (!(ls >= 0 && ls <= 1)) throw new ArgumentError(`${op}: label_smoothing must be between 0.0 and 1.0, got ${ls}`);
    const ti = this.type(input);
    const tt = this.type(target);
    this.requireFloat(op, input);
    if (tt.dtype === 'f32') {
      if (!shapesEqual(tt.shape, ti.shape)) {
        throw new ShapeError(`${op}: probability target ${formatType(tt)} must have the shape of the input ${formatType(ti)}`);
      }
    } else this.checkClassTarget(op, ti, tt);
    const cd = ti.shape.length >= 2 ? 1 : 0;
    const C = ti.shape[cd]!;
    return this.named(op, () => {
      const lp = this.logSoftmax(input, cd);
      if (tt.dtype === 'f32') {
        const soft = ls > 0 ? this.add(this.mul(target, 1 - ls), ls / C) : target;
        return this.reduceLoss(this.neg(this.sum(this.mul(lp, soft), cd)), reduction);
      }
      const [safe, mask] = this.maskTarget(target, options.ignoreIndex);
      let per = this.pickClass(lp, safe, cd);
      if (ls > 0) {
        const smooth = this.neg(this.sum(lp, cd));
        per = this.add(this.mul(per, 1 - ls), this.mul(smooth, ls / C));
      }
      return this.reduceMasked(per, mask, reduction);
    });
  };

  /** `F.nll_loss`: `-input[n, target[n]]` with class dim 1 (0 when unbatched). */
  readonly nllLoss = (input: T, target: T, options: NllLossOptions = {}): T => {
    const op = 'nll_loss';
    const reduction = this.checkReduction(op, options.reduction);
    const ti = this.type(input);
    this.requireFloat(op, input);
    this.checkClassTarget(op, ti, this.type(target));
    const cd = ti.shape.length >= 2 ? 1 : 0;
    return this.named(op, () => {
      const [safe, mask] = this.maskTarget(target, options.ignoreIndex);
      return this.reduceMasked(this.pickClass(input, safe, cd), mask, reduction);
    });
  };

  /** Class-index targets: integer, shaped like the input without its class dim. */
  protected checkClassTarget(op: string, ti: TensorType, tt: TensorType): void {
    if (ti.shape.length === 0) throw new ShapeError(`${op}: input must have at least 1 dim (classes), got ${formatType(ti)}`);
    requireIndex(op, tt, 'target');
    const cd = ti.shape.length >= 2 ? 1 : 0;
    const want = ti.shape.filter((_, i) => i !== cd);
    if (!shapesEqual(want, tt.shape)) {
      throw new ShapeError(`${op}: expected target of shape ${formatShape(want)} for input ${formatType(ti)}, got ${formatType(tt)}`);
    }
  }

  /** Replaces ignored targets by class 0 (they are masked out of the loss afterwards). */
  protected maskTarget(target: T, ignoreIndex: number | undefined): [T, T | null] {
    if (ignoreIndex === undefined) return [target, null];
    const mask = this.ne(target, ignoreIndex);
    return [this.where(mask, target, 0), mask];
  }

  /** `-x[..., target, ...]` along the class dim `cd`. */
  protected pickClass(x: T, target: T, cd: number): T {
    return this.neg(this.squeeze(this.gatherPrim(x, this.unsqueeze(target, cd), cd), cd));
  }

  protected reduceMasked(per: T, mask: T | null, reduction: Reduction): T {
    if (mask === null) return this.reduceLoss(per, reduction);
    const kept = this.where(mask, per, 0);
    if (reduction !== 'mean') return this.reduceLoss(kept, reduction);
    return this.div(this.sum(kept), this.sum(this.cast(mask, 'f32')));
  }

  protected checkReduction(op: string, reduction: string | undefined): Reduction {
    const r = reduction ?? 'mean';
    if (r !== 'none' && r !== 'mean' && r !== 'sum') {
      throw new ArgumentError(`${op}: reduction must be 'none', 'mean' or 'sum', got ${JSON.stringify(r)}`);
    }
    return r;
  }

  protected reduceLoss(per: T, reduction: Reduction): T {
    return reduction === 'none' ? per : reduction === 'sum' ? this.sum(per) : this.mean(per);
  }

  /** Elementwise losses broadcast their operands (PyTorch warns; kiln just checks). */
  protected pairLoss(op: string, a: T, b: T, reduction: string | undefined, per: (d: T) => T): T {
    const r = this.checkReduction(op, reduction);
    broadcastShapes(op, this.shape(a), this.shape(b));
    this.requireFloat(op, a);
    return this.named(op, () => this.reduceLoss(per(this.sub(a, b)), r));
  }

  /** `F.mse_loss`: `(a - b)^2`. */
  readonly mseLoss = (input: T, target: T, options: LossOptions = {}): T =>
    this.pairLoss('mse_loss', input, target, options.reduction, (d) => this.mul(d, d));

  /** `F.l1_loss`: `|a - b|`. */
  readonly l1Loss = (input: T, target: T, options: LossOptions = {}): T =>
    this.pairLoss('l1_loss', input, target, options.reduction, (d) => this.abs(d));

  /** `F.smooth_l1_loss`: `0.5 d^2 / beta` where `|d| < beta`, else `|d| - 0.5 beta`. */
  readonly smoothL1Loss = (input: T, target: T, options: LossOptions & { beta?: number } = {}): T => {
    const beta = options.beta ?? 1;
    if (!(beta >= 0)) throw new ArgumentError(`smooth_l1_loss: beta must be non-negative, got ${beta}`);
    return this.pairLoss('smooth_l1_loss', input, target, options.reduction, (d) => {
      const a = this.abs(d);
      if (beta === 0) return a;
      return this.where(this.lt(a, beta), this.mul(this.mul(a, a), 0.5 / beta), this.sub(a, 0.5 * beta));
    });
  };

  /** `F.binary_cross_entropy` on probabilities; each log is clamped at -100 as in PyTorch. */
  readonly binaryCrossEntropy = (input: T, target: T, options: LossOptions = {}): T => {
    const op = 'binary_cross_entropy';
    const r = this.checkReduction(op, options.reduction);
    this.sameShapeTarget(op, input, target);
    return this.named(op, () => {
      const logP = this.maximum(this.log(input), -100);
      const log1mP = this.maximum(this.log1p(this.neg(input)), -100);
      // -(t log p + (1 - t) log(1 - p))
      return this.reduceLoss(this.sub(this.mul(this.sub(target, 1), log1mP), this.mul(target, logP)), r);
    });
  };

  /**
   * `F.binary_cross_entropy_with_logits`: `max(x, 0) - x*y + log1p(exp(-|x|))`.
   * NOTE: both kinks take the x >= 0 side, so the gradient at x = 0 is PyTorch's `0.5 - y`.
   */
  readonly binaryCrossEntropyWithLogits = (input: T, target: T, options: LossOptions = {}): T => {
    const op = 'binary_cross_entropy_with_logits';
    const r = this.checkReduction(op, options.reduction);
    this.sameShapeTarget(op, input, target);
    return this.named(op, () => {
      const pos = this.ge(input, 0);
      const absX = this.where(pos, input, this.neg(input));
      const relu = this.where(pos, input, 0);
      const per = this.add(this.sub(relu, this.mul(input, target)), this.log1p(this.exp(this.neg(absX))));
      return this.reduceLoss(per, r);
    });
  };

  protected sameShapeTarget(op: string, input: T, target: T): void {
    const ti = this.type(input);
    const tt = this.type(target);
    if (!shapesEqual(ti.shape, tt.shape)) {
      throw new ShapeError(`${op}: target ${formatType(tt)} must have the same shape as input ${formatType(ti)}`);
    }
    this.requireFloat(op, input);
    if (tt.dtype !== 'f32') throw new DTypeError(`${op}: target must be f32, got ${formatType(tt)}`);
  }

  // ---- normalization ----

  /** `F.layer_norm` over the trailing `normalizedShape` dims (biased variance). */
  readonly layerNorm = (x: T, normalizedShape: number | readonly number[], weight?: T | null, bias?: T | null, eps = 1e-5): T => {
    const op = 'layer_norm';
    const ns = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    const t = this.type(x);
    this.requireFloat(op, x);
    const k = ns.length;
    if (k === 0 || k > t.shape.length || !shapesEqual(t.shape.slice(t.shape.length - k), ns)) {
      throw new ShapeError(`${op}: normalized_shape ${formatShape(ns)} does not match input ${formatType(t)} (expected trailing dims ${formatShape(ns)})`);
    }
    for (const [name, p] of [['weight', weight], ['bias', bias]] as const) {
      if (p && !shapesEqual(this.shape(p), ns)) {
        throw new ShapeError(`${op}: ${name} ${formatType(this.type(p))} must have shape normalized_shape ${formatShape(ns)}`);
      }
    }
    const axes = ns.map((_, i) => t.shape.length - k + i);
    return this.named(op, () => {
      const n = numel(ns);
      const d = this.sub(x, this.div(this.sumKeep(x, axes), n));
      const v = this.div(this.sumKeep(this.mul(d, d), axes), n);
      const y = this.mul(d, this.rsqrt(this.add(v, eps)));
      const yw = weight ? this.mul(y, weight) : y;
      return bias ? this.add(yw, bias) : yw;
    });
  };

  /**
   * `F.batch_norm` over dim 1. Training mode normalizes with the batch statistics (biased
   * variance) and returns y only: updating the running stats is the caller's job. Eval mode
   * uses `runningMean` / `runningVar`.
   */
  readonly batchNorm = (x: T, runningMean: T | null, runningVar: T | null, weight?: T | null, bias?: T | null, training = false, momentum = 0.1, eps = 1e-5): T => {
    const op = 'batch_norm';
    const t = this.type(x);
    this.requireFloat(op, x);
    if (t.shape.length < 2) throw new ShapeError(`${op}: expected an input of rank >= 2 [N, C, ...], got ${formatType(t)}`);
    const C = t.shape[1]!;
    const params = { running_mean: runningMean, running_var: runningVar, weight, bias };
    for (const [name, p] of Object.entries(params)) {
      if (p && numel(this.shape(p)) !== C) {
        throw new ShapeError(`${op}: ${name} ${formatType(this.type(p))} must have ${C} elements for input ${formatType(t)}`);
      }
    }
    if (!(momentum >= 0)) throw new ArgumentError(`${op}: momentum must be non-negative, got ${momentum}`);
    const axes = t.shape.map((_, i) => i).filter((i) => i !== 1);
    const count = numel(t.shape) / C;
    if (training && count <= 1) {
      throw new ArgumentError(`${op}: expected more than 1 value per channel when training, got input ${formatType(t)}`);
    }
    if (!training && (!runningMean || !runningVar)) {
      throw new ArgumentError(`${op}: running_mean and running_var must be given when training is false`);
    }
    const bshape = t.shape.map((d, i) => (i === 1 ? d : 1));
    return this.named(op, () => {
      const chan = (p: T): T => this.reshape(p, bshape);
      let d: T;
      let v: T;
      if (training) {
        d = this.sub(x, this.div(this.sumKeep(x, axes), count));
        v = this.div(this.sumKeep(this.mul(d, d), axes), count);
      } else {
        d = this.sub(x, chan(runningMean!));
        v = chan(runningVar!);
      }
      const y = this.mul(d, this.rsqrt(this.add(v, eps)));
      const yw = weight ? this.mul(y, chan(weight)) : y;
      return bias ? this.add(yw, chan(bias)) : yw;
    });
  };

  // ---- convolution and pooling ----

  /** `F.conv1d`: [N, C, L] (or [C, L]) with weight [O, C/groups, k]; lowered to conv2d with H = 1. */
  readonly conv1d = (x: T, weight: T, bias?: T | null, stride: Size1 = 1, padding: ConvPadding1 = 0, dilation: Size1 = 1, groups = 1): T =>
    this.convolution('conv1d', 1, x, weight, bias ?? null, stride, padding, dilation, groups);

  /** `F.conv2d`: [N, C, H, W] (or [C, H, W]) with weight [O, C/groups, kh, kw], via unfold + matmul. */
  readonly conv2d = (x: T, weight: T, bias?: T | null, stride: Size2 = 1, padding: ConvPadding = 0, dilation: Size2 = 1, groups = 1): T =>
    this.convolution('conv2d', 2, x, weight, bias ?? null, stride, padding, dilation, groups);

  /** conv1d / conv2d (`nd` spatial dims): validation, then unfold + matmul on a 2-D lift. */
  protected convolution(op: string, nd: 1 | 2, x: T, weight: T, bias: T | null, stride: Size1, padding: ConvPadding1, dilation: Size1, groups: number): T {
    const tx = this.type(x);
    const tw = this.type(weight);
    const batched = tx.shape.length === nd + 2;
    if (!batched && tx.shape.length !== nd + 1) {
      throw new ShapeError(`${op}: expected ${nd + 1}-D (unbatched) or ${nd + 2}-D (batched) input, got ${formatType(tx)}`);
    }
    if (tw.shape.length !== nd + 2) throw new ShapeError(`${op}: expected a ${nd + 2}-D weight, got ${formatType(tw)}`);
    this.checkMatmulDtypes(op, tx, tw);
    if (!Number.isInteger(groups) || groups < 1) throw new ArgumentError(`${op}: groups must be a positive integer, got ${groups}`);
    const C = tx.shape[batched ? 1 : 0]!;
    const O = tw.shape[0]!;
    if (O % groups !== 0) throw new ShapeError(`${op}: weight ${formatType(tw)} has ${O} output channels, not divisible by groups ${groups}`);
    if (tw.shape[1]! * groups !== C) {
      throw new ShapeError(`${op}: input ${formatType(tx)} has ${C} channels, but weight ${formatType(tw)} with groups ${groups} expects ${tw.shape[1]! * groups}`);
    }
    if (bias && !shapesEqual(this.shape(bias), [O])) throw new ShapeError(`${op}: bias ${formatType(this.type(bias))} must have shape [${O}]`);
    const st = this.tuple(op, 'stride', stride, nd, 1);
    const dl = this.tuple(op, 'dilation', dilation, nd, 1);
    const ks = tw.shape.slice(2);
    const spatial = tx.shape.slice(-nd);
    // [before, after] padding per spatial dim
    let pads: [number, number][];
    if (padding === 'valid') pads = ks.map(() => [0, 0]);
    else if (padding === 'same') {
      if (st.some((s) => s !== 1)) throw new ArgumentError(`${op}: padding='same' is not supported for strided convolutions (stride ${JSON.stringify(st)})`);
      pads = ks.map((k, i) => {
        const total = dl[i]! * (k - 1);
        return [Math.floor(total / 2), total - Math.floor(total / 2)];
      });
    } else pads = this.tuple(op, 'padding', padding, nd, 0).map((p) => [p, p]);
    const outSize = spatial.map((n, i) => Math.floor((n + pads[i]![0] + pads[i]![1] - dl[i]! * (ks[i]! - 1) - 1) / st[i]!) + 1);
    if (outSize.some((o) => o < 1)) {
      throw new ShapeError(`${op}: kernel ${formatShape(ks)} (dilation ${JSON.stringify(dl)}) is larger than input ${formatType(tx)} with padding ${JSON.stringify(pads)}`);
    }
    return this.named(op, () => {
      // Lift to batched 2-D: [N, C, H, W] with H = 1 for conv1d.
      const lift = (s: readonly number[], v: number): number[] => (nd === 1 ? [v, s[0]!] : [...s]);
      const N = batched ? tx.shape[0]! : 1;
      const hw = lift(spatial, 1);
      const symmetric = pads.every(([b, a]) => b === a);
      let x4 = this.reshape(x, [N, C, ...hw]);
      if (!symmetric) x4 = this.padPrim(x4, [0, 0, 0, 0, ...(nd === 1 ? [0, 0] : []), ...pads.flat()]);
      const win: Window2 = {
        kernel: lift(ks, 1) as [number, number],
        stride: lift(st, 1) as [number, number],
        padding: (symmetric ? lift(pads.map(([b]) => b), 0) : [0, 0]) as [number, number],
        dilation: lift(dl, 1) as [number, number],
      };
      const L = numel(outSize);
      const K = (C / groups) * numel(ks);
      const pointwise = win.kernel.every((k) => k === 1) && win.stride.every((s) => s === 1) && win.padding.every((p) => p === 0);
      const cols = pointwise ? this.reshape(x4, [N, C, L]) : this.unfold(x4, win);
      let y: T;
      if (groups === 1) y = this.matmulPrim(this.reshape(weight, [O, K]), cols);
      else y = this.matmulPrim(this.reshape(weight, [groups, O / groups, K]), this.reshape(cols, [N, groups, K, L]));
      y = this.reshape(y, [N, O, ...outSize]);
      if (bias) y = this.add(y, this.reshape(bias, [O, ...outSize.map(() => 1)]));
      return batched ? y : this.reshape(y, [O, ...outSize]);
    });
  }

  protected unfold(x4: T, w: Window2): T {
    return this.emit('unfold', [x4], { kernel: w.kernel, stride: w.stride, padding: w.padding, dilation: w.dilation });
  }

  /** Expands an int or a tuple to `n` entries, each an integer >= `min`. */
  protected tuple(op: string, name: string, v: number | readonly number[], n: number, min: number): number[] {
    const out = typeof v === 'number' ? new Array<number>(n).fill(v) : [...v];
    if (out.length !== n || out.some((d) => !Number.isInteger(d) || d < min)) {
      const what = min === 1 ? 'positive' : 'non-negative';
      throw new ArgumentError(`${op}: ${name} must be ${n === 1 ? 'a' : n} ${what} integer${n === 1 ? '' : 's'}, got ${JSON.stringify(v)}`);
    }
    return out;
  }

  /**
   * `F.max_pool2d` on [N, C, H, W] or [C, H, W]: pad with -inf, unfold (padding 0), take
   * the max over each window. `stride` defaults to `kernelSize`.
   */
  readonly maxPool2d = (x: T, kernelSize: Size2, stride?: Size2 | null, padding: Size2 = 0, dilation: Size2 = 1, ceilMode = false): T => {
    const g = this.poolGeometry('max_pool2d', x, kernelSize, stride, padding, dilation, ceilMode);
    return this.named('max_pool2d', () => {
      const [N, C, OH, OW] = g.out;
      const KK = g.win.kernel[0] * g.win.kernel[1];
      const x4 = this.reshape(x, [N, C, ...g.hw]);
      let r: T;
      if (g.tiled) {
        r = this.maxKeep(this.tiles(x4, g.win, OH, OW), [3, 5]);
      } else {
        const padded = this.padPrim(x4, g.pads, -Infinity);
        const cols = this.unfold(padded, { ...g.win, padding: [0, 0] });
        r = this.maxKeep(this.reshape(cols, [N, C, KK, OH * OW]), [2]);
      }
      return this.reshape(r, g.batched ? g.out : g.out.slice(1));
    });
  };

  /**
   * `F.avg_pool2d`; `countIncludePad` counts the zero padding in the divisor (PyTorch's
   * default), `divisorOverride` replaces the divisor.
   */
  readonly avgPool2d = (x: T, kernelSize: Size2, stride?: Size2 | null, padding: Size2 = 0, ceilMode = false, countIncludePad = true, divisorOverride?: number | null): T => {
    if (divisorOverride !== undefined && divisorOverride !== null && !(Number.isInteger(divisorOverride) && divisorOverride > 0)) {
      throw new ArgumentError(`avg_pool2d: divisor_override must be a positive integer, got ${divisorOverride}`);
    }
    const g = this.poolGeometry('avg_pool2d', x, kernelSize, stride, padding, 1, ceilMode);
    return this.named('avg_pool2d', () => {
      const [N, C, OH, OW] = g.out;
      const [H, W] = g.hw;
      const KK = g.win.kernel[0] * g.win.kernel[1];
      const sweep = { ...g.win, padding: [0, 0] as [number, number] };
      const x4 = this.reshape(x, [N, C, H, W]);
      const sums = g.tiled
        ? this.sumKeep(this.tiles(x4, g.win, OH, OW), [3, 5])
        : this.sumKeep(this.reshape(this.unfold(this.padPrim(x4, g.pads, 0), sweep), [N, C, KK, OH * OW]), [2]);
      let divisor: Operand<T>;
      if (divisorOverride) divisor = divisorOverride;
      else if (countIncludePad && !g.ceilExtra) divisor = KK;
      else {
        // Per-window divisor: 1 over the input (and over the padding when it counts), 0 beyond.
        const p = g.pads;
        const ones = this.full([1, 1, H, W], 1);
        const base = countIncludePad ? this.padPrim(ones, [0, 0, 0, 0, p[4]!, p[4]!, p[6]!, p[6]!], 1) : ones;
        const rest = countIncludePad ? [0, 0, 0, 0, 0, p[5]! - p[4]!, 0, p[7]! - p[6]!] : p;
        divisor = this.reshape(this.sumKeep(this.unfold(this.padPrim(base, rest, 0), sweep), [1]), [1, 1, OH, OW]);
      }
      const y = this.div(this.reshape(sums, [N, C, OH, OW]), divisor);
      return g.batched ? y : this.reshape(y, g.out.slice(1));
    });
  };

  /**
   * Windows that tile the input exactly (stride = kernel, no padding or dilation) as a
   * [N, C, OH, kh, OW, kw] view: a reshape instead of im2col.
   */
  protected tiles(x4: T, w: Window2, OH: number, OW: number): T {
    const [N, C] = this.shape(x4) as [number, number];
    const [kh, kw] = w.kernel;
    const cropped = this.slicePrim(x4, [0, 0, 0, 0], [N, C, OH * kh, OW * kw], [1, 1, 1, 1]);
    return this.reshape(cropped, [N, C, OH, kh, OW, kw]);
  }

  /** Validates a pooling call and works out its window, padding (with ceil-mode extra) and output. */
  protected poolGeometry(op: string, x: T, kernelSize: Size2, stride: Size2 | null | undefined, padding: Size2, dilation: Size2, ceilMode: boolean) {
    const t = this.type(x);
    const batched = t.shape.length === 4;
    if (!batched && t.shape.length !== 3) throw new ShapeError(`${op}: expected 3-D (unbatched) or 4-D (batched) input, got ${formatType(t)}`);
    this.requireFloat(op, x);
    const k = this.tuple(op, 'kernel_size', kernelSize, 2, 1);
    const noStride = stride === undefined || stride === null || (typeof stride !== 'number' && stride.length === 0);
    const s = noStride ? k : this.tuple(op, 'stride', stride, 2, 1);
    const p = this.tuple(op, 'padding', padding, 2, 0);
    const d = this.tuple(op, 'dilation', dilation, 2, 1);
    const HW = t.shape.slice(-2);
    const ext = k.map((kk, i) => d[i]! * (kk - 1) + 1);
    if (p.some((pp, i) => pp > ext[i]! / 2)) {
      throw new ArgumentError(`${op}: pad should be at most half of effective kernel size, got padding ${JSON.stringify(p)}, kernel_size ${JSON.stringify(k)}, dilation ${JSON.stringify(d)}`);
    }
    const out = HW.map((n, i) => {
      const span = n + 2 * p[i]! - ext[i]!;
      let o = (ceilMode ? Math.ceil(span / s[i]!) : Math.floor(span / s[i]!)) + 1;
      if (ceilMode && (o - 1) * s[i]! >= n + p[i]!) o--;
      return o;
    });
    if (out.some((o) => o < 1)) {
      throw new ShapeError(`${op}: output size is too small for input ${formatType(t)} with kernel_size ${JSON.stringify(k)}, stride ${JSON.stringify(s)}, padding ${JSON.stringify(p)}`);
    }
    const extra = HW.map((n, i) => Math.max(0, (out[i]! - 1) * s[i]! + ext[i]! - (n + 2 * p[i]!)));
    const [N, C] = batched ? [t.shape[0]!, t.shape[1]!] : [1, t.shape[0]!];
    const win: Window2 = { kernel: [k[0]!, k[1]!], stride: [s[0]!, s[1]!], padding: [p[0]!, p[1]!], dilation: [d[0]!, d[1]!] };
    const tiled = p.every((v) => v === 0) && d.every((v) => v === 1) && k.every((v, i) => v === s[i]) && extra.every((e) => e === 0);
    return {
      hw: [HW[0]!, HW[1]!] as [number, number],
      win,
      batched,
      tiled,
      ceilExtra: extra.some((e) => e > 0),
      pads: [0, 0, 0, 0, p[0]!, p[0]! + extra[0]!, p[1]!, p[1]! + extra[1]!],
      out: [N, C, out[0]!, out[1]!] as [number, number, number, number],
    };
  }

  /**
   * `F.adaptive_avg_pool2d`: output cell i averages input rows floor(i*H/o) .. ceil((i+1)*H/o).
   * Evenly dividing dims pool by reshape; the others by an averaging matrix built from iota.
   */
  readonly adaptiveAvgPool2d = (x: T, outputSize: number | readonly (number | null)[]): T => {
    const op = 'adaptive_avg_pool2d';
    const t = this.type(x);
    if (t.shape.length !== 3 && t.shape.length !== 4) throw new ShapeError(`${op}: expected 3-D (unbatched) or 4-D (batched) input, got ${formatType(t)}`);
    this.requireFloat(op, x);
    const HW = t.shape.slice(-2);
    const raw = typeof outputSize === 'number' ? [outputSize, outputSize] : [...outputSize];
    const o = raw.map((v, i) => v ?? HW[i]!);
    if (o.length !== 2 || o.some((v) => !Number.isInteger(v) || v < 1)) {
      throw new ArgumentError(`${op}: output_size must be one or two positive integers, got ${JSON.stringify(outputSize)}`);
    }
    return this.named(op, () => {
      const r = t.shape.length;
      let y = this.adaptiveDim(x, r - 2, o[0]!);
      y = this.adaptiveDim(y, r - 1, o[1]!);
      return y;
    });
  };

  /** Adaptive average pooling of one of the last two dims (`axis`) to `o` cells. */
  protected adaptiveDim(x: T, axis: number, o: number): T {
    const s = this.shape(x);
    const n = s[axis]!;
    if (n === o) return x;
    const last = axis === s.length - 1;
    if (n % o === 0) {
      const k = n / o;
      const split = [...s.slice(0, axis), o, k, ...s.slice(axis + 1)];
      const r = this.sumKeep(this.reshape(x, split), [axis + 1]);
      return this.div(this.reshape(r, s.map((d, i) => (i === axis ? o : d))), k);
    }
    // P[i, h] = 1 / count_i for start_i <= h < end_i. Built as [o, n] (rows) or [n, o] (last dim).
    const shape = last ? [n, o] : [o, n];
    const cell = this.iota(shape, last ? 1 : 0, 'f32');
    const pos = this.iota(shape, last ? 0 : 1, 'f32');
    const start = this.floor(this.div(this.mul(cell, n), o));
    const end = this.neg(this.floor(this.div(this.mul(this.add(cell, 1), -n), o)));
    const inside = this.cast(this.logicalAnd(this.ge(pos, start), this.lt(pos, end)), 'f32');
    const p = this.div(inside, this.sumKeep(inside, [last ? 0 : 1]));
    return last ? this.matmulPrim(x, p) : this.matmulPrim(p, x);
  }

  // ---- embedding, dropout, one-hot ----

  /** `F.embedding`: rows of `weight` [V, D] picked by integer `index` of any shape. */
  readonly embedding = (index: T, weight: T): T => {
    const op = 'embedding';
    const ti = this.type(index);
    const tw = this.type(weight);
    requireIndex(op, ti);
    if (tw.shape.length !== 2) throw new ShapeError(`${op}: weight must be 2-D [num_embeddings, embedding_dim], got ${formatType(tw)}`);
    return this.named(op, () => {
      const n = numel(ti.shape);
      const D = tw.shape[1]!;
      const idx = this.expandTo(this.reshape(index, [n, 1]), [n, D]);
      return this.reshape(this.gatherPrim(weight, idx, 0), [...ti.shape, D]);
    });
  };

  /**
   * `F.dropout`: identity when `p == 0` or not training; otherwise the emitter must offer
   * `rand(shape)` (see EmitterHooks), since the IR has no implicit random source.
   */
  readonly dropout = (x: T, p = 0.5, training = true): T => {
    if (!(p >= 0 && p <= 1)) throw new ArgumentError(`dropout: probability has to be between 0 and 1, but got ${p}`);
    if (!training || p === 0) return x;
    const hooks = this.hooks;
    if (p === 1) return this.named('dropout', () => this.mul(x, 0));
    if (!hooks.rand) {
      throw new ArgumentError(`dropout: this emitter has no random source (p=${p}, training=true); use p=0 or training=false, or an emitter with rand(shape)`);
    }
    return this.named('dropout', () => {
      const keep = this.lt(hooks.rand!(this.shape(x)), 1 - p);
      return this.mul(x, this.mul(this.cast(keep, 'f32'), 1 / (1 - p)));
    });
  };

  /**
   * `F.one_hot`: i32 [..., numClasses]. `numClasses = -1` means max(index) + 1, which needs
   * concrete values: only emitters with `peek` (eager) can resolve it.
   */
  readonly oneHot = (index: T, numClasses = -1): T => {
    const op = 'one_hot';
    const ti = this.type(index);
    requireIndex(op, ti);
    if (!Number.isInteger(numClasses) || numClasses < -1) throw new ArgumentError(`${op}: num_classes must be -1 or a non-negative integer, got ${numClasses}`);
    const values = this.hooks.peek?.(index);
    let C = numClasses;
    if (values) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < values.length; i++) {
        lo = Math.min(lo, values[i]!);
        hi = Math.max(hi, values[i]!);
      }
      if (lo < 0) throw new ArgumentError(`${op}: class values must be non-negative, got ${lo} in ${formatType(ti)}`);
      if (C === -1) C = values.length === 0 ? 0 : hi + 1;
      else if (hi >= C) throw new ArgumentError(`${op}: class values must be smaller than num_classes (${C}), got ${hi}`);
    } else if (C === -1) {
      throw new ArgumentError(`${op}: num_classes=-1 needs the index values, which this emitter does not know for ${formatType(ti)}; pass num_classes`);
    }
    return this.named(op, () => {
      const r = ti.shape.length;
      const classes = this.iota([...ti.shape, C], r, 'i32');
      return this.cast(this.eq(this.unsqueeze(index, -1), classes), 'i32');
    });
  };
}

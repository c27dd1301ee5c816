import { zerosLike } from '../frontend-eager/factories.js';
import { F, type Tensor } from '../frontend-eager/tensor.js';
import { check, Optimizer, type ParamGroup, type Params, scalar } from './optimizer.js';

export interface RMSpropOptions {
  lr: number;
  /** Smoothing constant of the squared-gradient average. */
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  /** Normalize by an estimate of the gradient's variance instead of its second moment. */
  centered: boolean;
  maximize: boolean;
}

export type RMSpropState = { step: number; squareAvg: Tensor; momentumBuffer?: Tensor; gradAvg?: Tensor };

/**
 * RMSprop (`torch.optim.RMSprop`, same update rule and defaults: lr 1e-2, alpha 0.99,
 * eps 1e-8).
 *
 * ```text
 * g = grad + weightDecay * p;  v = alpha * v + (1 - alpha) * g^2
 * centered: gAvg = lerp(gAvg, g, 1 - alpha);  avg = sqrt(v - gAvg^2) + eps,  else avg = sqrt(v) + eps
 * momentum > 0: b = momentum * b + g / avg;  p = p - lr * b,   else p = p - lr * g / avg
 * ```
 *
 * ```ts
 * const opt = new RMSprop(params, { lr: 1e-3, momentum: 0.9, centered: true });
 * ```
 */
export class RMSprop extends Optimizer<RMSpropOptions, RMSpropState> {
  constructor(params: Params<RMSpropOptions>, opts: Partial<RMSpropOptions> = {}) {
    const d: RMSpropOptions = { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false, ...opts };
    check('RMSprop', d.lr >= 0, 'learning rate', d.lr);
    check('RMSprop', d.eps >= 0, 'epsilon value', d.eps);
    check('RMSprop', d.momentum >= 0, 'momentum value', d.momentum);
    check('RMSprop', d.weightDecay >= 0, 'weightDecay value', d.weightDecay);
    check('RMSprop', d.alpha >= 0, 'alpha value', d.alpha);
    super('RMSprop', params, d);
  }

  protected update(group: ParamGroup<RMSpropOptions>): void {
    const { alpha, weightDecay, momentum, centered, maximize } = group;
    const lr = scalar(group.lr);
    const a = scalar(alpha);
    const oneMinusA = scalar(1 - alpha);
    const eps = scalar(group.eps);
    const wd = scalar(weightDecay);
    const mom = scalar(momentum);
    for (const p of group.params) {
      if (p.grad === null) continue;
      const s = this.stateOf(p, () => ({ step: 0, squareAvg: zerosLike(p) }));
      s.step += 1;
      let g = maximize ? F.neg(p.grad) : p.grad;
      if (weightDecay !== 0) g = F.add(g, F.mul(p, wd));
      s.squareAvg.mul_(a).add_(F.mul(F.mul(g, g), oneMinusA));
      let avg: Tensor;
      if (centered) {
        s.gradAvg ??= zerosLike(p);
        // grad_avg.lerp_(grad, 1 - alpha)
        if (1 - alpha < 0.5) s.gradAvg.add_(F.mul(F.sub(g, s.gradAvg), oneMinusA));
        else s.gradAvg.copy_(F.sub(g, F.mul(F.sub(g, s.gradAvg), a)));
        avg = F.sqrt(F.sub(s.squareAvg, F.mul(s.gradAvg, s.gradAvg)));
      } else {
        avg = F.sqrt(s.squareAvg);
      }
      avg = F.add(avg, eps);
      if (momentum > 0) {
        s.momentumBuffer ??= zerosLike(p);
        s.momentumBuffer.mul_(mom).add_(F.div(g, avg));
        p.sub_(F.mul(s.momentumBuffer, lr));
      } else {
        p.sub_(F.mul(F.div(g, avg), lr));
      }
    }
  }
}

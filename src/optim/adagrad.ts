import { fullLike } from '../frontend-eager/factories.js';
import { F, type Tensor } from '../frontend-eager/tensor.js';
import { check, Optimizer, type ParamGroup, type Params, scalar } from './optimizer.js';

export interface AdagradOptions {
  lr: number;
  /** The learning rate at step t is lr / (1 + (t - 1) * lrDecay). */
  lrDecay: number;
  weightDecay: number;
  /** The starting value of the sum of squared gradients. */
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}

export type AdagradState = { step: number; sum: Tensor };

/**
 * Adagrad (`torch.optim.Adagrad`, same update rule and defaults: lr 1e-2, eps 1e-10).
 *
 * ```text
 * g = grad + weightDecay * p;  clr = lr / (1 + (t - 1) * lrDecay)
 * s = s + g^2;  p = p - clr * g / (sqrt(s) + eps)
 * ```
 *
 * ```ts
 * const opt = new Adagrad(params, { lr: 0.1, initialAccumulatorValue: 0.1 });
 * ```
 */
export class Adagrad extends Optimizer<AdagradOptions, AdagradState> {
  constructor(params: Params<AdagradOptions>, opts: Partial<AdagradOptions> = {}) {
    const d: AdagradOptions = { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, ...opts };
    check('Adagrad', d.lr >= 0, 'learning rate', d.lr);
    check('Adagrad', d.lrDecay >= 0, 'lrDecay value', d.lrDecay);
    check('Adagrad', d.weightDecay >= 0, 'weightDecay value', d.weightDecay);
    check('Adagrad', d.initialAccumulatorValue >= 0, 'initialAccumulatorValue value', d.initialAccumulatorValue);
    check('Adagrad', d.eps >= 0, 'epsilon value', d.eps);
    super('Adagrad', params, d);
    // PyTorch creates the accumulators up front, so they are in the state dict from the start.
    for (const g of this.paramGroups) for (const p of g.params) this.stateOf(p, () => this.initState(p, g));
  }

  private initState(p: Tensor, group: ParamGroup<AdagradOptions>): AdagradState {
    return { step: 0, sum: fullLike(p, group.initialAccumulatorValue) };
  }

  protected update(group: ParamGroup<AdagradOptions>): void {
    const { lr, lrDecay, weightDecay, maximize } = group;
    const eps = scalar(group.eps);
    const wd = scalar(weightDecay);
    for (const p of group.params) {
      if (p.grad === null) continue;
      const s = this.stateOf(p, () => this.initState(p, group));
      s.step += 1;
      let g = maximize ? F.neg(p.grad) : p.grad;
      if (weightDecay !== 0) g = F.add(g, F.mul(p, wd));
      const clr = scalar(lr / (1 + (s.step - 1) * lrDecay));
      s.sum.add_(F.mul(g, g));
      p.sub_(F.mul(F.div(g, F.add(F.sqrt(s.sum), eps)), clr));
    }
  }
}

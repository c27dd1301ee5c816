import { zerosLike } from '../frontend-eager/factories.js';
import { F, type Tensor } from '../frontend-eager/tensor.js';
import { check, Optimizer, type ParamGroup, type Params, scalar } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  /** Decay rates of the first and second moment estimates. */
  betas: [number, number];
  eps: number;
  /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay, `p *= 1 - lr * weightDecay`. */
  weightDecay: number;
  /** Use the maximum of past second moments (AMSGrad). */
  amsgrad: boolean;
  maximize: boolean;
}

export type AdamState = { step: number; expAvg: Tensor; expAvgSq: Tensor; maxExpAvgSq?: Tensor };

function validate(who: string, d: AdamOptions): void {
  check(who, d.lr >= 0, 'learning rate', d.lr);
  check(who, d.eps >= 0, 'epsilon value', d.eps);
  check(who, d.betas[0] >= 0 && d.betas[0] < 1, 'beta parameter at index 0', d.betas[0]);
  check(who, d.betas[1] >= 0 && d.betas[1] < 1, 'beta parameter at index 1', d.betas[1]);
  check(who, d.weightDecay >= 0, 'weightDecay value', d.weightDecay);
}

/** The shared Adam/AdamW update (PyTorch's single-tensor `_single_tensor_adam`). */
abstract class AdamBase extends Optimizer<AdamOptions, AdamState> {
  protected abstract readonly decoupled: boolean;

  protected update(group: ParamGroup<AdamOptions>): void {
    const { lr, betas, eps, weightDecay, amsgrad, maximize } = group;
    const [beta1, beta2] = betas;
    const b1 = scalar(beta1);
    const b2 = scalar(beta2);
    const oneMinusB1 = scalar(1 - beta1);
    const oneMinusB2 = scalar(1 - beta2);
    const epsT = scalar(eps);
    const wd = scalar(weightDecay);
    const decay = scalar(1 - lr * weightDecay);
    for (const p of group.params) {
      if (p.grad === null) continue;
      const s = this.stateOf(p, () => ({
        step: 0,
        expAvg: zerosLike(p),
        expAvgSq: zerosLike(p),
        ...(amsgrad ? { maxExpAvgSq: zerosLike(p) } : {}),
      }));
      s.step += 1;
      let g = maximize ? F.neg(p.grad) : p.grad;
      if (weightDecay !== 0) {
        if (this.decoupled) p.mul_(decay);
        else g = F.add(g, F.mul(p, wd));
      }
      // exp_avg.lerp_(grad, 1 - beta1); lerp's other branch is for weights >= 0.5.
      if (1 - beta1 < 0.5) s.expAvg.add_(F.mul(F.sub(g, s.expAvg), oneMinusB1));
      else s.expAvg.copy_(F.sub(g, F.mul(F.sub(g, s.expAvg), b1)));
      s.expAvgSq.mul_(b2).add_(F.mul(F.mul(g, g), oneMinusB2));

      const biasCorrection1 = 1 - beta1 ** s.step;
      const biasCorrection2 = 1 - beta2 ** s.step;
      const stepSize = scalar(lr / biasCorrection1);
      const bc2Sqrt = scalar(Math.sqrt(biasCorrection2));
      let second = s.expAvgSq;
      if (amsgrad) {
        s.maxExpAvgSq ??= zerosLike(p);
        s.maxExpAvgSq.copy_(F.maximum(s.maxExpAvgSq, s.expAvgSq));
        second = s.maxExpAvgSq;
      }
      const denom = F.add(F.div(F.sqrt(second), bc2Sqrt), epsT);
      p.sub_(F.mul(F.div(s.expAvg, denom), stepSize));
    }
  }
}

/**
 * Adam (`torch.optim.Adam`, same update rule and defaults: lr 1e-3, betas [0.9, 0.999],
 * eps 1e-8). Weight decay is an L2 penalty added to the gradient; see `AdamW` for the
 * decoupled form.
 *
 * ```text
 * g = grad + weightDecay * p;  m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g^2
 * vmax = max(vmax, v)                                           (amsgrad)
 * p = p - lr / (1 - beta1^t) * m / (sqrt(v or vmax) / sqrt(1 - beta2^t) + eps)
 * ```
 *
 * ```ts
 * const opt = new Adam(params, { lr: 3e-3 });
 * loss.backward();
 * opt.step();
 * ```
 */
export class Adam extends AdamBase {
  protected readonly decoupled: boolean = false;

  constructor(params: Params<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    const d: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...opts };
    d.betas = [d.betas[0], d.betas[1]];
    validate('Adam', d);
    super('Adam', params, d);
  }
}

/**
 * AdamW (`torch.optim.AdamW`): Adam with decoupled weight decay, `p *= 1 - lr * weightDecay`
 * before the Adam update. Defaults as in PyTorch (weightDecay 1e-2).
 *
 * ```ts
 * const opt = new AdamW(params, { lr: 1e-3, weightDecay: 0.05, amsgrad: true });
 * ```
 */
export class AdamW extends AdamBase {
  protected readonly decoupled: boolean = true;

  constructor(params: Params<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    const d: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, ...opts };
    d.betas = [d.betas[0], d.betas[1]];
    validate('AdamW', d);
    super('AdamW', params, d);
  }
}

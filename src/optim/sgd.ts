import { F, type Tensor } from '../frontend-eager/tensor.js';
import { check, Optimizer, type ParamGroup, type Params, scalar } from './optimizer.js';

export interface SGDOptions {
  /** Learning rate (default 1e-3, as in PyTorch). */
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  /** L2 penalty, added to the gradient. */
  weightDecay: number;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

export type SGDState = { momentumBuffer?: Tensor };

/**
 * Stochastic gradient descent with optional momentum (`torch.optim.SGD`, same update rule):
 *
 * ```text
 * g = grad (negated if maximize) + weightDecay * p
 * b = g on the first step, else momentum * b + (1 - dampening) * g      (if momentum != 0)
 * g = nesterov ? g + momentum * b : b
 * p = p - lr * g
 * ```
 *
 * ```ts
 * const opt = new SGD(params, { lr: 0.1, momentum: 0.9, nesterov: true });
 * loss.backward();
 * opt.step();
 * opt.zeroGrad();
 * ```
 */
export class SGD extends Optimizer<SGDOptions, SGDState> {
  constructor(params: Params<SGDOptions>, opts: Partial<SGDOptions> = {}) {
    const d: SGDOptions = { lr: 1e-3, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false, ...opts };
    check('SGD', d.lr >= 0, 'learning rate', d.lr);
    check('SGD', d.momentum >= 0, 'momentum value', d.momentum);
    check('SGD', d.weightDecay >= 0, 'weightDecay value', d.weightDecay);
    check('SGD', !d.nesterov || (d.momentum > 0 && d.dampening === 0), 'nesterov setting (Nesterov momentum requires a momentum and zero dampening)', d.nesterov);
    super('SGD', params, d);
  }

  protected update(group: ParamGroup<SGDOptions>): void {
    const { momentum, dampening, nesterov, weightDecay, maximize } = group;
    const lr = scalar(group.lr);
    const mom = scalar(momentum);
    const keep = scalar(1 - dampening);
    const wd = scalar(weightDecay);
    for (const p of group.params) {
      if (p.grad === null) continue;
      let g = maximize ? F.neg(p.grad) : p.grad;
      if (weightDecay !== 0) g = F.add(g, F.mul(p, wd));
      if (momentum !== 0) {
        const state = this.stateOf(p, () => ({}));
        let buf = state.momentumBuffer;
        if (buf === undefined) {
          // NOTE: PyTorch starts the buffer at the first gradient, without dampening.
          buf = F.clone(g);
          state.momentumBuffer = buf;
        } else {
          buf.mul_(mom).add_(F.mul(g, keep));
        }
        g = nesterov ? F.add(g, F.mul(buf, mom)) : buf;
      }
      p.sub_(F.mul(g, lr));
    }
  }
}

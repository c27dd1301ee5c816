import { realizeAll, type Tensor } from '../frontend-eager/index.js';
import type { Module } from '../stdlib-nn/module.js';
import { clipGradNorm_ } from './clip-grad.js';
import type { BaseHyper, Optimizer, ParamState } from './optimizer.js';

export interface TrainStepOptions {
  /** Clip the gradients' total L2 norm to this before the update (`clipGradNorm_`). */
  clipGradNorm?: number | null;
}

/** One compiled training step: `(x, y) → loss`, updating the model and optimizer state. */
export type TrainStep = (x: Tensor, y: Tensor) => Tensor;

/**
 * Builds a training step whose forward pass, backward pass and optimizer update (with
 * gradient clipping and batch-norm statistics) are one graph: nothing is computed until the
 * end of the step, then the loss, the new parameters, the optimizer state and the module
 * buffers are computed together — fused, with one cached executable reused every step.
 * It gives the same numbers as the eager step (`backward(); step(); zeroGrad()`).
 *
 * ```ts
 * const step = compileStep(model, (out, y) => F.crossEntropy(out, y), new optim.SGD(model.parameters(), { lr: 0.1 }));
 * for (const [x, y] of loader) step(x, y);
 * ```
 */
export function compileStep(
  model: Module,
  lossFn: (out: Tensor, target: Tensor) => Tensor,
  optimizer: Optimizer<BaseHyper, ParamState>,
  opts: TrainStepOptions = {},
): TrainStep {
  const params = [...model.parameters()];
  return (x, y) => {
    optimizer.zeroGrad();
    const out = model.callWith([x]) as Tensor;
    const loss = lossFn(out, y);
    loss.backward(null, { lazy: true });
    if (opts.clipGradNorm !== undefined && opts.clipGradNorm !== null) clipGradNorm_(params, opts.clipGradNorm);
    const updated = optimizer.stepLazy();
    realizeAll([loss, ...updated, ...model.buffers()]);
    optimizer.zeroGrad();
    return loss;
  };
}

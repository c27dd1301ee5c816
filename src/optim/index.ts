/**
 * kiln's `torch.optim`: optimizers with PyTorch's update rules and defaults, learning-rate
 * schedulers, and gradient clipping.
 *
 * ```ts
 * import { optim } from 'kiln';
 * const opt = new optim.Adam(params, { lr: 3e-3 });
 * const sched = new optim.CosineAnnealingLR(opt, 20);
 * ```
 */
export { Adagrad, type AdagradOptions, type AdagradState } from './adagrad.js';
export { Adam, type AdamOptions, type AdamState, AdamW } from './adam.js';
export { clipGradNorm_, clipGradValue_ } from './clip-grad.js';
export {
  CosineAnnealingLR,
  ExponentialLR,
  type JsonValue,
  LRScheduler,
  OneCycleLR,
  type OneCycleOptions,
  type SchedulerStateDict,
  StepLR,
} from './lr-scheduler.js';
export {
  type BaseHyper,
  type HyperValue,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type Params,
  type ParamState,
} from './optimizer.js';
export { RMSprop, type RMSpropOptions, type RMSpropState } from './rmsprop.js';
export { SGD, type SGDOptions, type SGDState } from './sgd.js';
export { compileStep, type TrainStep, type TrainStepOptions } from './train-step.js';

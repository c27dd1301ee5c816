/**
 * Everything of `torch.nn` that kiln has, as one namespace (`index.ts` exports it as `nn`):
 * `new nn.Linear(64, 10)`, `nn.init.kaimingUniform_(w)`, `nn.CrossEntropyLoss`.
 */
export { ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh } from './activation.js';
export { ModuleList, Sequential } from './container.js';
export { Conv1d, Conv2d, type ConvOptions } from './conv.js';
export * as init from './init.js';
export { Dropout, Embedding, Flatten, Identity, Linear, Unflatten } from './linear.js';
export {
  BCELoss,
  BCEWithLogitsLoss,
  CrossEntropyLoss,
  type CrossEntropyLossOptions,
  L1Loss,
  type LossModuleOptions,
  MSELoss,
  NLLLoss,
  SmoothL1Loss,
} from './loss.js';
export {
  type ForwardHook,
  type ForwardPreHook,
  type IncompatibleKeys,
  type LoadStateDictOptions,
  Module,
  type NamedOptions,
  type RemovableHandle,
  sourceOf,
  type StateDict,
} from './module.js';
export { BatchNorm1d, BatchNorm2d, type BatchNormOptions, LayerNorm, type LayerNormOptions } from './normalization.js';
export { AdaptiveAvgPool2d, AvgPool2d, type AvgPool2dOptions, MaxPool2d, type MaxPool2dOptions } from './pooling.js';

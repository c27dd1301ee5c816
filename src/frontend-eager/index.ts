import { Function, FunctionCtx } from './function.js';
import { autogradGrad } from './tensor.js';

export { AccumulateGrad, type BackwardOptions, type GradHook, GradNode, type GradOptions } from './autograd.js';
export { applyGraph, runGraph, trace, type Traced } from './capture.js';
export { jit, type Jitted } from './jit.js';
export * from './factories.js';
export { Function, FunctionCtx } from './function.js';
export { grad, jvp, valueAndGrad, vjp } from './functional.js';
export { enableGrad, isGradEnabled, noGrad, setGradEnabled } from './grad-mode.js';
export * from './ops.js';
export { Generator, manualSeed } from './random.js';
export { F, isTraced, type NestedArray, realizeAll, setWarningHandler, Tensor } from './tensor.js';

/** PyTorch's `torch.autograd` namespace. */
export const autograd = { grad: autogradGrad, Function, FunctionCtx };

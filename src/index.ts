/**
 * kiln: a compiler-first deep-learning toolkit for TypeScript.
 *
 * ```ts
 * import { tensor } from 'kiln';
 * const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * x.mul(x).sum().backward();
 * console.log(x.grad?.toString()); // tensor([[2., 4.], [6., 8.]])
 * ```
 */
export * from './frontend-eager/index.js';
export * as ir from './ir/index.js';
export * as autodiff from './autodiff/index.js';
export * as runtime from './runtime/index.js';
export { nn, loadFile, saveFile, parseSafetensors, serializeSafetensors } from './stdlib-nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
export { ArgumentError, AutogradError, CompileError, DTypeError, IndexError, IRParseError, IRVerifyError, KilnError, ShapeError } from './ir/errors.js';

import { NNOps } from './nn.js';

/**
 * The whole op vocabulary (PyTorch's names in camelCase) over any emitter: an IR graph
 * builder, eager tensors, or a tracer.
 *
 * ```ts
 * const b = new GraphBuilder('mlp');
 * const o = new Ops(b);
 * const x = b.param('x', tensorType('f32', [32, 784]));
 * const w = b.param('w', tensorType('f32', [10, 784]));
 * const loss = o.crossEntropy(o.linear(x, w), b.param('y', tensorType('i32', [32])));
 * ```
 * NOTE: methods are arrow-function fields, so `const { relu, linear } = new Ops(e)` works.
 */
export class Ops<T> extends NNOps<T> {}

export { PrimOps, inferReshape, promoteDtypes } from './prim.js';
export type { Operand } from './prim.js';
export { ShapeOps, dimOf, dimsOf, pySliceBounds, requireIndex } from './shape.js';
export { MathOps } from './math.js';
export type { Dims, NormOrder, VarOptions } from './math.js';
export { NNOps } from './nn.js';
export type { ConvPadding, ConvPadding1, CrossEntropyOptions, EmitterHooks, LossOptions, NllLossOptions, Reduction, Size1, Size2 } from './nn.js';

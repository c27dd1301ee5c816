import { ArgumentError } from '../errors.js';
import type { Attrs } from '../graph.js';
import type { TensorType } from '../types.js';
import { tensorType } from '../types.js';
import { convOps } from './conv.js';
import type { OpDef } from './define.js';
import { elementwiseOps } from './elementwise.js';
import { indexOps } from './indexing.js';
import { linalgOps } from './linalg.js';
import { movementOps } from './movement.js';
import { reduceOps } from './reduce.js';
import { sourceOps } from './source.js';

/** The primitive registry: every op of the IR, defined once. */
export const ops = {
  ...sourceOps,
  ...elementwiseOps,
  ...reduceOps,
  ...movementOps,
  ...indexOps,
  ...linalgOps,
  ...convOps,
} satisfies Record<string, OpDef>;

export type OpName = keyof typeof ops;

export function isOpName(name: string): name is OpName {
  return Object.hasOwn(ops, name);
}

export function opDef(name: OpName): OpDef {
  return ops[name];
}

/** Applies an op's arity, shape and dtype rules; errors name the op and what arrived. */
export function inferType(op: OpName, inputs: readonly TensorType[], attrs: Attrs): TensorType {
  const def: OpDef = ops[op];
  const ok = def.arity === 'variadic' ? inputs.length >= 1 : inputs.length === def.arity;
  if (!ok) {
    throw new ArgumentError(`${op}: expected ${def.arity === 'variadic' ? 'at least 1' : def.arity} inputs, got ${inputs.length}`);
  }
  const dtype = def.dtype(inputs, attrs);
  return tensorType(dtype, def.shape(inputs, attrs));
}

export type { OpDef, OpFamily } from './define.js';

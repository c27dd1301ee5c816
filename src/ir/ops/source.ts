import { ArgumentError } from '../errors.js';
import type { Attrs } from '../graph.js';
import { type NDArray, unravel } from '../ndarray.js';
import type { TensorType } from '../types.js';
import { normalizeAxis } from '../types.js';
import { defineOp, dtypeAttr, intAttr, intsAttr, numAttr } from './define.js';

function shapeAttr(op: string, attrs: Attrs): number[] {
  const shape = intsAttr(op, attrs, 'shape');
  if (shape.some((d) => d < 0)) throw new ArgumentError(`${op}: negative dimension in shape ${JSON.stringify(shape)}`);
  return shape;
}

export const sourceOps = {
  /** A tensor filled with one value: `const {dtype="f32", shape=[], value=0.5}`. */
  const: defineOp({
    name: 'const',
    family: 'source',
    arity: 0,
    shape: (_inputs: readonly TensorType[], attrs: Attrs) => shapeAttr('const', attrs),
    dtype: (_inputs: readonly TensorType[], attrs: Attrs) => dtypeAttr('const', attrs, 'dtype'),
    eval: (_inputs: readonly NDArray[], out: NDArray, attrs: Attrs) => {
      out.data.fill(numAttr('const', attrs, 'value'));
    },
  }),
  /** Each element's index along `axis`: the building block of arange, one_hot, tril. */
  iota: defineOp({
    name: 'iota',
    family: 'source',
    arity: 0,
    shape: (_inputs: readonly TensorType[], attrs: Attrs) => {
      const shape = shapeAttr('iota', attrs);
      normalizeAxis('iota', intAttr('iota', attrs, 'axis'), shape.length);
      return shape;
    },
    dtype: (_inputs: readonly TensorType[], attrs: Attrs) => dtypeAttr('iota', attrs, 'dtype'),
    eval: (_inputs: readonly NDArray[], out: NDArray, attrs: Attrs) => {
      const axis = normalizeAxis('iota', intAttr('iota', attrs, 'axis'), out.shape.length);
      const idx = new Array<number>(out.shape.length).fill(0);
      for (let i = 0; i < out.data.length; i++) out.data[i] = unravel(i, out.shape, idx)[axis] ?? 0;
    },
  }),
};

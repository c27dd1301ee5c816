import type { OpName } from '../ir/ops/index.js';

/** What a template table of elementwise ops says for an op that has no template. */
export const NOT_ELEMENTWISE = 'not elementwise: its own kernel' as const;

/**
 * The ops no elementwise template covers: constants, casts, reductions, movement, GEMMs and
 * the other kernels of their own. Each code generator's table spreads this in, then lists a
 * template for every other op (`satisfies Record<OpName, ...>` checks that none is missing).
 */
export const notElementwise = {
  const: NOT_ELEMENTWISE,
  iota: NOT_ELEMENTWISE,
  cast: NOT_ELEMENTWISE,
  sum: NOT_ELEMENTWISE,
  prod: NOT_ELEMENTWISE,
  max: NOT_ELEMENTWISE,
  min: NOT_ELEMENTWISE,
  argmax: NOT_ELEMENTWISE,
  argmin: NOT_ELEMENTWISE,
  cumsum: NOT_ELEMENTWISE,
  reshape: NOT_ELEMENTWISE,
  permute: NOT_ELEMENTWISE,
  expand: NOT_ELEMENTWISE,
  slice: NOT_ELEMENTWISE,
  unslice: NOT_ELEMENTWISE,
  pad: NOT_ELEMENTWISE,
  flip: NOT_ELEMENTWISE,
  concat: NOT_ELEMENTWISE,
  gather: NOT_ELEMENTWISE,
  scatter_add: NOT_ELEMENTWISE,
  matmul: NOT_ELEMENTWISE,
  unfold: NOT_ELEMENTWISE,
  fold: NOT_ELEMENTWISE,
} as const satisfies Partial<Record<OpName, typeof NOT_ELEMENTWISE>>;

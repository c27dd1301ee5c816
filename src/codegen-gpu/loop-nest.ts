/**
 * What codegen-gpu reads: a fused pointwise or reduce kernel as a loop nest, in the form
 * codegen-js's `lowerKernel` produces. codegen-gpu may import only `ir` (DESIGN.md), so the
 * contract is restated here structurally; runtime/gpu.ts hands `lowerKernel(k)` in, and tsc
 * checks at that call that the two definitions agree.
 */
import type { OpName } from '../ir/ops/index.js';
import type { DType } from '../ir/types.js';

/** Integer index arithmetic over loop variables (codegen-js/index-expr.ts). */
export type IExpr =
  | { readonly t: 'aff'; readonly terms: ReadonlyMap<number, number>; readonly c: number }
  | { readonly t: 'div' | 'mod' | 'mul'; readonly a: IExpr; readonly d: number }
  | { readonly t: 'sum'; readonly parts: readonly IExpr[] };

/** A guard on loop indices (padding, strided placement, concatenation ranges). */
export type Cond =
  | { readonly t: 'range'; readonly e: IExpr; readonly lo: number; readonly hi: number }
  | { readonly t: 'divisible'; readonly e: IExpr; readonly d: number };

/** A scalar expression evaluated once per output (or reduced) element. */
export type SExpr =
  | { readonly t: 'load'; readonly input: number; readonly index: IExpr; readonly dtype: DType }
  | { readonly t: 'const'; readonly value: number; readonly dtype: DType }
  | { readonly t: 'index'; readonly index: IExpr; readonly dtype: DType }
  | { readonly t: 'op'; readonly op: OpName; readonly args: readonly SExpr[]; readonly dtype: DType }
  | { readonly t: 'cast'; readonly arg: SExpr; readonly dtype: DType }
  | { readonly t: 'select'; readonly conds: readonly Cond[]; readonly a: SExpr; readonly b: SExpr; readonly dtype: DType };

/**
 * Loops over `extents` (row-major); the first `outerLoops` enumerate the output in row-major
 * order, the rest (reduce kernels only) are combined with `reduce`.
 */
export interface LoopNest {
  readonly extents: readonly number[];
  readonly body: SExpr;
  readonly out: IExpr;
  readonly outSize: number;
  readonly outDtype: DType;
  readonly reduce: 'sum' | 'max' | 'min' | 'prod' | null;
  readonly outerLoops: number;
}

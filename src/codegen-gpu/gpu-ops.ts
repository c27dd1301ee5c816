/**
 * The gpu backend's capability table: how every op of the IR runs on gpu.js (checked by tsc
 * against the op registry). An op the backend cannot run says why, in the table.
 */
import type { OpName } from '../ir/ops/index.js';
import type { Kernel } from '../ir/schedule.js';
import type { DType } from '../ir/types.js';
import type { GpuKernelSource } from './kernel-source.js';
import { argKernel, cumsumKernel, foldKernel, gatherKernel, matmulKernel, scatterAddKernel } from './opaque-kernels.js';

/** GLSL for one elementwise op, given its operands' GLSL (floats) and the result dtype. */
export type GlslTemplate = (args: readonly string[], dtype: DType) => string;

export type GpuOp =
  /** Computed inside fused kernels by a GLSL template. */
  | { readonly how: 'elementwise'; readonly glsl: GlslTemplate }
  /** Folded into the index arithmetic (movement) or the values (constants, iota) of fused kernels. */
  | { readonly how: 'index-math' }
  /** Its own kernel: a loop over the reduced extents of the fused loop nest. */
  | { readonly how: 'reduction' }
  /** Its own kernel, written for the op. */
  | { readonly how: 'kernel'; readonly emit: (k: Kernel) => GpuKernelSource }
  /** Not available on the gpu backend. */
  | { readonly how: 'unsupported'; readonly reason: string };

/**
 * What every op shares on the GPU: values are float32 in textures, i32 and bool included
 * (exact for |x| < 2^24; integer arithmetic does not wrap around at 2^31).
 */
export const GPU_NUMERICS = 'float32 textures; i32 exact for |x| < 2^24, no 32-bit wrap-around';

const el = (glsl: GlslTemplate): GpuOp => ({ how: 'elementwise', glsl });
const call = (fn: string): GpuOp => el(([a]) => `${fn}(${a})`);
const infix = (op: string): GpuOp => el(([a, b]) => `(${a} ${op} ${b})`);
const test = (cond: (a: string, b: string) => string): GpuOp => el(([a, b]) => `(${cond(a!, b!)} ? 1.0 : 0.0)`);
const INDEX_MATH: GpuOp = { how: 'index-math' };
const REDUCTION: GpuOp = { how: 'reduction' };
const kernel = (emit: (k: Kernel) => GpuKernelSource): GpuOp => ({ how: 'kernel', emit });

/** Casts: float → int truncates toward zero, anything → bool is `!= 0` (NaN is true). */
export const castGlsl: GlslTemplate = ([a], dtype) => (dtype === 'bool' ? `(${a} != 0.0 ? 1.0 : 0.0)` : dtype === 'i32' ? `k_trunc(${a})` : a!);

export const gpuOps = {
  const: INDEX_MATH,
  iota: INDEX_MATH,
  neg: el(([a]) => `(-${a})`),
  abs: call('abs'),
  sign: call('k_sign'),
  exp: call('k_exp'),
  log: call('k_log'),
  log1p: call('k_log1p'),
  expm1: call('k_expm1'),
  sqrt: call('k_sqrt'),
  rsqrt: el(([a]) => `(1.0 / k_sqrt(${a}))`),
  reciprocal: el(([a]) => `(1.0 / ${a})`),
  sin: call('sin'),
  cos: call('cos'),
  tanh: call('k_tanh'),
  sigmoid: call('k_sigmoid'),
  erf: call('k_erf'),
  floor: call('floor'),
  logical_not: el(([a]) => `(${a} == 0.0 ? 1.0 : 0.0)`),
  add: infix('+'),
  sub: infix('-'),
  mul: infix('*'),
  div: el(([a, b], d) => (d === 'f32' ? `(${a} / ${b})` : `k_idiv(${a}, ${b})`)),
  pow: el(([a, b], d) => (d === 'f32' ? `k_pow(${a}, ${b})` : `k_iround(k_pow(${a}, ${b}))`)),
  maximum: el(([a, b]) => `k_max(${a}, ${b})`),
  minimum: el(([a, b]) => `k_min(${a}, ${b})`),
  eq: test((a, b) => `${a} == ${b}`),
  ne: test((a, b) => `${a} != ${b}`),
  lt: test((a, b) => `${a} < ${b}`),
  le: test((a, b) => `${a} <= ${b}`),
  gt: test((a, b) => `${a} > ${b}`),
  ge: test((a, b) => `${a} >= ${b}`),
  logical_and: test((a, b) => `${a} != 0.0 && ${b} != 0.0`),
  logical_or: test((a, b) => `${a} != 0.0 || ${b} != 0.0`),
  where: el(([c, a, b]) => `(${c} != 0.0 ? ${a} : ${b})`),
  cast: el(castGlsl),
  sum: REDUCTION,
  prod: REDUCTION,
  max: REDUCTION,
  min: REDUCTION,
  argmax: kernel(argKernel),
  argmin: kernel(argKernel),
  cumsum: kernel(cumsumKernel),
  reshape: INDEX_MATH,
  permute: INDEX_MATH,
  expand: INDEX_MATH,
  slice: INDEX_MATH,
  unslice: INDEX_MATH,
  pad: INDEX_MATH,
  flip: INDEX_MATH,
  concat: INDEX_MATH,
  gather: kernel(gatherKernel),
  scatter_add: kernel(scatterAddKernel),
  matmul: kernel(matmulKernel),
  unfold: INDEX_MATH,
  fold: kernel(foldKernel),
} satisfies Record<OpName, GpuOp>;

/** The ops the gpu backend declares unsupported, with the reasons (empty: it runs them all). */
export function unsupportedGpuOps(): { op: OpName; reason: string }[] {
  return (Object.entries(gpuOps) as [OpName, GpuOp][]).flatMap(([op, g]) => (g.how === 'unsupported' ? [{ op, reason: g.reason }] : []));
}

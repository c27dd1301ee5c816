/**
 * WebAssembly templates for the elementwise ops: a scalar form (f32 or i32 values) and an
 * f32x4/i32x4 form for the vector loops. They compute what `js-templates.ts` computes, in
 * float32: NaN-propagating maximum/minimum, wrapping i32 arithmetic, bools as 0/1.
 *
 * Value representations: scalar f32 → f32, i32 and bool → i32 (bool holds the byte's value);
 * vector f32 → f32x4, i32 → i32x4, bool → an i32x4 lane mask (0 or -1).
 * An op with no vector instruction says `lanewise()`: it runs its scalar form on each lane.
 */
import type { OpName } from '../ir/ops/index.js';
import type { DType } from '../ir/types.js';
import {
  ensureIntPow,
  ensurePow,
  ensureVectorMathFn,
  type Expr,
  type FnEmitter,
  type Operand,
  vectorMath,
  type VectorMathName,
} from './wasm-math.js';

/** One operand of an op: a re-readable value, its dtype, and its value when a constant. */
export interface WasmArg {
  readonly get: Operand;
  readonly dtype: DType;
  readonly value?: number;
}

export interface OpContext {
  readonly e: FnEmitter;
  readonly args: readonly WasmArg[];
  /** The result dtype. */
  readonly dtype: DType;
  /** The op's scalar template applied to each lane (vector contexts only). */
  lanewise(): Expr;
}

export type WasmTemplateFn = (c: OpContext) => Expr;

export interface WasmTemplate {
  readonly scalar: WasmTemplateFn;
  readonly vector: WasmTemplateFn;
}

const arg = (c: OpContext, i: number): Expr => c.args[i]!.get();
const isF32 = (c: OpContext, i = 0): boolean => c.args[i]!.dtype === 'f32';

/** A float32 transcendental: inline f32x4 code in vector loops, a call on a splat in scalar code. */
function math(name: VectorMathName): WasmTemplate {
  return {
    scalar: (c) => {
      const { mod, bin } = c.e;
      const fn = ensureVectorMathFn(c.e, name);
      return mod.f32x4.extract_lane(mod.call(fn, [mod.f32x4.splat(arg(c, 0))], bin.v128), 0);
    },
    vector: (c) => vectorMath[name](c.e, c.args[0]!.get),
  };
}

/** f32-only unary ops with an instruction of their own. */
function native(scalar: (c: OpContext) => Expr, vector: (c: OpContext) => Expr): WasmTemplate {
  return { scalar, vector };
}

type Cmp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

/** Comparisons give 0/1 (scalar) or a lane mask; bool masks compare unsigned so true > false. */
function compare(op: Cmp): WasmTemplate {
  const signed = op === 'eq' || op === 'ne' ? op : (`${op}_s` as const);
  const unsigned = op === 'eq' || op === 'ne' ? op : (`${op}_u` as const);
  return {
    scalar: (c) => {
      const { mod } = c.e;
      return isF32(c) ? mod.f32[op](arg(c, 0), arg(c, 1)) : mod.i32[signed](arg(c, 0), arg(c, 1));
    },
    vector: (c) => {
      const { mod } = c.e;
      if (isF32(c)) return mod.f32x4[op](arg(c, 0), arg(c, 1));
      return c.args[0]!.dtype === 'bool' ? mod.i32x4[unsigned](arg(c, 0), arg(c, 1)) : mod.i32x4[signed](arg(c, 0), arg(c, 1));
    },
  };
}

/** Wrapping i32 or f32 arithmetic. */
function arith(op: 'add' | 'sub' | 'mul'): WasmTemplate {
  return {
    scalar: (c) => (c.dtype === 'f32' ? c.e.mod.f32[op](arg(c, 0), arg(c, 1)) : c.e.mod.i32[op](arg(c, 0), arg(c, 1))),
    vector: (c) => (c.dtype === 'f32' ? c.e.mod.f32x4[op](arg(c, 0), arg(c, 1)) : c.e.mod.i32x4[op](arg(c, 0), arg(c, 1))),
  };
}

/** maximum/minimum: f32.max/min are NaN-propagating with +0 > -0, exactly h.max2/h.min2. */
function extremum(op: 'max' | 'min'): WasmTemplate {
  return {
    scalar: (c) => {
      const { mod } = c.e;
      if (c.dtype === 'f32') return mod.f32[op](arg(c, 0), arg(c, 1));
      const pick = op === 'max' ? mod.i32.gt_s(arg(c, 0), arg(c, 1)) : mod.i32.lt_s(arg(c, 0), arg(c, 1));
      return mod.select(pick, arg(c, 0), arg(c, 1));
    },
    vector: (c) => {
      const { mod } = c.e;
      if (c.dtype === 'f32') return mod.f32x4[op](arg(c, 0), arg(c, 1));
      return op === 'max' ? mod.i32x4.max_s(arg(c, 0), arg(c, 1)) : mod.i32x4.min_s(arg(c, 0), arg(c, 1));
    },
  };
}

/** x^k for a small integer constant k as products (pow(x, 0) is 1 even for NaN, as Math.pow). */
function powByProducts(c: OpContext, k: number, lanes: 1 | 4): Expr | null {
  const { mod, bin } = c.e;
  const f32 = c.dtype === 'f32';
  if (!Number.isInteger(k) || k > 4 || k < (f32 ? -2 : 0)) return null;
  const one = (): Expr => (lanes === 4 ? (f32 ? c.e.f32x4(1) : c.e.i32x4(1)) : f32 ? mod.f32.const(1) : mod.i32.const(1));
  if (k === 0) return one();
  const type = lanes === 4 ? bin.v128 : f32 ? bin.f32 : bin.i32;
  const mul = (a: Expr, b: Expr): Expr =>
    lanes === 4 ? (f32 ? mod.f32x4.mul(a, b) : mod.i32x4.mul(a, b)) : f32 ? mod.f32.mul(a, b) : mod.i32.mul(a, b);
  const x = c.args[0]!.get;
  const n = Math.abs(k);
  let p: Expr;
  if (n === 1) p = x();
  else if (n === 2) p = mul(x(), x());
  else if (n === 3) p = mul(mul(x(), x()), x());
  else {
    const sq = c.e.let(type, mul(x(), x()), 'sq');
    p = mul(sq(), sq());
  }
  if (k > 0) return p;
  return lanes === 4 ? mod.f32x4.div(one(), p) : mod.f32.div(one(), p);
}

const NOT_ELEMENTWISE = 'not elementwise: its own kernel' as const;

/** One template per elementwise op; other ops say why they have none (checked by tsc). */
export const wasmTemplates = {
  const: NOT_ELEMENTWISE,
  iota: NOT_ELEMENTWISE,
  neg: {
    scalar: (c) => (c.dtype === 'f32' ? c.e.mod.f32.neg(arg(c, 0)) : c.e.mod.i32.sub(c.e.mod.i32.const(0), arg(c, 0))),
    vector: (c) => (c.dtype === 'f32' ? c.e.mod.f32x4.neg(arg(c, 0)) : c.e.mod.i32x4.neg(arg(c, 0))),
  },
  abs: {
    scalar: (c) => {
      const { mod } = c.e;
      if (c.dtype === 'f32') return mod.f32.abs(arg(c, 0));
      // NOTE: |INT_MIN| wraps to INT_MIN, as storing Math.abs into an Int32Array does.
      return mod.select(mod.i32.lt_s(arg(c, 0), mod.i32.const(0)), mod.i32.sub(mod.i32.const(0), arg(c, 0)), arg(c, 0));
    },
    vector: (c) => (c.dtype === 'f32' ? c.e.mod.f32x4.abs(arg(c, 0)) : c.e.mod.i32x4.abs(arg(c, 0))),
  },
  sign: {
    // Math.sign: ±1, and x itself for ±0 and NaN.
    scalar: (c) => {
      const { mod } = c.e;
      if (c.dtype !== 'f32') return mod.i32.sub(mod.i32.gt_s(arg(c, 0), mod.i32.const(0)), mod.i32.lt_s(arg(c, 0), mod.i32.const(0)));
      const negative = mod.select(mod.f32.lt(arg(c, 0), mod.f32.const(0)), mod.f32.const(-1), arg(c, 0));
      return mod.select(mod.f32.gt(arg(c, 0), mod.f32.const(0)), mod.f32.const(1), negative);
    },
    vector: (c) => {
      const { e } = c;
      const { mod } = e;
      if (c.dtype !== 'f32') return mod.i32x4.sub(mod.i32x4.lt_s(arg(c, 0), e.i32x4(0)), mod.i32x4.gt_s(arg(c, 0), e.i32x4(0)));
      const neg = mod.v128.bitselect(e.f32x4(-1), arg(c, 0), mod.f32x4.lt(arg(c, 0), e.f32x4(0)));
      return mod.v128.bitselect(e.f32x4(1), neg, mod.f32x4.gt(arg(c, 0), e.f32x4(0)));
    },
  },
  exp: math('exp'),
  log: math('log'),
  log1p: math('log1p'),
  expm1: math('expm1'),
  sqrt: native(
    (c) => c.e.mod.f32.sqrt(arg(c, 0)),
    (c) => c.e.mod.f32x4.sqrt(arg(c, 0)),
  ),
  rsqrt: native(
    (c) => c.e.mod.f32.div(c.e.mod.f32.const(1), c.e.mod.f32.sqrt(arg(c, 0))),
    (c) => c.e.mod.f32x4.div(c.e.f32x4(1), c.e.mod.f32x4.sqrt(arg(c, 0))),
  ),
  reciprocal: native(
    (c) => c.e.mod.f32.div(c.e.mod.f32.const(1), arg(c, 0)),
    (c) => c.e.mod.f32x4.div(c.e.f32x4(1), arg(c, 0)),
  ),
  sin: math('sin'),
  cos: math('cos'),
  tanh: math('tanh'),
  sigmoid: math('sigmoid'),
  erf: math('erf'),
  floor: native(
    (c) => (c.dtype === 'f32' ? c.e.mod.f32.floor(arg(c, 0)) : arg(c, 0)),
    (c) => (c.dtype === 'f32' ? c.e.mod.f32x4.floor(arg(c, 0)) : arg(c, 0)),
  ),
  logical_not: {
    scalar: (c) => c.e.mod.i32.eqz(arg(c, 0)),
    vector: (c) => c.e.mod.v128.not(arg(c, 0)),
  },
  add: arith('add'),
  sub: arith('sub'),
  mul: arith('mul'),
  div: {
    scalar: (c) => {
      const { mod, bin } = c.e;
      if (c.dtype === 'f32') return mod.f32.div(arg(c, 0), arg(c, 1));
      // Math.trunc(a / b) stored as i32: b = 0 gives 0, INT_MIN / -1 wraps; neither may trap.
      const i = mod.i32;
      const b = c.e.let(bin.i32, arg(c, 1), 'divisor');
      const trapping = i.gt_u(i.add(b(), i.const(1)), i.const(1));
      const q = i.div_s(arg(c, 0), mod.select(trapping, b(), i.const(1)));
      return mod.select(i.eqz(b()), i.const(0), mod.select(i.eq(b(), i.const(-1)), i.sub(i.const(0), arg(c, 0)), q));
    },
    vector: (c) => (c.dtype === 'f32' ? c.e.mod.f32x4.div(arg(c, 0), arg(c, 1)) : c.lanewise()),
  },
  pow: {
    scalar: (c) => {
      const { mod, bin } = c.e;
      const k = c.args[1]!.value;
      const products = k === undefined ? null : powByProducts(c, k, 1);
      if (products !== null) return products;
      if (c.dtype === 'f32') return mod.call(ensurePow(c.e), [arg(c, 0), arg(c, 1)], bin.f32);
      return mod.call(ensureIntPow(c.e), [arg(c, 0), arg(c, 1)], bin.i32);
    },
    vector: (c) => {
      const k = c.args[1]!.value;
      return (k === undefined ? null : powByProducts(c, k, 4)) ?? c.lanewise();
    },
  },
  maximum: extremum('max'),
  minimum: extremum('min'),
  eq: compare('eq'),
  ne: compare('ne'),
  lt: compare('lt'),
  le: compare('le'),
  gt: compare('gt'),
  ge: compare('ge'),
  logical_and: {
    scalar: (c) => {
      const i = c.e.mod.i32;
      return i.and(i.ne(arg(c, 0), i.const(0)), i.ne(arg(c, 1), i.const(0)));
    },
    vector: (c) => c.e.mod.v128.and(arg(c, 0), arg(c, 1)),
  },
  logical_or: {
    scalar: (c) => {
      const i = c.e.mod.i32;
      return i.ne(i.or(arg(c, 0), arg(c, 1)), i.const(0));
    },
    vector: (c) => c.e.mod.v128.or(arg(c, 0), arg(c, 1)),
  },
  where: {
    scalar: (c) => c.e.mod.select(arg(c, 0), arg(c, 1), arg(c, 2)),
    vector: (c) => c.e.mod.v128.bitselect(arg(c, 1), arg(c, 2), arg(c, 0)),
  },
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
} satisfies Record<OpName, WasmTemplate | typeof NOT_ELEMENTWISE>;

export function wasmTemplate(op: OpName): WasmTemplate {
  const t: WasmTemplate | typeof NOT_ELEMENTWISE = wasmTemplates[op];
  if (typeof t === 'string') throw new Error(`codegen-wasm: ${op} is ${t}`);
  return t;
}

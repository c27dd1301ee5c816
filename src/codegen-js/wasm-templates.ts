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
import { NOT_ELEMENTWISE, notElementwise } from './not-elementwise.js';
import type { DType } from '../ir/types.js';
import {
  absV,
  type Binaryen,
  ensureIntPow,
  ensurePow,
  ensureVectorMathFn,
  type Expr,
  type FnEmitter,
  negV,
  type Operand,
  type Type,
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

/**
 * `cond ? a : b` on scalars. NOTE: V8 compiles an f32 `select` to a branch (mispredicted half
 * the time on data like relu's), and binaryen turns a select of the i32 bits back into one;
 * a masked blend of the bits is branch-free: b ^ ((a ^ b) & -(cond != 0)).
 */
export function selectScalar(e: FnEmitter, cond: Operand, a: Operand, b: Operand, dtype: DType): Expr {
  const { mod } = e;
  if (dtype !== 'f32') return mod.select(cond(), a(), b());
  const i = mod.i32;
  const bits = e.let(e.bin.i32, i.reinterpret(b()), 'bits');
  const mask = i.sub(i.const(0), i.ne(cond(), i.const(0)));
  return mod.f32.reinterpret(i.xor(bits(), i.and(i.xor(i.reinterpret(a()), bits()), mask)));
}

/** One template per elementwise op; other ops say why they have none (checked by tsc). */
export const wasmTemplates = {
  ...notElementwise,
  neg: {
    scalar: (c) => (c.dtype === 'f32' ? c.e.mod.f32.neg(arg(c, 0)) : c.e.mod.i32.sub(c.e.mod.i32.const(0), arg(c, 0))),
    vector: (c) => (c.dtype === 'f32' ? negV(c.e, arg(c, 0)) : c.e.mod.i32x4.neg(arg(c, 0))),
  },
  abs: {
    scalar: (c) => {
      const { mod } = c.e;
      if (c.dtype === 'f32') return mod.f32.abs(arg(c, 0));
      // NOTE: |INT_MIN| wraps to INT_MIN, as storing Math.abs into an Int32Array does.
      return mod.select(mod.i32.lt_s(arg(c, 0), mod.i32.const(0)), mod.i32.sub(mod.i32.const(0), arg(c, 0)), arg(c, 0));
    },
    vector: (c) => (c.dtype === 'f32' ? absV(c.e, arg(c, 0)) : c.e.mod.i32x4.abs(arg(c, 0))),
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
    scalar: (c) => selectScalar(c.e, c.args[0]!.get, c.args[1]!.get, c.args[2]!.get, c.dtype),
    vector: (c) => c.e.mod.v128.bitselect(arg(c, 1), arg(c, 2), arg(c, 0)),
  },
} satisfies Record<OpName, WasmTemplate | typeof NOT_ELEMENTWISE>;

export function wasmTemplate(op: OpName): WasmTemplate {
  const t: WasmTemplate | typeof NOT_ELEMENTWISE = wasmTemplates[op];
  if (typeof t === 'string') throw new Error(`codegen-wasm: ${op} is ${t}`);
  return t;
}

// ---- value representations ------------------------------------------------------------------

export type Lanes = 1 | 4;

/** The wasm type of a value: f32 or i32 scalars, v128 vectors. */
export function valueType(bin: Binaryen, dtype: DType, lanes: Lanes): Type {
  return lanes === 4 ? bin.v128 : dtype === 'f32' ? bin.f32 : bin.i32;
}

/** A scalar broadcast to 4 lanes (a bool becomes a lane mask). */
export function splat(e: FnEmitter, x: Expr, dtype: DType): Expr {
  const { mod } = e;
  if (dtype === 'f32') return mod.f32x4.splat(x);
  if (dtype === 'i32') return mod.i32x4.splat(x);
  return mod.i32x4.ne(mod.i32x4.splat(x), e.i32x4(0));
}

/** Lane `lane` of a vector as a scalar (a bool mask lane becomes 0/1). */
export function extractLane(e: FnEmitter, v: Expr, dtype: DType, lane: number): Expr {
  const { mod } = e;
  if (dtype === 'f32') return mod.f32x4.extract_lane(v, lane);
  const x = mod.i32x4.extract_lane(v, lane);
  return dtype === 'bool' ? mod.i32.and(x, mod.i32.const(1)) : x;
}

/** A vector from 4 scalars. */
export function buildVector(e: FnEmitter, lanes: readonly Operand[], dtype: DType): Expr {
  const { mod } = e;
  const ops = dtype === 'f32' ? mod.f32x4 : mod.i32x4;
  let v = ops.splat(lanes[0]!());
  for (let j = 1; j < 4; j++) v = ops.replace_lane(v, j, lanes[j]!());
  return dtype === 'bool' ? mod.i32x4.ne(v, e.i32x4(0)) : v;
}

/** Op `op` on `args` with 1 or 4 lanes. */
export function applyTemplate(e: FnEmitter, op: OpName, args: readonly WasmArg[], dtype: DType, lanes: Lanes): Expr {
  const t = wasmTemplate(op);
  if (lanes === 1) return t.scalar({ e, args, dtype, lanewise: () => notInVector(op) });
  return t.vector({ e, args, dtype, lanewise: () => lanewise(e, t.scalar, args, dtype) });
}

function notInVector(op: string): never {
  throw new Error(`codegen-wasm: ${op}: lanewise() outside a vector loop`);
}

/** A vector op done one lane at a time with its scalar template. */
function lanewise(e: FnEmitter, scalar: WasmTemplateFn, args: readonly WasmArg[], dtype: DType): Expr {
  const results: Operand[] = [];
  for (let lane = 0; lane < 4; lane++) {
    const largs = args.map((a) => ({ ...a, get: e.let(valueType(e.bin, a.dtype, 1), extractLane(e, a.get(), a.dtype, lane), 'lane') }));
    results.push(e.let(valueType(e.bin, dtype, 1), scalar({ e, args: largs, dtype, lanewise: () => notInVector('lanewise') }), 'lane'));
  }
  return buildVector(e, results, dtype);
}

/** `Math.trunc(x) | 0` for an f32: wraps modulo 2^32 like ToInt32 (0 for NaN and ±inf). */
function toInt32(e: FnEmitter, v: Expr): Expr {
  const { mod, bin } = e;
  const t = e.let(bin.f32, v, 'f');
  const wrapped = mod.i32.wrap(mod.i64.trunc_s_sat.f32(t()));
  return mod.select(mod.f32.lt(mod.f32.abs(t()), mod.f32.const(2 ** 63)), wrapped, mod.i32.const(0));
}

/** `cast`: float → int truncates and wraps like `Math.trunc(x) | 0`; → bool is `x !== 0`. */
export function castValue(e: FnEmitter, from: DType, to: DType, x: Operand, lanes: Lanes): Operand {
  if (from === to) return x;
  const { mod, bin } = e;
  let r: Expr;
  if (lanes === 1) {
    if (to === 'f32') r = mod.f32.convert_s.i32(x());
    else if (to === 'i32') r = from === 'f32' ? toInt32(e, x()) : x();
    else r = from === 'f32' ? mod.f32.ne(x(), mod.f32.const(0)) : mod.i32.ne(x(), mod.i32.const(0));
    return e.let(valueType(bin, to, 1), r, 'cast');
  }
  if (to === 'f32') r = from === 'i32' ? mod.f32x4.convert_i32x4_s(x()) : mod.v128.and(x(), e.f32x4(1));
  else if (to === 'bool') r = from === 'f32' ? mod.f32x4.ne(x(), e.f32x4(0)) : mod.i32x4.ne(x(), e.i32x4(0));
  else if (from === 'bool') r = mod.i32x4.neg(x());
  else {
    // Lanes beyond ±2^31 wrap like ToInt32, which trunc_sat does not: redo those lane by lane.
    const big = mod.f32x4.ge(absV(e, x()), e.f32x4(2 ** 31));
    const fast = e.let(bin.v128, mod.i32x4.trunc_sat_f32x4_s(x()), 'cast');
    const slow = (): Expr => {
      const parts: Operand[] = [];
      for (let j = 0; j < 4; j++) parts.push(e.let(bin.i32, toInt32(e, mod.f32x4.extract_lane(x(), j)), 'lane'));
      return buildVector(e, parts, 'i32');
    };
    return e.ifElse(mod.v128.any_true(big), bin.v128, slow, fast, 'cast');
  }
  return e.let(bin.v128, r, 'cast');
}

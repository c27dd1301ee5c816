/**
 * The function builder of the fused-kernel wasm code generator (`wasm-kernel.ts`) and its
 * float32 math library: exp, log, tanh, sigmoid, erf, expm1, log1p, sin, cos on f32x4 lanes
 * (range reduction + polynomial, emitted inline so hot loops make no calls), plus scalar
 * helpers computed in f64 (pow, sin/cos of huge arguments, integer pow).
 *
 * Every vector routine is exact at the special values (±0, ±inf, NaN, overflow, underflow);
 * `tests/unit/wasm-kernel.test.ts` measures their error against `Math` over the float range.
 * Polynomials use relaxed SIMD's fused multiply-add when the emitter says `fma`.
 */
import type binaryen from 'binaryen';
import { type Binaryen, type Expr, type Module, type Type, WasmFn } from './wasm-fn.js';

export type { Binaryen, Expr, Module, Type } from './wasm-fn.js';
/** A value that may be read any number of times (a local.get or a constant). */
export type Operand = () => Expr;

const f32Bytes = (v: number): Uint8Array => new Uint8Array(new Float32Array([v, v, v, v]).buffer);
const i32Bytes = (v: number): Uint8Array => new Uint8Array(new Int32Array([v, v, v, v]).buffer);
const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

/**
 * A function under construction: named locals, a stack of statement lists (the innermost is
 * where `emit` and `let` append), and a pool of v128 constants set once at entry.
 * Generated code is "statements then a pure expression": every intermediate value lives in a
 * fresh local, so operands can be read repeatedly and evaluation order never matters.
 */
export class FnEmitter extends WasmFn {
  private readonly stack: Expr[][] = [[]];
  private readonly entry: Expr[] = [];
  private readonly pool = new Map<string, number>();

  constructor(
    bin: Binaryen,
    mod: Module,
    params: ReadonlyArray<readonly [string, Type]>,
    /** Keep v128 constants in locals set at entry (hot loops then only read registers). */
    readonly poolConstants = true,
    /** Polynomials use relaxed SIMD's fused multiply-add (the engine must accept relaxed SIMD). */
    readonly fma = false,
  ) {
    super(bin, mod, params);
  }

  emit(...stmts: Expr[]): void {
    this.stack[this.stack.length - 1]!.push(...stmts);
  }

  /** A fresh local holding `value` (set here, in the current statement list). */
  let(type: Type, value: Expr, name = 't'): Operand {
    const i = this.local(type, name);
    this.emit(this.set(i, value));
    return () => this.get(i);
  }

  /** Runs `fn` with a fresh statement list and returns what it emitted. */
  capture(fn: () => void): Expr[] {
    return this.into([], fn);
  }

  /** Runs `fn` appending to `list` (e.g. a loop preheader built alongside the loop body). */
  into(list: Expr[], fn: () => void): Expr[] {
    this.stack.push(list);
    try {
      fn();
    } finally {
      this.stack.pop();
    }
    return list;
  }

  /** `cond ? a() : b()` evaluating only the chosen side. */
  ifElse(cond: Expr, type: Type, a: () => Expr, b: () => Expr, name = 'sel'): Operand {
    const r = this.local(type, name);
    const then = this.capture(() => this.emit(this.set(r, a())));
    const other = this.capture(() => this.emit(this.set(r, b())));
    this.emit(this.mod.if(cond, this.block(then), this.block(other)));
    return () => this.get(r);
  }

  /** `if (cond) { fn() }`. */
  when(cond: Expr, fn: () => void): void {
    const body = this.capture(fn);
    if (body.length) this.emit(this.mod.if(cond, this.block(body)));
  }

  block(stmts: readonly Expr[]): Expr {
    return stmts.length === 1 ? stmts[0]! : this.mod.block(null, [...stmts]);
  }

  /** A 4-lane f32 constant. */
  f32x4(v: number): Expr {
    return this.vconst(f32Bytes(v), 'k');
  }

  /** A 4-lane i32 constant. */
  i32x4(v: number): Expr {
    return this.vconst(i32Bytes(v), 'ki');
  }

  /** A v128 constant from lanes of 4 i32. */
  i32x4Lanes(lanes: readonly number[]): Expr {
    return this.vconst(new Uint8Array(new Int32Array(lanes).buffer), 'ki');
  }

  private vconst(bytes: Uint8Array, name: string): Expr {
    if (!this.poolConstants) return this.mod.v128.const(bytes);
    const key = hex(bytes);
    let i = this.pool.get(key);
    if (i === undefined) {
      i = this.local(this.bin.v128, name);
      this.pool.set(key, i);
      this.entry.push(this.set(i, this.mod.v128.const(bytes)));
    }
    return this.get(i);
  }

  /** Adds the function; `result` is the value returned after the statements, if any. */
  finish(name: string, resultType: Type, result?: Expr): binaryen.FunctionRef {
    if (this.stack.length !== 1) throw new Error(`FnEmitter.finish(${name}): unbalanced capture`);
    const stmts = [...this.entry, ...this.stack[0]!];
    if (result !== undefined) stmts.push(result);
    return this.addFunction(name, resultType, this.mod.block(null, stmts, resultType));
  }
}

// ---- helpers ------------------------------------------------------------------------------

/** a·b + c per lane, fused or not as the engine decides (relaxed SIMD; binaryen.js has no wrapper). */
export function relaxedMadd(bin: Binaryen, mod: Module, a: Expr, b: Expr, c: Expr): Expr {
  const raw = bin as unknown as { _BinaryenSIMDTernary(m: number, op: number, a: Expr, b: Expr, c: Expr): Expr; RelaxedMaddVecF32x4: number };
  return raw._BinaryenSIMDTernary((mod as unknown as { ptr: number }).ptr, raw.RelaxedMaddVecF32x4, a, b, c);
}

/** a·b + c on f32x4: one fused instruction where the emitter may use relaxed SIMD. */
function madd(e: FnEmitter, a: Expr, b: Expr, c: Expr): Expr {
  return e.fma ? relaxedMadd(e.bin, e.mod, a, b, c) : e.mod.f32x4.add(e.mod.f32x4.mul(a, b), c);
}

/** Horner's rule on f32x4: coefficients from the highest power down. */
function horner(e: FnEmitter, t: Operand, coeffs: readonly number[]): Expr {
  let acc = e.f32x4(coeffs[0]!);
  for (const c of coeffs.slice(1)) acc = madd(e, acc, t(), e.f32x4(c));
  return acc;
}

/**
 * The same polynomial by second-order Horner: pairs c₂ₖ + c₂ₖ₊₁·t combined by Horner in t².
 * One more multiply, half the dependency chain: these loops are latency-bound.
 */
function horner2(e: FnEmitter, t: Operand, t2: Operand, coeffs: readonly number[]): Expr {
  const low = [...coeffs].reverse();
  const pair = (k: number): Expr => (k + 1 < low.length ? madd(e, e.f32x4(low[k + 1]!), t(), e.f32x4(low[k]!)) : e.f32x4(low[k]!));
  const top = Math.floor((low.length - 1) / 2) * 2;
  let acc = pair(top);
  for (let k = top - 2; k >= 0; k -= 2) acc = madd(e, acc, t2(), pair(k));
  return acc;
}

const SIGN = -0x80000000;
const MAGIC = 12582912; // 1.5·2^23: x + MAGIC rounds x to an integer kept in the low mantissa bits
const MAGIC_BITS = 0x4b400000;

/** |x| and -x on f32x4 as one bitwise op with a pooled mask (V8 rebuilds f32x4.abs/neg's mask each time). */
export function absV(e: FnEmitter, x: Expr): Expr {
  return e.mod.v128.and(x, e.i32x4(0x7fffffff));
}

export function negV(e: FnEmitter, x: Expr): Expr {
  return e.mod.v128.xor(x, e.i32x4(SIGN));
}

/** Adds a helper function once per module (by name) and returns its name. */
export function ensureFunction(e: { bin: Binaryen; mod: Module }, name: string, build: () => void): string {
  if (!e.mod.getFunction(name)) build();
  return name;
}

// ---- exp / log --------------------------------------------------------------------------

const LOG2E = 1.4426950408889634;
// Cody–Waite split of ln 2: C1 has few bits so n·C1 is exact.
const LN2_C1 = 0.693359375;
const LN2_C2 = -2.12194440e-4;
const EXP_P = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];

/**
 * e^x (Cephes expf: ≤ 1 ulp). x is clamped to [-104, 88.8] (beyond, the result is 0 or inf
 * anyway); 2^n is applied as two factors so gradual underflow and overflow come out right.
 * NOTE: pmin/pmax keep a NaN first operand, so NaN flows through to the result.
 */
export function expV(e: FnEmitter, x: Operand): Expr {
  const { mod, bin } = e;
  const f = mod.f32x4;
  const i = mod.i32x4;
  const xc = e.let(bin.v128, f.pmax(f.pmin(x(), e.f32x4(88.8)), e.f32x4(-104)), 'ex');
  const t = e.let(bin.v128, f.add(f.mul(xc(), e.f32x4(LOG2E)), e.f32x4(MAGIC)), 'et');
  const n = e.let(bin.v128, f.sub(t(), e.f32x4(MAGIC)), 'en');
  const r = e.let(bin.v128, f.sub(f.sub(xc(), f.mul(n(), e.f32x4(LN2_C1))), f.mul(n(), e.f32x4(LN2_C2))), 'er');
  const r2 = e.let(bin.v128, f.mul(r(), r()), 'er2');
  const y = f.add(f.mul(horner2(e, r, r2, EXP_P), r2()), f.add(r(), e.f32x4(1)));
  const ni = e.let(bin.v128, i.sub(t(), e.i32x4(MAGIC_BITS)), 'eni');
  const n1 = e.let(bin.v128, i.shr_s(ni(), mod.i32.const(1)), 'en1');
  const pow2 = (k: Expr): Expr => i.shl(i.add(k, e.i32x4(127)), mod.i32.const(23));
  return f.mul(f.mul(y, pow2(n1())), pow2(i.sub(ni(), n1())));
}

const LOG_P = [
  7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1,
  -2.4999993993e-1, 3.3333331174e-1,
];
const MIN_NORMAL = 1.1754943508222875e-38;

/** ln x (Cephes logf: ≤ 1 ulp); subnormals are rescaled first; ±0 → -inf, x < 0 → NaN. */
export function logV(e: FnEmitter, x: Operand): Expr {
  const { mod, bin } = e;
  const f = mod.f32x4;
  const i = mod.i32x4;
  const v = mod.v128;
  const small = e.let(bin.v128, f.lt(x(), e.f32x4(MIN_NORMAL)), 'lsmall');
  const xs = e.let(bin.v128, v.bitselect(f.mul(x(), e.f32x4(8388608)), x(), small()), 'lx');
  // m in [0.5, 1), x = m·2^k; then m < √½ moves to [√½, √2) so ln m is small.
  const k0 = i.sub(i.sub(i.shr_u(xs(), mod.i32.const(23)), e.i32x4(126)), v.and(small(), e.i32x4(23)));
  const m = e.let(bin.v128, v.or(v.and(xs(), e.i32x4(0x007fffff)), e.i32x4(0x3f000000)), 'lm');
  const lowM = e.let(bin.v128, f.lt(m(), e.f32x4(Math.SQRT1_2)), 'llow');
  const k = e.let(bin.v128, f.convert_i32x4_s(i.add(k0, lowM())), 'lk');
  const z = e.let(bin.v128, f.add(f.sub(m(), e.f32x4(1)), v.and(m(), lowM())), 'lz');
  const z2 = e.let(bin.v128, f.mul(z(), z()), 'lz2');
  let y = f.mul(f.mul(horner2(e, z, z2, LOG_P), z()), z2());
  y = f.add(y, f.mul(k(), e.f32x4(LN2_C2)));
  y = f.sub(y, f.mul(z2(), e.f32x4(0.5)));
  let r = f.add(f.add(z(), y), f.mul(k(), e.f32x4(LN2_C1)));
  r = v.bitselect(e.f32x4(-Infinity), r, f.eq(x(), e.f32x4(0)));
  r = v.bitselect(e.f32x4(Infinity), r, f.eq(x(), e.f32x4(Infinity)));
  // NaN and negatives: all-ones bits are a NaN.
  return v.or(r, v.not(f.ge(x(), e.f32x4(0))));
}

// ---- tanh / sigmoid ---------------------------------------------------------------------

// tanh(x) ≈ x·P(x²)/Q(x²) on [0, 9], a [9/8] rational fitted for relative error (2e-8 exact;
// ≤ 3.9e-7 as evaluated below in f32). Evaluated at the clamp, ±9, it rounds to exactly ±1
// (checked in the tests), and float32 tanh is ±1 beyond 9 anyway.
const TANH_P = [1.3354335161262918e-8, 2.0608852491552437e-5, 0.0034955743573896387, 0.13381014124456625, 0.9999999794955188];
const TANH_Q = [7.776426567932572e-7, 0.00032856121619654607, 0.025876930037724455, 0.46714329725521897, 1];
const TANH_CLAMP = 9;

/**
 * tanh x: clamp to ±9, the rational with both polynomials by second-order Horner (a short
 * dependency chain), clamp to ±1: 24 SIMD instructions; ±0, ±inf and NaN exact.
 * NOTE: exactly ±1 when saturated, so 1 + tanh(x) is 0 for large negative x (gelu's tail).
 */
export function tanhV(e: FnEmitter, x: Operand): Expr {
  const { mod, bin } = e;
  const f = mod.f32x4;
  const xc = e.let(bin.v128, f.pmax(f.pmin(x(), e.f32x4(TANH_CLAMP)), e.f32x4(-TANH_CLAMP)), 'thx');
  const t = e.let(bin.v128, f.mul(xc(), xc()), 'tht');
  const t2 = e.let(bin.v128, f.mul(t(), t()), 'tht2');
  const r = f.div(f.mul(xc(), horner2(e, t, t2, TANH_P)), horner2(e, t, t2, TANH_Q));
  return f.pmax(f.pmin(r, e.f32x4(1)), e.f32x4(-1));
}

/** 1 / (1 + e^-x), from e^-|x| so nothing overflows: x < 0 gives e^x / (1 + e^x). */
export function sigmoidV(e: FnEmitter, x: Operand): Expr {
  const { mod, bin } = e;
  const f = mod.f32x4;
  const v = mod.v128;
  const negAbs = e.let(bin.v128, v.or(x(), e.i32x4(SIGN)), 'sgx');
  const ex = e.let(bin.v128, expV(e, negAbs), 'sge');
  return f.div(v.bitselect(ex(), e.f32x4(1), f.lt(x(), e.f32x4(0))), f.add(ex(), e.f32x4(1)));
}

// ---- erf / expm1 / log1p ----------------------------------------------------------------

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
/** Taylor coefficients of erf(x)/x in x², highest first (|x| < 0.5: next term < 3e-8 relative). */
const ERF_SMALL = [5, 4, 3, 2, 1, 0].map((n) => {
  let fact = 1;
  for (let k = 2; k <= n; k++) fact *= k;
  return (TWO_OVER_SQRT_PI * (n % 2 ? -1 : 1)) / (fact * (2 * n + 1));
});
/** erfc(z) = t·exp(-z² + P(t)), t = 1/(1 + z/2) (Numerical Recipes' erfcc; the reference erf uses it too). */
const ERFC_P = [
  0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223,
];

/** erf x: a Taylor polynomial for |x| < 0.5, 1 - erfc(|x|) with the sign of x beyond. */
export function erfV(e: FnEmitter, x: Operand): Expr {
  const { mod, bin } = e;
  const f = mod.f32x4;
  const v = mod.v128;
  const z = e.let(bin.v128, absV(e, x()), 'efz');
  const x2 = e.let(bin.v128, f.mul(x(), x()), 'efx2');
  const x4 = e.let(bin.v128, f.mul(x2(), x2()), 'efx4');
  const small = e.let(bin.v128, f.mul(x(), horner2(e, x2, x4, ERF_SMALL)), 'efs');
  const t = e.let(bin.v128, f.div(e.f32x4(1), f.add(e.f32x4(1), f.mul(z(), e.f32x4(0.5)))), 'eft');
  const t2 = e.let(bin.v128, f.mul(t(), t()), 'eft2');
  const arg = e.let(bin.v128, f.sub(horner2(e, t, t2, ERFC_P), f.mul(z(), z())), 'efa');
  const erfc = f.mul(t(), expV(e, arg));
  const big = v.or(f.sub(e.f32x4(1), erfc), v.and(x(), e.i32x4(SIGN)));
  return v.bitselect(small(), big, f.lt(z(), e.f32x4(0.5)));
}

const EXPM1_SMALL = [1 / 40320, 1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1];

/** e^x - 1: a Taylor polynomial for |x| < 0.5 (no cancellation), exp(x) - 1 beyond. */
export function expm1V(e: FnEmitter, x: Operand): Expr {
  const { mod, bin } = e;
  const f = mod.f32x4;
  const x2 = e.let(bin.v128, f.mul(x(), x()), 'emx2');
  const small = e.let(bin.v128, f.mul(x(), horner2(e, x, x2, EXPM1_SMALL)), 'emsmall');
  const big = f.sub(expV(e, x), e.f32x4(1));
  return mod.v128.bitselect(small(), big, f.lt(absV(e, x()), e.f32x4(0.5)));
}

/** ln(1 + x) as log(u)·x/(u - 1), u = 1 + x (Goldberg's correction for the rounding of u). */
export function log1pV(e: FnEmitter, x: Operand): Expr {
  const { mod, bin } = e;
  const f = mod.f32x4;
  const v = mod.v128;
  const u = e.let(bin.v128, f.add(x(), e.f32x4(1)), 'lpu');
  const lu = e.let(bin.v128, logV(e, u), 'lpl');
  // NOTE: x/(u-1) ≈ 1 first, so lu·x cannot overflow.
  let r = f.mul(lu(), f.div(x(), f.sub(u(), e.f32x4(1))));
  r = v.bitselect(x(), r, f.eq(u(), e.f32x4(1)));
  return v.bitselect(x(), r, f.eq(x(), e.f32x4(Infinity)));
}

// ---- sin / cos --------------------------------------------------------------------------

/** π/2 in three parts (Cephes DP1..3 doubled): q·DP1 and q·DP2 are exact for q < 2^13. */
const PIO2_1 = 1.5703125;
const PIO2_2 = 4.837512969970703125e-4;
const PIO2_3 = 7.54978995489188216e-8;
const SIN_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1];
const COS_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2];
/** Beyond this, lanes go through `kiln.sincos_big` (exact reduction in f64). */
const SINCOS_FAST_MAX = 8192;

/** sin x (`cos` false) or cos x on f32x4: Cody–Waite reduction by π/2, Cephes polynomials. */
export function sinCosV(e: FnEmitter, x: Operand, cos: boolean): Expr {
  const { mod, bin } = e;
  const f = mod.f32x4;
  const i = mod.i32x4;
  const v = mod.v128;
  const ax = e.let(bin.v128, absV(e, x()), 'scx');
  const t = e.let(bin.v128, f.add(f.mul(ax(), e.f32x4(2 / Math.PI)), e.f32x4(MAGIC)), 'sct');
  const qf = e.let(bin.v128, f.sub(t(), e.f32x4(MAGIC)), 'scq');
  let q: Expr = i.sub(t(), e.i32x4(MAGIC_BITS));
  if (cos) q = i.add(q, e.i32x4(1));
  const qi = e.let(bin.v128, q, 'scqi');
  const r = e.let(
    bin.v128,
    f.sub(f.sub(f.sub(ax(), f.mul(qf(), e.f32x4(PIO2_1))), f.mul(qf(), e.f32x4(PIO2_2))), f.mul(qf(), e.f32x4(PIO2_3))),
    'scr',
  );
  const z = e.let(bin.v128, f.mul(r(), r()), 'scz');
  const s = f.add(f.mul(f.mul(horner(e, z, SIN_P), z()), r()), r());
  const c = f.add(f.sub(e.f32x4(1), f.mul(z(), e.f32x4(0.5))), f.mul(f.mul(horner(e, z, COS_P), z()), z()));
  const odd = i.eq(v.and(qi(), e.i32x4(1)), e.i32x4(1));
  let sign: Expr = i.shl(v.and(qi(), e.i32x4(2)), mod.i32.const(30));
  if (!cos) sign = v.xor(sign, v.and(x(), e.i32x4(SIGN)));
  const fast = e.let(bin.v128, v.xor(v.bitselect(c, s, odd), sign), 'scv');
  // Lanes too large for the f32 reduction (and ±inf) are recomputed one by one.
  const big = e.let(bin.v128, f.gt(ax(), e.f32x4(SINCOS_FAST_MAX)), 'scbig');
  const helper = ensureSinCosBig(e);
  return e.ifElse(
    v.any_true(big()),
    bin.v128,
    () => {
      let acc = fast();
      for (let lane = 0; lane < 4; lane++) {
        const call = mod.call(helper, [f.extract_lane(x(), lane), mod.i32.const(cos ? 1 : 0)], bin.f32);
        acc = f.replace_lane(acc, lane, mod.select(i.extract_lane(big(), lane), call, f.extract_lane(fast(), lane)));
      }
      return acc;
    },
    fast,
    'scres',
  )();
}

/**
 * 2/π in 24-bit chunks (fdlibm's ipio2; checked against a BigInt Machin series in the tests):
 * enough for the Payne–Hanek reduction of any finite float32.
 */
export const TWO_OVER_PI_CHUNKS = [0xa2f983, 0x6e4e44, 0x1529fc, 0x2757d1, 0xf534dd, 0xc0db62, 0x95993c, 0x439041, 0xfe5163, 0xabdebb];

/** f64 Taylor coefficients of sin(r)/r and cos(r) in r², highest first (|r| ≤ π/4, < 1e-12). */
const SIN_F64 = [-1 / 39916800, 1 / 362880, -1 / 5040, 1 / 120, -1 / 6, 1];
const COS_F64 = [1 / 479001600, -1 / 3628800, 1 / 40320, -1 / 720, 1 / 24, -1 / 2, 1];

function hornerF64(mod: Module, t: Operand, coeffs: readonly number[]): Expr {
  let acc = mod.f64.const(coeffs[0]!);
  for (const c of coeffs.slice(1)) acc = mod.f64.add(mod.f64.mul(acc, t()), mod.f64.const(c));
  return acc;
}

/** 2^k as an f64 for an i32 `k` in the normal range. */
function pow2F64(mod: Module, k: Expr): Expr {
  return mod.f64.reinterpret(mod.i64.shl(mod.i64.extend_u(mod.i32.add(k, mod.i32.const(1023))), mod.i64.const(52n)));
}

/** `kiln.sincos_big(x: f32, cos: i32) -> f32`: sin or cos of any float32 via an exact reduction. */
function ensureSinCosBig(ctx: { bin: Binaryen; mod: Module }): string {
  return ensureFunction(ctx, 'kiln.sincos_big', () => {
    const { bin, mod } = ctx;
    const e = new FnEmitter(bin, mod, [
      ['x', bin.f32],
      ['cos', bin.i32],
    ], false);
    const x = () => e.get(0);
    const isCos = () => e.get(1);
    const f = mod.f64;
    const bits = e.let(bin.i32, mod.i32.reinterpret(mod.f32.abs(x())), 'bits');
    const exp = e.let(bin.i32, mod.i32.shr_u(bits(), mod.i32.const(23)), 'E');
    const mant = e.let(bin.f64, f.convert_u.i32(mod.i32.or(mod.i32.and(bits(), mod.i32.const(0x7fffff)), mod.i32.const(0x800000))), 'M');
    // x·2/π mod 4 = Σ M·chunk_i·2^(E-174-24i), dropping terms that are multiples of 4 or negligible.
    const acc = e.local(bin.f64, 'acc');
    e.emit(e.set(acc, f.const(0)));
    const mod4 = (val: Operand): Expr => f.sub(val(), f.mul(f.floor(f.mul(val(), f.const(0.25))), f.const(4)));
    TWO_OVER_PI_CHUNKS.forEach((chunk, k) => {
      const s = e.let(bin.i32, mod.i32.sub(exp(), mod.i32.const(174 + 24 * k)), 's');
      e.when(mod.i32.and(mod.i32.lt_s(s(), mod.i32.const(2)), mod.i32.gt_s(s(), mod.i32.const(-110))), () => {
        const term = e.let(bin.f64, f.mul(f.mul(mant(), f.const(chunk)), pow2F64(mod, s())), 'term');
        e.emit(e.set(acc, f.add(e.get(acc), mod4(term))));
      });
    });
    const y = e.let(bin.f64, mod4(() => e.get(acc)), 'y');
    const qf = e.let(bin.f64, f.nearest(y()), 'qf');
    const r = e.let(bin.f64, f.mul(f.sub(y(), qf()), f.const(Math.PI / 2)), 'r');
    const q = e.let(bin.i32, mod.i32.add(mod.i32.trunc_s.f64(qf()), isCos()), 'q');
    const z = e.let(bin.f64, f.mul(r(), r()), 'z');
    const s = f.mul(r(), hornerF64(mod, z, SIN_F64));
    const c = hornerF64(mod, z, COS_F64);
    const v = e.let(bin.f64, mod.select(mod.i32.and(q(), mod.i32.const(1)), c, s), 'v');
    const neg = mod.i32.xor(
      mod.i32.ne(mod.i32.and(q(), mod.i32.const(2)), mod.i32.const(0)),
      mod.i32.and(mod.i32.eqz(isCos()), mod.i32.lt_s(mod.i32.reinterpret(x()), mod.i32.const(0))),
    );
    const signed = mod.select(neg, f.neg(v()), v());
    // ±inf and NaN: x - x is NaN.
    const finite = mod.f32.lt(mod.f32.abs(x()), mod.f32.const(Infinity));
    e.finish('kiln.sincos_big', bin.f32, mod.select(finite, mod.f32.demote(signed), mod.f32.sub(x(), x())));
  });
}

// ---- pow (scalar, in f64) ---------------------------------------------------------------

const LN2_HI = 0.6931471803691238; // 0x3FE62E42FEE00000
const LN2_LO = 1.9082149292705877e-10;
const EXP_F64 = [1 / 3628800, 1 / 362880, 1 / 40320, 1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1];

/** ln a for a positive normal f64 (every float32 is one), to ~1e-15: atanh series of (m-1)/(m+1). */
function lnF64(e: FnEmitter, a: Operand): Expr {
  const { mod, bin } = e;
  const f = mod.f64;
  const i = mod.i64;
  const bits = e.let(bin.i64, i.reinterpret(a()), 'lb');
  const k0 = mod.i32.sub(mod.i32.wrap(i.shr_u(bits(), i.const(52n))), mod.i32.const(1023));
  const m0 = e.let(bin.f64, f.reinterpret(i.or(i.and(bits(), i.const(0x000fffffffffffffn)), i.const(0x3ff0000000000000n))), 'lm0');
  const hi = e.let(bin.i32, f.gt(m0(), f.const(Math.SQRT2)), 'lhi');
  const m = e.let(bin.f64, mod.select(hi(), f.mul(m0(), f.const(0.5)), m0()), 'lm');
  const k = e.let(bin.f64, f.convert_s.i32(mod.i32.add(k0, hi())), 'lk');
  const s = e.let(bin.f64, f.div(f.sub(m(), f.const(1)), f.add(m(), f.const(1))), 'ls');
  const s2 = e.let(bin.f64, f.mul(s(), s()), 'ls2');
  const series = hornerF64(mod, s2, [1 / 15, 1 / 13, 1 / 11, 1 / 9, 1 / 7, 1 / 5, 1 / 3, 1]);
  return f.add(f.mul(f.mul(s(), f.const(2)), series), f.add(f.mul(k(), f.const(LN2_LO)), f.mul(k(), f.const(LN2_HI))));
}

/** e^t in f64 for any t (clamped to ±800: beyond, the float32 result is 0 or inf anyway). */
function expF64(e: FnEmitter, t: Operand): Expr {
  const { mod, bin } = e;
  const f = mod.f64;
  const tc = e.let(bin.f64, f.max(f.min(t(), f.const(800)), f.const(-800)), 'xt');
  const n = e.let(bin.f64, f.nearest(f.mul(tc(), f.const(Math.LOG2E))), 'xn');
  const r = e.let(bin.f64, f.sub(f.sub(tc(), f.mul(n(), f.const(LN2_HI))), f.mul(n(), f.const(LN2_LO))), 'xr');
  const p = hornerF64(mod, r, EXP_F64);
  const ni = e.let(bin.i32, mod.i32.trunc_s_sat.f64(n()), 'xni');
  const n1 = e.let(bin.i32, mod.i32.shr_s(ni(), mod.i32.const(1)), 'xn1');
  return f.mul(f.mul(p, pow2F64(mod, n1())), pow2F64(mod, mod.i32.sub(ni(), n1())));
}

/** `kiln.pow(x: f32, y: f32) -> f32` with Math.pow's special cases, computed in f64. */
export function ensurePow(ctx: { bin: Binaryen; mod: Module }): string {
  return ensureFunction(ctx, 'kiln.pow', () => {
    const { bin, mod } = ctx;
    const e = new FnEmitter(bin, mod, [
      ['x', bin.f32],
      ['y', bin.f32],
    ], false);
    const f = mod.f64;
    const xd = e.let(bin.f64, f.promote(e.get(0)), 'xd');
    const yd = e.let(bin.f64, f.promote(e.get(1)), 'yd');
    const ax = e.let(bin.f64, f.abs(xd()), 'ax');
    // ln|x|: -inf at 0, inf at inf, NaN at NaN.
    const ln = e.ifElse(
      f.eq(ax(), f.const(0)),
      bin.f64,
      () => f.const(-Infinity),
      () => e.ifElse(f.lt(ax(), f.const(Infinity)), bin.f64, () => lnF64(e, ax), () => f.add(ax(), f.const(0)))(),
      'ln',
    );
    // y·ln|x| is NaN for |x| = 1 with y = ±inf, as Math.pow(1, inf) is.
    const t = e.let(bin.f64, f.mul(yd(), ln()), 't');
    const mag = e.let(bin.f64, expF64(e, t), 'mag');
    const isInt = e.let(bin.i32, f.eq(f.floor(yd()), yd()), 'isint');
    const odd = mod.i32.and(
      isInt(),
      mod.i32.and(f.lt(f.abs(yd()), f.const(2 ** 53)), f.ne(f.mul(f.floor(f.mul(yd(), f.const(0.5))), f.const(2)), yd())),
    );
    const negX = mod.i32.and(mod.i32.lt_s(mod.i32.reinterpret(e.get(0)), mod.i32.const(0)), f.eq(xd(), xd()));
    // A negative finite base needs an integer exponent; -0 and -inf do not.
    const finiteNonzero = mod.i32.and(f.lt(ax(), f.const(Infinity)), f.ne(ax(), f.const(0)));
    const signed = mod.select(
      negX,
      mod.select(odd, f.neg(mag()), mod.select(mod.i32.and(mod.i32.eqz(isInt()), finiteNonzero), f.const(NaN), mag())),
      mag(),
    );
    e.finish('kiln.pow', bin.f32, mod.select(f.eq(yd(), f.const(0)), mod.f32.const(1), mod.f32.demote(signed)));
  });
}

/**
 * `kiln.ipow(a: i32, b: i32) -> i32`: Math.pow stored into an Int32Array, i.e. the wrapped
 * integer power for b ≥ 0 (exact while |a^b| < 2^53) and trunc(1/a^|b|) for b < 0.
 */
export function ensureIntPow(ctx: { bin: Binaryen; mod: Module }): string {
  return ensureFunction(ctx, 'kiln.ipow', () => {
    const { bin, mod } = ctx;
    const e = new FnEmitter(bin, mod, [
      ['a', bin.i32],
      ['b', bin.i32],
    ], false);
    const i = mod.i32;
    const a = () => e.get(0);
    const b = () => e.get(1);
    const base = e.local(bin.i32, 'base');
    const n = e.local(bin.i32, 'n');
    const r = e.local(bin.i32, 'r');
    const loop = e.label('pow');
    e.emit(e.set(base, a()), e.set(n, b()), e.set(r, i.const(1)));
    e.when(i.gt_s(e.get(n), i.const(0)), () => {
      e.emit(
        mod.loop(
          loop,
          e.block([
            mod.if(i.and(e.get(n), i.const(1)), e.set(r, i.mul(e.get(r), e.get(base)))),
            e.set(base, i.mul(e.get(base), e.get(base))),
            e.set(n, i.shr_u(e.get(n), i.const(1))),
            mod.br(loop, i.ne(e.get(n), i.const(0))),
          ]),
        ),
      );
    });
    // b < 0: 1 → 1, -1 → ±1, anything else → |1/a^n| < 1 (or inf at 0) → 0.
    const negative = mod.select(
      i.eq(a(), i.const(1)),
      i.const(1),
      mod.select(i.eq(a(), i.const(-1)), mod.select(i.and(b(), i.const(1)), i.const(-1), i.const(1)), i.const(0)),
    );
    e.finish('kiln.ipow', bin.i32, mod.select(i.lt_s(b(), i.const(0)), negative, e.get(r)));
  });
}

// ---- the table the templates use ------------------------------------------------------------

export type VectorMath = (e: FnEmitter, x: Operand) => Expr;

/** The f32x4 routines by op name. */
export const vectorMath = {
  exp: expV,
  log: logV,
  tanh: tanhV,
  sigmoid: sigmoidV,
  erf: erfV,
  expm1: expm1V,
  log1p: log1pV,
  sin: (e, x) => sinCosV(e, x, false),
  cos: (e, x) => sinCosV(e, x, true),
} satisfies Record<string, VectorMath>;

export type VectorMathName = keyof typeof vectorMath;

/**
 * `kiln.<name>.f32x4(v128) -> v128`: the routine as a function, for scalar code (which calls it
 * on a splat and takes lane 0) so that each routine is written, and tested, once.
 */
export function ensureVectorMathFn(ctx: { bin: Binaryen; mod: Module; fma?: boolean }, name: VectorMathName): string {
  const fname = `kiln.${name}.f32x4${ctx.fma ? '.fma' : ''}`;
  return ensureFunction(ctx, fname, () => {
    const e = new FnEmitter(ctx.bin, ctx.mod, [['x', ctx.bin.v128]], false, ctx.fma);
    const r = vectorMath[name](e, () => e.get(0));
    e.finish(fname, ctx.bin.v128, r);
  });
}

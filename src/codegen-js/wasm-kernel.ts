/**
 * Fused pointwise and reduction kernels (`LoopNest`, from `src/ir/loop-nest.ts`) → WebAssembly with
 * f32x4 SIMD, built with binaryen. The semantic reference is `js-kernel.ts`; this computes
 * the same values in float32 (op templates: `wasm-templates.ts`; exp/tanh/...: `wasm-math.ts`).
 *
 * The stages, in order:
 * 1. `planLoopNest` (wasm-plan.ts): collapse loops and pick the loop to run four lanes at a
 *    time. Loads along it are contiguous (v128.load), broadcast (a scalar splatted once) or
 *    gathered lane by lane.
 * 2. `KernelGen`: loops with i32 index math; values that do not depend on the innermost loop
 *    are computed once before it (the preheader); a pointwise vector loop computes 2-4 vectors
 *    per iteration, interleaved; the vector loop is followed by a scalar remainder, and cut into
 *    segments where pad/concat/unfold guards on it are known; reductions keep f32x4 partial
 *    accumulators in locals, combined across lanes at the end.
 *
 * NOTE: guarded loads (pad, unslice, concat) run only where their guards hold (an `if`, or a
 * segment where the guard is known), so no kernel reads outside its buffers (wasm would trap);
 * `select` picks only between values that read no memory.
 */
import type binaryen from 'binaryen';
import { ArgumentError, CompileError } from '../ir/errors.js';
import type { DType } from '../ir/types.js';
import { add, type IExpr, key, loopVar, scale } from '../ir/index-expr.js';
import { type Cond, type LoopNest, type SExpr, childrenOf, walkNodes } from '../ir/loop-nest.js';
import { has, type KernelPlan, movingRange, planLoopNest, splitVar, staticRange, union, varsOf } from './wasm-plan.js';
import { type Binaryen, type Expr, FnEmitter, type Module, type Operand, vectorMath } from './wasm-math.js';
import { applyTemplate, buildVector, castValue, extractLane, selectScalar, splat, valueType, type WasmArg } from './wasm-templates.js';

/** The binaryen.js namespace (the default export of `binaryen`). */
export type BinaryenModule = Binaryen;

export interface WasmKernelOptions {
  /** Use f32x4 loops where the nest allows (default true); false forces scalar code. */
  vectorize?: boolean;
  /** Keep v128 constants in locals set at entry (default true). */
  poolConstants?: boolean;
  /**
   * Add params `(begin, end)` after the inputs: the kernel then runs only iterations
   * [begin, end) of its outermost loop (`KernelPlan.splitExtent` of them), so threads can share
   * it (begin a multiple of 4 keeps vector accesses aligned). A kernel with nothing to split
   * (`splitExtent` 0: a full reduction or a scalar) ignores them and must be called once.
   */
  split?: boolean;
  /**
   * Vectors a pointwise kernel computes per loop iteration, their instructions interleaved
   * (default 2): independent dependency chains let the core overlap long math (tanh, exp).
   */
  interleave?: number;
  /** Polynomials (exp, tanh, ...) use relaxed SIMD's fused multiply-add (default false). */
  fma?: boolean;
}

/**
 * Vectors per iteration of pointwise kernels: 4 for long math (W2's gelu chain: 1.42 ms vs
 * 1.56 with 2 and 1.62 with 1 on one core), 2 for the rest (bias + relu: 7.2 µs vs 7.9 with 1);
 * bench/wasm-elementwise-micro.ts.
 */
function defaultInterleave(body: SExpr): number {
  let ops = 0;
  walkNodes(body, (s) => {
    if (s.t === 'op') ops += s.op in vectorMath ? 8 : 1;
  });
  return ops >= 12 ? 4 : 2;
}

const sizeOf = (d: DType): number => (d === 'bool' ? 1 : 4);

// ---- stage 2: code ------------------------------------------------------------------------

interface PathStep {
  readonly node: number;
  readonly conds: readonly Cond[];
  readonly side: 'a' | 'b';
  readonly vars: number;
}

interface Preheader {
  readonly loop: number;
  readonly stmts: Expr[];
  readonly cache: Map<string, Operand>;
  readonly scope: Map<string, Operand>;
}

const INIT_F32 = { sum: 0, prod: 1, max: -Infinity, min: Infinity } as const;
const INIT_I32 = { sum: 0, prod: 1, max: -0x80000000, min: 0x7fffffff } as const;

class KernelGen {
  private readonly mod: Module;
  private readonly bin: Binaryen;
  private readonly iv: number[];
  private readonly ids = new Map<SExpr, number>();
  private readonly deps = new Map<SExpr, number>();
  private readonly loads = new Map<SExpr, boolean>();
  private scopes: Map<string, Operand>[] = [new Map()];
  private path: PathStep[] = [];
  private pre: Preheader | null = null;
  private readonly vv: number | null;
  /** Guards on the vector loop that are known in the segment being generated. */
  private known = new Map<Cond, boolean>();

  constructor(
    private readonly e: FnEmitter,
    private readonly p: KernelPlan,
    /** Param locals [begin, end) bounding loop 0 (`split` kernels), or null. */
    private readonly range: readonly [number, number] | null,
    /** Vectors per iteration of a pointwise kernel's vector loop. */
    private readonly unroll = 1,
  ) {
    this.mod = e.mod;
    this.bin = e.bin;
    this.vv = p.vectorLoop;
    this.iv = p.extents.map((_, d) => e.local(e.bin.i32, `i${d}`));
    walkNodes(p.body, (s) => this.ids.set(s, this.ids.size));
  }

  // ---- analysis ----

  private depsOf(s: SExpr): number {
    const hit = this.deps.get(s);
    if (hit !== undefined) return hit;
    let m = s.t === 'load' || s.t === 'index' ? varsOf(s.index) : 0;
    for (const a of childrenOf(s)) m = union(m, this.depsOf(a));
    if (s.t === 'select') for (const c of s.conds) m = union(m, varsOf(c.e));
    this.deps.set(s, m);
    return m;
  }

  private readsMemory(s: SExpr): boolean {
    const hit = this.loads.get(s);
    if (hit !== undefined) return hit;
    const r = s.t === 'load' || childrenOf(s).some((a) => this.readsMemory(a));
    this.loads.set(s, r);
    return r;
  }

  // ---- index math (i32) ----

  /** `e` in i32; `lane` substitutes the vector variable by `i_vv + lane` (gathers). */
  private ix(e: IExpr, lane?: number): Expr {
    const i = this.mod.i32;
    const variable = (v: number): Expr => {
      const get = this.e.get(this.iv[v]!);
      return lane !== undefined && v === this.vv && lane !== 0 ? i.add(get, i.const(lane)) : get;
    };
    if (e.t === 'aff') {
      let acc: Expr | null = null;
      for (const [v, c] of [...e.terms].sort((x, y) => x[0] - y[0])) {
        const term = c === 1 ? variable(v) : i.mul(variable(v), i.const(c));
        acc = acc === null ? term : i.add(acc, term);
      }
      if (acc === null) return i.const(e.c);
      return e.c === 0 ? acc : i.add(acc, i.const(e.c));
    }
    if (e.t === 'sum') return e.parts.map((p) => this.ix(p, lane)).reduce((a, b) => i.add(a, b));
    // NOTE: operands are non-negative, so unsigned division is floor division.
    const a = this.ix(e.a, lane);
    return e.t === 'div' ? i.div_u(a, i.const(e.d)) : e.t === 'mod' ? i.rem_u(a, i.const(e.d)) : i.mul(a, i.const(e.d));
  }

  /** Byte address of element `e` of the buffer in param `ptr`; the part not on the innermost loop is hoisted. */
  private address(ptr: number, e: IExpr, size: number, lane?: number): Expr {
    const i = this.mod.i32;
    // Bytes: affine parts fold the element size into their coefficients.
    const bytes = (x: IExpr): Expr => (x.t === 'aff' || size === 1 ? this.ix(scale(x, size), lane) : i.shl(this.ix(x, lane), i.const(Math.log2(size))));
    const plus = (x: IExpr): Expr => (x.t === 'aff' && x.terms.size === 0 && x.c === 0 ? this.e.get(ptr) : i.add(this.e.get(ptr), bytes(x)));
    const pre = this.pre;
    const split = pre && lane === undefined ? splitVar(e, pre.loop) : null;
    if (!pre || !split) return plus(e);
    const k = `base:${ptr}:${key(split.rest)}`;
    let base = pre.cache.get(k);
    if (!base) {
      const rest = split.rest;
      if (rest.t === 'aff' && rest.terms.size === 0 && rest.c === 0) base = () => this.e.get(ptr);
      else {
        const b = this.e.local(this.bin.i32, 'base');
        pre.stmts.push(this.e.set(b, plus(rest)));
        base = () => this.e.get(b);
      }
      pre.cache.set(k, base);
    }
    if (split.coeff === 0) return base();
    return i.add(base(), i.mul(this.e.get(this.iv[pre.loop]!), i.const(split.coeff * size)));
  }

  private condExpr(conds: readonly Cond[]): Expr {
    const i = this.mod.i32;
    return conds
      .map((c) => {
        const x = this.ix(c.e);
        if (c.t === 'divisible') return i.eqz(i.rem_s(x, i.const(c.d)));
        return i.lt_u(c.lo === 0 ? x : i.sub(x, i.const(c.lo)), i.const(c.hi - c.lo));
      })
      .reduce((a, b) => i.and(a, b));
  }

  // ---- scalar and vector values ----

  private canHoist(deps: number): boolean {
    const pre = this.pre;
    return pre !== null && !has(deps, pre.loop) && this.path.every((s) => !has(s.vars, pre.loop));
  }

  private lookup(k: string): Operand | undefined {
    for (let s = this.scopes.length - 1; s >= 0; s--) {
      const hit = this.scopes[s]!.get(k);
      if (hit) return hit;
    }
    return undefined;
  }

  /** The value of `s` with 1 or 4 lanes, computed once per scope. */
  gen(s: SExpr, lanes: 1 | 4): Operand {
    if (s.t === 'const') return this.constant(s, lanes);
    const deps = this.depsOf(s);
    const uniform = lanes === 4 && (this.vv === null || !has(deps, this.vv));
    if (this.canHoist(deps)) return this.hoisted(s, lanes, uniform);
    const k = `${this.ids.get(s)}:${lanes}`;
    const hit = this.lookup(k);
    if (hit) return hit;
    const r = uniform ? this.e.let(this.bin.v128, splat(this.e, this.gen(s, 1)(), s.dtype), 'splat') : this.compute(s, lanes);
    this.scopes[this.scopes.length - 1]!.set(k, r);
    return r;
  }

  /** Computes `s` in the preheader of the innermost loop, under the guards on the path to it. */
  private hoisted(s: SExpr, lanes: 1 | 4, uniform: boolean): Operand {
    const pre = this.pre!;
    const path = this.path;
    const k = `${this.ids.get(s)}:${lanes}:${path.map((p) => `${p.node}${p.side}`).join(',')}`;
    const hit = pre.cache.get(k);
    if (hit) return hit;
    const saved = { scopes: this.scopes, path };
    this.pre = null;
    let r: Operand;
    try {
      this.e.into(pre.stmts, () => {
        const value = (): Operand =>
          uniform ? this.e.let(this.bin.v128, splat(this.e, this.gen(s, 1)(), s.dtype), 'splat') : this.gen(s, lanes);
        if (path.length === 0) {
          this.scopes = [pre.scope];
          r = value();
          return;
        }
        const local = this.e.local(valueType(this.bin, s.dtype, lanes), 'guarded');
        const i = this.mod.i32;
        const cond = path
          .map((p) => (p.side === 'a' ? this.condExpr(p.conds) : i.eqz(this.condExpr(p.conds))))
          .reduce((a, b) => i.and(a, b));
        this.e.when(cond, () => {
          this.scopes = [pre.scope, new Map()];
          this.e.emit(this.e.set(local, value()()));
        });
        r = () => this.e.get(local);
      });
    } finally {
      this.pre = pre;
      this.scopes = saved.scopes;
      this.path = saved.path;
    }
    pre.cache.set(k, r!);
    return r!;
  }

  private constant(s: SExpr & { t: 'const' }, lanes: 1 | 4): Operand {
    const { mod, e } = this;
    const v = s.value;
    if (lanes === 1) return s.dtype === 'f32' ? () => mod.f32.const(v) : () => mod.i32.const(v | 0);
    if (s.dtype === 'f32') return () => e.f32x4(v);
    if (s.dtype === 'bool') return () => e.i32x4(v ? -1 : 0);
    return () => e.i32x4(v | 0);
  }

  private compute(s: SExpr, lanes: 1 | 4): Operand {
    switch (s.t) {
      case 'load':
        return this.load(s, lanes);
      case 'index':
        return this.index(s, lanes);
      case 'op': {
        const args: WasmArg[] = s.args.map((a) => ({
          get: this.gen(a, lanes),
          dtype: a.dtype,
          ...(a.t === 'const' ? { value: a.value } : {}),
        }));
        return this.e.let(valueType(this.bin, s.dtype, lanes), applyTemplate(this.e, s.op, args, s.dtype, lanes), s.op);
      }
      case 'cast':
        return castValue(this.e, s.arg.dtype, s.dtype, this.gen(s.arg, lanes), lanes);
      case 'select':
        return this.select(s, lanes);
      case 'const':
        return this.constant(s, lanes);
    }
  }

  private load(s: SExpr & { t: 'load' }, lanes: 1 | 4): Operand {
    const { mod, e } = this;
    const ptr = 1 + s.input;
    const size = sizeOf(s.dtype);
    const scalarLoad = (addr: Expr): Expr =>
      s.dtype === 'f32' ? mod.f32.load(0, 4, addr) : s.dtype === 'i32' ? mod.i32.load(0, 4, addr) : mod.i32.load8_u(0, 1, addr);
    if (lanes === 1) return e.let(valueType(this.bin, s.dtype, 1), scalarLoad(this.address(ptr, s.index, size)), `x${s.input}`);
    const split = splitVar(s.index, this.vv!);
    if (split?.coeff === 1) {
      const addr = this.address(ptr, s.index, size);
      if (s.dtype !== 'bool') return e.let(this.bin.v128, mod.v128.load(0, 4, addr), `x${s.input}`);
      const bytes = mod.i32x4.extend_low_i16x8_u(mod.i16x8.extend_low_i8x16_u(mod.v128.load32_zero(0, 1, addr)));
      return e.let(this.bin.v128, mod.i32x4.ne(bytes, e.i32x4(0)), `x${s.input}`);
    }
    // A gather: four scalar loads.
    const lanesOut: Operand[] = [];
    if (split) {
      const a0 = e.let(this.bin.i32, this.address(ptr, s.index, size), 'gather');
      for (let j = 0; j < 4; j++) {
        const addr = j === 0 ? a0() : mod.i32.add(a0(), mod.i32.const(j * split.coeff * size));
        lanesOut.push(e.let(valueType(this.bin, s.dtype, 1), scalarLoad(addr), 'lane'));
      }
    } else {
      for (let j = 0; j < 4; j++) lanesOut.push(e.let(valueType(this.bin, s.dtype, 1), scalarLoad(this.address(ptr, s.index, size, j)), 'lane'));
    }
    return e.let(this.bin.v128, buildVector(this.e, lanesOut, s.dtype), `x${s.input}`);
  }

  private index(s: SExpr & { t: 'index' }, lanes: 1 | 4): Operand {
    const { mod, e } = this;
    if (lanes === 1) {
      const v = this.ix(s.index);
      return e.let(valueType(this.bin, s.dtype, 1), s.dtype === 'f32' ? mod.f32.convert_s.i32(v) : v, 'index');
    }
    const split = splitVar(s.index, this.vv!);
    let v: Expr;
    if (split) {
      const c = split.coeff;
      v = mod.i32x4.add(mod.i32x4.splat(this.ix(s.index)), e.i32x4Lanes([0, c, 2 * c, 3 * c]));
    } else {
      const parts: Operand[] = [];
      for (let j = 0; j < 4; j++) parts.push(e.let(this.bin.i32, this.ix(s.index, j), 'lane'));
      v = buildVector(this.e, parts, 'i32');
    }
    return e.let(this.bin.v128, s.dtype === 'f32' ? mod.f32x4.convert_i32x4_s(v) : v, 'index');
  }

  private select(s: SExpr & { t: 'select' }, lanes: 1 | 4): Operand {
    const { mod, e } = this;
    if (s.conds.some((c) => this.known.get(c) === false)) return this.gen(s.b, lanes);
    // Guards known to hold in this segment are not tested.
    const conds = s.conds.filter((c) => this.known.get(c) !== true);
    if (conds.length === 0) return this.gen(s.a, lanes);
    const id = this.ids.get(s)!;
    const vars = conds.reduce((m, c) => union(m, varsOf(c.e)), 0);
    const pre = this.pre;
    let cond: Operand;
    if (pre && !has(vars, pre.loop)) {
      const k = `cond:${id}:${conds.map((c) => s.conds.indexOf(c)).join(',')}`;
      let hit = pre.cache.get(k);
      if (!hit) {
        const local = e.local(this.bin.i32, 'guard');
        pre.stmts.push(e.set(local, this.condExpr(conds)));
        hit = () => e.get(local);
        pre.cache.set(k, hit);
      }
      cond = hit;
    } else cond = e.let(this.bin.i32, this.condExpr(conds), 'guard');
    const type = valueType(this.bin, s.dtype, lanes);
    if (!this.readsMemory(s.a) && !this.readsMemory(s.b)) {
      const a = this.gen(s.a, lanes);
      const b = this.gen(s.b, lanes);
      return e.let(type, lanes === 4 ? mod.select(cond(), a(), b()) : selectScalar(e, cond, a, b, s.dtype), 'select');
    }
    // A guarded load runs only where its guard holds.
    const branch = (side: 'a' | 'b') => (): Expr => {
      this.scopes.push(new Map());
      this.path.push({ node: id, conds, side, vars });
      try {
        return this.gen(side === 'a' ? s.a : s.b, lanes)();
      } finally {
        this.path.pop();
        this.scopes.pop();
      }
    };
    return e.ifElse(cond(), type, branch('a'), branch('b'), 'select');
  }

  // ---- loops ----

  /** `for (i_d = from; i_d < to; i_d += step)`, `to - from` a multiple of `step`. */
  private loop(d: number, from: number, to: number, step: number, body: () => void): void {
    if (from >= to) return;
    const { mod, e } = this;
    const i = this.iv[d]!;
    const label = e.label('L');
    e.emit(e.set(i, mod.i32.const(from)));
    const stmts = e.capture(body);
    stmts.push(e.set(i, mod.i32.add(e.get(i), mod.i32.const(step))));
    stmts.push(mod.br(label, mod.i32.lt_u(e.get(i), mod.i32.const(to))));
    e.emit(mod.loop(label, mod.block(null, stmts)));
  }

  /** Loops `from..to-1` in order around `body`. */
  private nest(from: number, to: number, body: () => void): void {
    if (from >= to) return body();
    const inner = (): void => this.nest(from + 1, to, body);
    if (this.range && from === 0) return this.rangedLoop(null, inner);
    this.loop(from, 0, this.p.extents[from]!, 1, inner);
  }

  /** Runs `fn` (which emits the innermost loop `loop`) with a preheader placed before it. */
  private withPreheader(loop: number, fn: () => void): void {
    const pre: Preheader = { loop, stmts: [], cache: new Map(), scope: new Map() };
    const saved = this.pre;
    this.pre = pre;
    let stmts: Expr[];
    try {
      stmts = this.e.capture(fn);
    } finally {
      this.pre = saved;
    }
    this.e.emit(...pre.stmts, ...stmts);
  }

  /**
   * The loop over `d` in 4-lane steps and a scalar remainder (or all scalar); cut first into
   * segments where every guard on the vector loop is known, so none is tested inside.
   */
  private vectorAndRemainder(d: number, vector: () => void, scalar: () => void, unroll = 1): void {
    const wide = unroll > 1 && this.vv === d ? (): void => this.interleaved(d, unroll, vector) : null;
    if (this.range && d === 0) return this.rangedLoop(this.vv === d ? vector : null, scalar, wide, unroll);
    const n = this.p.extents[d]!;
    if (this.vv !== d) return this.loop(d, 0, n, 1, scalar);
    const guards: [Cond, { from: number; to: number }][] = [];
    const moving: Cond[] = [];
    walkNodes(this.p.body, (s) => {
      if (s.t !== 'select') return;
      for (const c of s.conds) {
        if (!has(varsOf(c.e), d)) continue;
        const r = staticRange(c, d);
        if (r) guards.push([c, r]);
        else if (movingRange(c, d)) moving.push(c);
      }
    });
    if (moving.length) return this.movingSegments(d, [...guards.map(([c]) => c), ...moving], vector, scalar, wide, unroll);
    const clamp = (x: number): number => Math.max(0, Math.min(n, x));
    const cuts = [...new Set([0, n, ...guards.flatMap(([, r]) => [clamp(r.from), clamp(r.to)])])].sort((a, b) => a - b);
    for (let k = 0; k + 1 < cuts.length; k++) {
      const [from, to] = [cuts[k]!, cuts[k + 1]!];
      this.known = new Map(guards.map(([c, r]) => [c, from >= r.from && from < r.to]));
      const big = wide ? from + (to - from) - ((to - from) % (4 * unroll)) : from;
      const mid = from + (to - from) - ((to - from) % 4);
      if (wide) this.loop(d, from, big, 4 * unroll, wide);
      this.loop(d, big, mid, 4, vector);
      this.loop(d, mid, to, 1, scalar);
    }
    this.known = new Map();
  }

  /**
   * Guards on `d` whose range moves with outer loops: the range where all hold is computed
   * before the loop; it runs 4 lanes at a time there, and tests the guards per element outside.
   */
  private movingSegments(d: number, guards: readonly Cond[], vector: () => void, scalar: () => void, wide: (() => void) | null, unroll: number): void {
    const { mod, e } = this;
    const i32 = mod.i32;
    const max = (a: Operand, b: Operand): Operand => e.let(this.bin.i32, mod.select(i32.gt_s(a(), b()), a(), b()), 'seg');
    const min = (a: Operand, b: Operand): Operand => e.let(this.bin.i32, mod.select(i32.lt_s(a(), b()), a(), b()), 'seg');
    let lo: Operand = () => i32.const(0);
    let hi: Operand = () => i32.const(this.p.extents[d]!);
    for (const c of guards) {
      if (c.t !== 'range') continue;
      const rest = this.ix(add(c.e, scale(loopVar(d), -1)));
      const r = e.let(this.bin.i32, rest, 'off');
      lo = max(lo, e.let(this.bin.i32, i32.sub(i32.const(c.lo), r()), 'seg'));
      hi = min(hi, e.let(this.bin.i32, i32.sub(i32.const(c.hi), r()), 'seg'));
    }
    hi = max(hi, lo);
    const mid = e.let(this.bin.i32, i32.add(lo(), i32.and(i32.sub(hi(), lo()), i32.const(-4))), 'seg');
    const big = wide ? e.let(this.bin.i32, i32.add(lo(), i32.mul(i32.div_s(i32.sub(hi(), lo()), i32.const(4 * unroll)), i32.const(4 * unroll))), 'seg') : lo;
    const end: Operand = () => i32.const(this.p.extents[d]!);
    this.known = new Map();
    this.dynamicLoop(d, () => i32.const(0), lo, 1, scalar);
    this.known = new Map(guards.map((c) => [c, true]));
    if (wide) this.dynamicLoop(d, lo, big, 4 * unroll, wide);
    this.dynamicLoop(d, big, mid, 4, vector);
    this.dynamicLoop(d, mid, hi, 1, scalar);
    this.known = new Map();
    this.dynamicLoop(d, hi, end, 1, scalar);
  }

  /** `for (i_d = from; i_d < to; i_d += step)` with bounds computed at run time. */
  private dynamicLoop(d: number, from: Operand, to: Operand, step: number, body: () => void): void {
    const { mod, e } = this;
    const i = this.iv[d]!;
    const label = e.label('L');
    const stmts = e.capture(body);
    stmts.push(e.set(i, mod.i32.add(e.get(i), mod.i32.const(step))));
    stmts.push(mod.br(label, mod.i32.lt_s(e.get(i), to())));
    e.emit(e.set(i, from()));
    e.emit(mod.if(mod.i32.lt_s(e.get(i), to()), mod.loop(label, mod.block(null, stmts))));
  }

  /** Loop 0 over [begin, end) from the params: 4-lane steps while 4 fit, then single ones. */
  private rangedLoop(vector: (() => void) | null, scalar: () => void, wide: (() => void) | null = null, unroll = 1): void {
    const { mod, e } = this;
    const i = this.iv[0]!;
    const [begin, end] = this.range!;
    const i32 = mod.i32;
    e.emit(e.set(i, e.get(begin)));
    const part = (step: number, body: () => void): void => {
      const fits = (): Expr => (step === 1 ? i32.lt_s(e.get(i), e.get(end)) : i32.le_s(i32.add(e.get(i), i32.const(step)), e.get(end)));
      const label = e.label('L');
      const stmts = e.capture(body);
      stmts.push(e.set(i, i32.add(e.get(i), i32.const(step))), mod.br(label, fits()));
      e.emit(mod.if(fits(), mod.loop(label, mod.block(null, stmts))));
    };
    if (vector && wide) part(4 * unroll, wide);
    if (vector) part(4, vector);
    part(1, scalar);
  }

  /**
   * `body` (one vector's statements, ending in its store) for `copies` consecutive vectors of
   * loop `d`, interleaved statement by statement, the stores last. Each copy has its own locals
   * and reads its own index, so the chains are independent.
   * NOTE: stores go last so no copy reads memory another copy of this iteration has written
   * (an in-place kernel's output is its input, read at the same index).
   */
  private interleaved(d: number, copies: number, body: () => void): void {
    const { e, mod } = this;
    const base = this.iv[d]!;
    const offsets: Expr[] = [];
    const lists: Expr[][] = [];
    for (let u = 0; u < copies; u++) {
      let iu = base;
      if (u > 0) {
        iu = e.local(this.bin.i32, `i${d}_${u}`);
        offsets.push(e.set(iu, mod.i32.add(e.get(base), mod.i32.const(4 * u))));
      }
      this.iv[d] = iu;
      try {
        lists.push(e.capture(body));
      } finally {
        this.iv[d] = base;
      }
    }
    const stores = lists.map((l) => l.pop()!);
    const mixed: Expr[] = [];
    for (let k = 0; lists.some((l) => k < l.length); k++) for (const l of lists) if (k < l.length) mixed.push(l[k]!);
    e.emit(...offsets, ...mixed, ...stores);
  }

  /** The body's value for one loop iteration (fresh scopes: each loop body is its own code). */
  private value(lanes: 1 | 4): Operand {
    this.scopes = [new Map()];
    this.path = [];
    return this.gen(this.p.body, lanes);
  }

  private store(value: Expr, lanes: 1 | 4): void {
    const { mod, e } = this;
    const dtype = this.p.outDtype;
    const addr = this.address(0, this.p.out, sizeOf(dtype));
    if (lanes === 1) {
      if (dtype === 'f32') e.emit(mod.f32.store(0, 4, addr, value));
      else if (dtype === 'i32') e.emit(mod.i32.store(0, 4, addr, value));
      else e.emit(mod.i32.store8(0, 1, addr, value));
      return;
    }
    if (dtype !== 'bool') return e.emit(mod.v128.store(0, 4, addr, value));
    const ones = e.let(this.bin.v128, mod.i32x4.neg(value), 'bytes');
    const b16 = e.let(this.bin.v128, mod.i16x8.narrow_i32x4_u(ones(), ones()), 'bytes');
    e.emit(mod.v128.store32_lane(0, 1, 0, addr, mod.i8x16.narrow_i16x8_u(b16(), b16())));
  }

  // ---- reductions ----

  private reduceOp(): NonNullable<LoopNest['reduce']> {
    return this.p.reduce!;
  }

  private init(lanes: 1 | 4): Expr {
    const { mod, e } = this;
    const r = this.reduceOp();
    if (this.p.outDtype === 'f32') return lanes === 4 ? e.f32x4(INIT_F32[r]) : mod.f32.const(INIT_F32[r]);
    return lanes === 4 ? e.i32x4(INIT_I32[r]) : mod.i32.const(INIT_I32[r]);
  }

  private combine(a: Expr, b: Expr, lanes: 1 | 4): Expr {
    const { mod } = this;
    const r = this.reduceOp();
    const f32 = this.p.outDtype === 'f32';
    if (lanes === 4) {
      if (f32) return mod.f32x4[r === 'sum' ? 'add' : r === 'prod' ? 'mul' : r](a, b);
      if (r === 'sum') return mod.i32x4.add(a, b);
      if (r === 'prod') return mod.i32x4.mul(a, b);
      return r === 'max' ? mod.i32x4.max_s(a, b) : mod.i32x4.min_s(a, b);
    }
    // NOTE: f32.max/min propagate NaN, as the JS kernel's accumulation does.
    if (f32) return mod.f32[r === 'sum' ? 'add' : r === 'prod' ? 'mul' : r](a, b);
    if (r === 'sum') return mod.i32.add(a, b);
    if (r === 'prod') return mod.i32.mul(a, b);
    const ta = this.e.let(this.bin.i32, a, 'acc');
    const tb = this.e.let(this.bin.i32, b, 'acc');
    return mod.select(r === 'max' ? mod.i32.gt_s(ta(), tb()) : mod.i32.lt_s(ta(), tb()), ta(), tb());
  }

  /** Combines the four lanes of a vector accumulator: (l0 ⊕ l1) ⊕ (l2 ⊕ l3). */
  private horizontal(v: Operand): Expr {
    const ext = (j: number): Expr => extractLane(this.e, v(), this.p.outDtype, j);
    return this.combine(this.combine(ext(0), ext(1), 1), this.combine(ext(2), ext(3), 1), 1);
  }

  private accumulate(acc: number, lanes: 1 | 4): void {
    const v = this.value(lanes);
    this.e.emit(this.e.set(acc, this.combine(this.e.get(acc), v(), lanes)));
  }

  // ---- the kernel ----

  emit(): void {
    const p = this.p;
    const n = p.extents.length;
    const k = p.outerLoops;
    if (p.extents.slice(0, k).some((x) => x === 0)) return;
    if (p.reduce && p.extents.slice(k).some((x) => x === 0)) return this.fillEmpty();
    if (!p.reduce || k === n) return this.pointwise();
    if (this.vv !== null && this.vv < k) return this.columnReduce();
    return this.rowReduce();
  }

  private pointwise(): void {
    const n = this.p.extents.length;
    const value = (lanes: 1 | 4): Expr => {
      const v = this.value(lanes)();
      // A reduction over no loops (all reduced dims had size 1) still combines with its init.
      return this.p.reduce ? this.combine(this.init(lanes), v, lanes) : v;
    };
    if (n === 0) return this.store(value(1), 1);
    this.nest(0, n - 1, () =>
      this.withPreheader(n - 1, () =>
        this.vectorAndRemainder(
          n - 1,
          () => this.store(value(4), 4),
          () => this.store(value(1), 1),
          this.unroll,
        ),
      ),
    );
  }

  /** Reduced loops innermost: accumulators per output, f32x4 partials when the inner loop is vectorized. */
  private rowReduce(): void {
    const { e, bin } = this;
    const n = this.p.extents.length;
    const k = this.p.outerLoops;
    const scalarType = valueType(this.bin, this.p.outDtype, 1);
    this.nest(0, k, () => {
      const acc = e.local(scalarType, 'acc');
      e.emit(e.set(acc, this.init(1)));
      const accV = this.vv !== null ? e.local(bin.v128, 'accv') : null;
      if (accV !== null) e.emit(e.set(accV, this.init(4)));
      this.nest(k, n - 1, () =>
        this.withPreheader(n - 1, () =>
          this.vectorAndRemainder(
            n - 1,
            () => this.accumulate(accV!, 4),
            () => this.accumulate(acc, 1),
          ),
        ),
      );
      const total = accV === null ? e.get(acc) : this.combine(this.horizontal(() => e.get(accV)), e.get(acc), 1);
      this.store(total, 1);
    });
  }

  /** A reduction over leading axes: four adjacent outputs per vector, each lane its own accumulator. */
  private columnReduce(): void {
    const { e, bin } = this;
    const n = this.p.extents.length;
    const k = this.p.outerLoops;
    const vv = this.vv!;
    const reduced = (acc: number, lanes: 1 | 4): void =>
      this.nest(k, n - 1, () => this.withPreheader(n - 1, () => this.loop(n - 1, 0, this.p.extents[n - 1]!, 1, () => this.accumulate(acc, lanes))));
    this.nest(0, vv, () =>
      this.vectorAndRemainder(
        vv,
        () => {
          const acc = e.local(bin.v128, 'accv');
          e.emit(e.set(acc, this.init(4)));
          reduced(acc, 4);
          this.store(e.get(acc), 4);
        },
        () => {
          const acc = e.local(valueType(this.bin, this.p.outDtype, 1), 'acc');
          e.emit(e.set(acc, this.init(1)));
          reduced(acc, 1);
          this.store(e.get(acc), 1);
        },
      ),
    );
  }

  /** A reduction over an empty range stores what the JS kernel stores: its init, as the out dtype. */
  private fillEmpty(): void {
    const { mod } = this;
    const r = this.reduceOp();
    const dtype = this.p.outDtype;
    const k = this.p.outerLoops;
    const v = dtype === 'f32' ? mod.f32.const(INIT_F32[r]) : mod.i32.const(r === 'prod' ? 1 : 0);
    this.nest(0, k, () => this.store(v, 1));
  }
}

/**
 * Adds the exported function `name(out, x0, x1, ...)` (byte pointers into the module's memory,
 * one per kernel input, 16-byte aligned) computing `nest` in float32. Helper functions it calls
 * (`kiln.*`) are added once per module. The module needs SIMD128 and non-trapping float-to-int
 * (see `kernelFeatures`) and a memory (kiln imports a shared `env.memory`).
 *
 * @example
 * const bin = await getBinaryen();
 * const mod = newKernelModule(bin);
 * emitLoopNest(bin, mod, 'k0', lowerKernel(kernel), kernel.inputs.map((v) => v.type.dtype));
 * mod.validate();
 */
export function emitLoopNest(
  binaryen: BinaryenModule,
  mod: binaryen.Module,
  name: string,
  nest: LoopNest,
  inputDtypes: DType[],
  options: WasmKernelOptions = {},
): void {
  walkNodes(nest.body, (s) => {
    if (s.t !== 'load') return;
    if (s.input >= inputDtypes.length) {
      throw new ArgumentError(`emitLoopNest(${name}): the body reads input ${s.input} but ${inputDtypes.length} input dtypes were given`);
    }
    if (inputDtypes[s.input] !== s.dtype) {
      throw new ArgumentError(`emitLoopNest(${name}): input ${s.input} is loaded as ${s.dtype} but declared ${inputDtypes[s.input]}`);
    }
  });
  const plan = planLoopNest(nest, options);
  const params: [string, number][] = [['out', binaryen.i32], ...inputDtypes.map((_, i): [string, number] => [`x${i}`, binaryen.i32])];
  if (options.split) params.push(['begin', binaryen.i32], ['end', binaryen.i32]);
  const e = new FnEmitter(binaryen, mod, params, options.poolConstants ?? true, options.fma ?? false);
  const range = options.split && plan.splitExtent > 0 ? ([params.length - 2, params.length - 1] as const) : null;
  new KernelGen(e, plan, range, options.interleave ?? defaultInterleave(plan.body)).emit();
  e.finish(name, binaryen.none);
  mod.addFunctionExport(name, name);
}

// ---- modules ------------------------------------------------------------------------------

let binaryenPromise: Promise<Binaryen> | undefined;

/** binaryen.js, imported on first use (~0.4 s) and cached. */
export function getBinaryen(): Promise<Binaryen> {
  binaryenPromise ??= import('binaryen').then((m) => m.default);
  return binaryenPromise;
}

/** The wasm features kernels use. */
export function kernelFeatures(bin: Binaryen): number {
  const F = bin.Features;
  return F.MVP | F.SIMD128 | F.Atomics | F.BulkMemory | F.NontrappingFPToInt | F.SignExt | F.MutableGlobals | F.RelaxedSIMD;
}

/** A module importing a shared `env.memory`, with the features kernels need. */
export function newKernelModule(bin: Binaryen): Module {
  const mod = new bin.Module();
  mod.setFeatures(kernelFeatures(bin));
  mod.setMemory(1, 65536, null, [], true);
  mod.addMemoryImport('0', 'env', 'memory', true);
  return mod;
}

export interface CompiledLoopNest {
  /** The wasm binary: imports `env.memory`, exports `name`. */
  readonly bytes: Uint8Array;
  /** The text form before optimization (for snapshots and `--emit wat`). */
  readonly text: string;
  readonly plan: KernelPlan;
}

/**
 * Builds one kernel into a module of its own, validates it (throwing binaryen's report) and,
 * unless `optimize: false`, runs binaryen's -O2.
 */
export async function compileLoopNest(
  nest: LoopNest,
  inputDtypes: DType[],
  options: WasmKernelOptions & { name?: string; optimize?: boolean } = {},
): Promise<CompiledLoopNest> {
  const bin = await getBinaryen();
  const mod = newKernelModule(bin);
  const name = options.name ?? 'kernel';
  try {
    emitLoopNest(bin, mod, name, nest, inputDtypes, options);
    const text = mod.emitText();
    if (!mod.validate()) throw new CompileError(`emitLoopNest(${name}): binaryen rejected the generated module:\n${text.slice(0, 4000)}`);
    if (options.optimize ?? true) {
      bin.setOptimizeLevel(2);
      bin.setShrinkLevel(0);
      mod.optimize();
    }
    return { bytes: mod.emitBinary(), text, plan: planLoopNest(nest, options) };
  } finally {
    mod.dispose();
  }
}

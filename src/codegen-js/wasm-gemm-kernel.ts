/**
 * Building blocks of the WebAssembly GEMM (`wasm-gemm.ts`): a small function builder with
 * named locals, loops, exact-width f32x4 loads and stores, the register-tiled micro-kernel
 * and the B-panel packers. Everything here emits binaryen expressions; nothing runs.
 *
 * The multiply-add is f32x4.mul + f32x4.add, or relaxed SIMD's f32x4.relaxed_madd with `fma`
 * (one instruction where the hardware has FMA; the engine must accept relaxed SIMD).
 */
import type binaryen from 'binaryen';
import { type Binaryen, type Expr, type Module, WasmFn } from './wasm-fn.js';
import { relaxedMadd } from './wasm-math.js';

export type { Binaryen, Expr, Module } from './wasm-fn.js';

/** Bytes in a float32 and in a v128. */
export const F32 = 4;
export const V128 = 16;

/** A function under construction for the GEMM: i32 params, i32/v128 locals, loops. */
export class FnBuilder extends WasmFn {
  constructor(bin: Binaryen, mod: Module, params: ReadonlyArray<readonly [string, 'i32']>) {
    super(bin, mod, params.map(([name]) => [name, bin.i32] as const));
  }

  i32(name: string): number {
    return this.local(this.bin.i32, name);
  }

  v128(name: string): number {
    return this.local(this.bin.v128, name);
  }

  /** `local += delta` for an i32 local. */
  bump(index: number, delta: number): Expr {
    return this.set(index, this.mod.i32.add(this.get(index), this.mod.i32.const(delta)));
  }

  /** `while (cond()) body`, as `if (cond) loop { body; br_if loop cond }`. */
  whileLoop(cond: () => Expr, body: readonly Expr[]): Expr {
    const label = this.label('L');
    const { mod } = this;
    return mod.if(cond(), mod.loop(label, mod.block(null, [...body, mod.br(label, cond())])));
  }

  finish(name: string, body: readonly Expr[]): binaryen.FunctionRef {
    return this.addFunction(name, this.bin.none, this.mod.block(null, body));
  }
}

/** Loads `lanes` (1..4) float32 at `ptr + offset` into a v128, zeroing the lanes above. */
export function loadLanes(mod: Module, ptr: () => Expr, offset: number, lanes: number): Expr {
  switch (lanes) {
    case 4:
      return mod.v128.load(offset, V128, ptr());
    case 3:
      return mod.v128.load32_lane(offset + 8, F32, 2, ptr(), mod.v128.load64_zero(offset, 8, ptr()));
    case 2:
      return mod.v128.load64_zero(offset, 8, ptr());
    case 1:
      return mod.v128.load32_zero(offset, F32, ptr());
    default:
      throw new RangeError(`loadLanes: lanes must be 1..4, got ${lanes}`);
  }
}

/** Stores the low `lanes` (1..4) float32 of `value()` at `ptr + offset`; nothing past them. */
export function storeLanes(mod: Module, ptr: () => Expr, offset: number, lanes: number, value: () => Expr): Expr[] {
  switch (lanes) {
    case 4:
      return [mod.v128.store(offset, V128, ptr(), value())];
    case 3:
      return [mod.v128.store64_lane(offset, 8, 0, ptr(), value()), mod.v128.store32_lane(offset + 8, F32, 2, ptr(), value())];
    case 2:
      return [mod.v128.store64_lane(offset, 8, 0, ptr(), value())];
    case 1:
      return [mod.v128.store32_lane(offset, F32, 0, ptr(), value())];
    default:
      throw new RangeError(`storeLanes: lanes must be 1..4, got ${lanes}`);
  }
}

/** Lane counts of the f32x4 vectors that cover `width` columns: 10 → [4, 4, 2]. */
export function vectorLanes(width: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < width; c += 4) out.push(Math.min(4, width - c));
  return out;
}

/**
 * One register tile: C[mr, width] (+)= A[mr, kc] · B[kc, width], accumulators in locals.
 * A element (r, k) is at `a + r*aRow + k*aK` bytes, B element (k, j) at `b + k*bK + 4j`,
 * C element (r, j) at `c + r*cRow + 4j`.
 */
export interface TileKernel {
  name: string;
  mr: number;
  width: number;
  aRow: number;
  aK: number;
  bK: number;
  cRow: number;
  /** B rows are zero-padded to whole vectors (packed panels), so full v128 loads are safe. */
  bPadded: boolean;
  /** k steps per loop iteration. */
  unroll: number;
  /** A constant trip count bakes k in (no `kc` param); otherwise `kc` is a param. */
  kConst?: number;
  /** A constant C update mode (no `acc` param): true adds into C, false overwrites it. */
  accConst?: boolean;
  /** Multiply-add with f32x4.relaxed_madd (relaxed SIMD) instead of mul + add. */
  fma?: boolean;
}

/** The params a tile kernel takes, in order: `a, b, c[, kc][, acc]`. */
export function tileParams(t: TileKernel): string[] {
  return ['a', 'b', 'c', ...(t.kConst === undefined ? ['kc'] : []), ...(t.accConst === undefined ? ['acc'] : [])];
}

/** Adds the tile kernel function `t.name` to the module. */
export function emitTileKernel(bin: Binaryen, mod: Module, t: TileKernel): void {
  const names = tileParams(t);
  const f = new FnBuilder(bin, mod, names.map((n) => [n, 'i32'] as const));
  const [pa, pb, pc] = [0, 1, 2];
  const pkc = names.indexOf('kc');
  const pacc = names.indexOf('acc');
  const lanes = vectorLanes(t.width);
  const nv = lanes.length;
  const ap = f.i32('ap');
  const bp = f.i32('bp');
  const kk = f.i32('kk');
  const acc: number[][] = [];
  for (let r = 0; r < t.mr; r++) acc.push(lanes.map((_, j) => f.v128(`c${r}_${j}`)));
  const bv = lanes.map((_, j) => f.v128(`b${j}`));
  const av = f.v128('a_splat');

  const step = (u: number): Expr[] => {
    const out: Expr[] = [];
    lanes.forEach((l, j) => {
      const load = t.bPadded ? mod.v128.load(u * t.bK + j * V128, V128, f.get(bp)) : loadLanes(mod, () => f.get(bp), u * t.bK + j * V128, l);
      out.push(f.set(bv[j]!, load));
    });
    for (let r = 0; r < t.mr; r++) {
      out.push(f.set(av, mod.v128.load32_splat(u * t.aK + r * t.aRow, F32, f.get(ap))));
      for (let j = 0; j < nv; j++) {
        const cj = acc[r]![j]!;
        out.push(f.set(cj, t.fma ? relaxedMadd(bin, mod, f.get(bv[j]!), f.get(av), f.get(cj)) : mod.f32x4.add(f.get(cj), mod.f32x4.mul(f.get(bv[j]!), f.get(av)))));
      }
    }
    return out;
  };
  const advance = (steps: number): Expr[] => [f.bump(ap, steps * t.aK), f.bump(bp, steps * t.bK)];

  const body: Expr[] = [f.set(ap, f.get(pa)), f.set(bp, f.get(pb))];
  for (const row of acc) for (const cj of row) body.push(f.set(cj, mod.v128.const(new Uint8Array(16))));
  const U = t.unroll;
  const unrolled = (): Expr[] => [...Array.from({ length: U }, (_, u) => step(u)).flat(), ...advance(U)];
  if (t.kConst !== undefined) {
    const iters = Math.floor(t.kConst / U);
    if (iters === 1) body.push(...unrolled());
    else if (iters > 1) {
      body.push(f.set(kk, mod.i32.const(iters)));
      body.push(f.whileLoop(() => mod.i32.ne(f.get(kk), mod.i32.const(0)), [...unrolled(), f.bump(kk, -1)]));
    }
    for (let u = 0; u < t.kConst % U; u++) body.push(...step(u));
  } else {
    body.push(f.set(kk, f.get(pkc)));
    body.push(f.whileLoop(() => mod.i32.ge_u(f.get(kk), mod.i32.const(U)), [...unrolled(), f.bump(kk, -U)]));
    if (U > 1) body.push(f.whileLoop(() => mod.i32.ne(f.get(kk), mod.i32.const(0)), [...step(0), ...advance(1), f.bump(kk, -1)]));
  }

  const store = (add: boolean): Expr[] =>
    acc.flatMap((row, r) =>
      row.flatMap((cj, j) => {
        const off = r * t.cRow + j * V128;
        const l = lanes[j]!;
        const value = add ? () => mod.f32x4.add(loadLanes(mod, () => f.get(pc), off, l), f.get(cj)) : () => f.get(cj);
        // Three lanes take two stores: compute the sum once, into the accumulator.
        if (add && l === 3) {
          return [f.set(cj, value()), ...storeLanes(mod, () => f.get(pc), off, l, () => f.get(cj))];
        }
        return storeLanes(mod, () => f.get(pc), off, l, value);
      }),
    );
  if (t.accConst !== undefined) body.push(...store(t.accConst));
  else body.push(mod.if(f.get(pacc), mod.block(null, store(true)), mod.block(null, store(false))));
  f.finish(t.name, body);
}

/**
 * Packs B[pc : pc+kc, jc : jc+width] into panels of `nr` columns: panel p holds, for each k,
 * `nr` floats (zero beyond `width`), so the micro-kernel reads one contiguous stream.
 * Panel p starts at `dst + p*panelBytes`. `src` points at element (pc, jc) of op(B).
 * Without transB, element (k, j) of op(B) is at `src + k*ldb*4 + 4j`; with it, at `src + j*ldb*4 + 4k`.
 */
export interface PackB {
  kc: number;
  width: number;
  nr: number;
  ldb: number;
  transB: boolean;
  panelBytes: number;
}

/**
 * Statements that pack one (kc × width) block of B; `src` and `dst` are i32 expressions.
 * Full panels go through a runtime loop; a partial last panel is packed after it.
 */
export function emitPackB(f: FnBuilder, p: PackB, src: () => Expr, dst: () => Expr): Expr[] {
  const { mod } = f;
  const s = f.i32('pk_src');
  const d = f.i32('pk_dst');
  const q = f.i32('pk_panel');
  const full = Math.floor(p.width / p.nr);
  const tail = p.width % p.nr;
  const panel = p.transB ? packPanelTransposed : packPanelRows;
  // Source bytes between consecutive panels.
  const srcStep = p.transB ? p.nr * p.ldb * F32 : p.nr * F32;
  const out: Expr[] = [f.set(s, src()), f.set(d, dst())];
  if (full > 0) {
    out.push(f.set(q, mod.i32.const(full)));
    out.push(
      f.whileLoop(() => mod.i32.ne(f.get(q), mod.i32.const(0)), [
        ...panel(f, p, s, d, p.nr),
        f.bump(s, srcStep),
        f.bump(d, p.panelBytes),
        f.bump(q, -1),
      ]),
    );
  }
  if (tail > 0) out.push(...panel(f, p, s, d, tail));
  return out;
}

const ZERO = new Uint8Array(16);

/** One panel of non-transposed B: each k row holds `cols` contiguous floats; pad to `nr`. */
function packPanelRows(f: FnBuilder, p: PackB, s: number, d: number, cols: number): Expr[] {
  const { mod } = f;
  const ps = f.i32('pr_src');
  const pd = f.i32('pr_dst');
  const kk = f.i32('pr_k');
  const lanes = vectorLanes(cols);
  const perK: Expr[] = [];
  for (let v = 0; v < p.nr / 4; v++) {
    const l = lanes[v];
    const value = l === undefined ? mod.v128.const(ZERO) : loadLanes(mod, () => f.get(ps), v * V128, l);
    perK.push(mod.v128.store(v * V128, V128, f.get(pd), value));
  }
  return [
    f.set(ps, f.get(s)),
    f.set(pd, f.get(d)),
    f.set(kk, mod.i32.const(p.kc)),
    f.whileLoop(() => mod.i32.ne(f.get(kk), mod.i32.const(0)), [...perK, f.bump(ps, p.ldb * F32), f.bump(pd, p.nr * F32), f.bump(kk, -1)]),
  ];
}

/**
 * One panel of transposed B (stored [n, k]): per 4 k, each group of 4 columns is read as four
 * v128 (one per stored row) and transposed with shuffles into four k rows of the panel.
 */
function packPanelTransposed(f: FnBuilder, p: PackB, s: number, d: number, cols: number): Expr[] {
  const { mod } = f;
  const ps = f.i32('pt_src');
  const pd = f.i32('pt_dst');
  const kk = f.i32('pt_k');
  const r = [0, 1, 2, 3].map((i) => f.v128(`pt_r${i}`));
  const t = [0, 1, 2, 3].map((i) => f.v128(`pt_t${i}`));
  const ld = p.ldb * F32;
  const groups = p.nr / 4;
  const byteMask = (ls: number[]): number[] => ls.flatMap((l) => [l * 4, l * 4 + 1, l * 4 + 2, l * 4 + 3]);
  const shuf = (x: number, y: number, ls: number[]): Expr => mod.i8x16.shuffle(f.get(x), f.get(y), byteMask(ls));

  // Packs k steps [0, nk) at the current ps/pd (nk = 4, or 1..3 for the k tail).
  const block = (nk: number): Expr[] => {
    const out: Expr[] = [];
    for (let g = 0; g < groups; g++) {
      const gc = Math.max(0, Math.min(4, cols - 4 * g));
      if (gc === 0) {
        for (let i = 0; i < nk; i++) out.push(mod.v128.store(i * p.nr * F32 + g * V128, V128, f.get(pd), mod.v128.const(ZERO)));
        continue;
      }
      for (let c = 0; c < 4; c++) {
        const value = c < gc ? loadLanes(mod, () => f.get(ps), (4 * g + c) * ld, nk) : mod.v128.const(ZERO);
        out.push(f.set(r[c]!, value));
      }
      // r_c = column c's k values; after two rounds of interleaves t_i = k row i's 4 columns.
      out.push(
        f.set(t[0]!, shuf(r[0]!, r[1]!, [0, 4, 1, 5])),
        f.set(t[1]!, shuf(r[2]!, r[3]!, [0, 4, 1, 5])),
        f.set(t[2]!, shuf(r[0]!, r[1]!, [2, 6, 3, 7])),
        f.set(t[3]!, shuf(r[2]!, r[3]!, [2, 6, 3, 7])),
      );
      const rows = [
        () => shuf(t[0]!, t[1]!, [0, 1, 4, 5]),
        () => shuf(t[0]!, t[1]!, [2, 3, 6, 7]),
        () => shuf(t[2]!, t[3]!, [0, 1, 4, 5]),
        () => shuf(t[2]!, t[3]!, [2, 3, 6, 7]),
      ];
      for (let i = 0; i < nk; i++) out.push(mod.v128.store(i * p.nr * F32 + g * V128, V128, f.get(pd), rows[i]!()));
    }
    return out;
  };
  const out: Expr[] = [f.set(ps, f.get(s)), f.set(pd, f.get(d))];
  const k4 = Math.floor(p.kc / 4);
  if (k4 > 0) {
    out.push(f.set(kk, mod.i32.const(k4)));
    out.push(f.whileLoop(() => mod.i32.ne(f.get(kk), mod.i32.const(0)), [...block(4), f.bump(ps, 4 * F32), f.bump(pd, 4 * p.nr * F32), f.bump(kk, -1)]));
  }
  if (p.kc % 4 > 0) out.push(...block(p.kc % 4));
  return out;
}

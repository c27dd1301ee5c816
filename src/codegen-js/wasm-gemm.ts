/**
 * A shape-specialized float32 GEMM in WebAssembly SIMD128, generated with binaryen:
 * C[m,n] (+)= op(A)[m,k] · op(B)[k,n], row-major, op = transpose where the flag is set.
 *
 * Two strategies, picked per shape by `planGemm`:
 * - `packed`: before its first block of `mb` rows, a thread packs all of op(B) into NR-wide
 *   panels, one KC-deep block after another, in its `scratch` region; then for each row block,
 *   each k block, each panel, each MR-row tile: one call of a register-tiled micro-kernel
 *   (MR·NR/4 f32x4 accumulators in locals) over KC steps. A is read in place (one broadcast
 *   load per row per k step), in either layout.
 * - `direct` (≤ 4 rows, B not transposed): no packing; the micro-kernel streams B rows in place
 *   over the whole k. Each B element is used once there, so packing could not pay.
 *
 * The exported function is `name(a, b, c, rowStart, rowEnd, scratch, sync)`, all byte pointers
 * into the imported shared `env.memory` except the rows. It computes rows [rowStart, rowEnd).
 * Threads can split the rows statically (`sync` = 0, own `scratch` each: `gemmThreadArgs`) or
 * share one call (the same arguments for all, a zeroed `GEMM_SYNC_BYTES` block at `sync`): then
 * blocks of `mb` rows are claimed atomically, so whoever comes first does more, and a thread
 * that comes late (or never) costs nothing. `scratch` holds each thread's packed copy of op(B):
 * `gemmScratchBytes(spec)` bytes per thread, 16-byte aligned (64 is better).
 */
import { ArgumentError, ShapeError } from '../ir/errors.js';
import { type WasmInstance, type WasmMemory, type WasmModule, wasmApi } from './wasm-js-api.js';
import { type Binaryen, emitPackB, emitTileKernel, type Expr, F32, FnBuilder, type Module, type TileKernel } from './wasm-gemm-kernel.js';

export type { Binaryen } from './wasm-gemm-kernel.js';

/** One GEMM shape. Leading dimensions are in elements and default to the dense layout. */
export interface GemmSpec {
  m: number;
  n: number;
  k: number;
  /** A is stored [k, m] (lda ≥ m) instead of [m, k] (lda ≥ k). */
  transA: boolean;
  /** B is stored [n, k] (ldb ≥ k) instead of [k, n] (ldb ≥ n). */
  transB: boolean;
  lda?: number;
  ldb?: number;
  ldc?: number;
  /** C += op(A)·op(B) instead of C = op(A)·op(B). */
  accumulate: boolean;
}

/** Tuning knobs; the defaults are what `bench/gemm-micro.ts` measured best on x86-64 V8. */
export interface GemmOptions {
  mode?: 'packed' | 'direct';
  /** Micro-tile rows and columns (nr a multiple of 4). */
  mr?: number;
  nr?: number;
  /** Largest k block; blocks are balanced (k = 784 → 4 blocks of 196). */
  kcMax?: number;
  /** Rows per unit of work (a multiple of mr; default: about m/8, at most 128). */
  mb?: number;
  /** Panels of B packed per unit of packing work. */
  packGroup?: number;
  /** Direct mode: panels per unit of work (threads share a call by column chunks). */
  chunk?: number;
  /** k steps per micro-kernel loop iteration (V8 unrolls small loops itself: 1 is best). */
  unroll?: number;
  /** Fused multiply-add (relaxed SIMD's f32x4.relaxed_madd); only where `relaxedSimdSupported()`. */
  fma?: boolean;
}

/** The blocking chosen for a spec. */
export interface GemmPlan {
  mode: 'packed' | 'direct';
  mr: number;
  nr: number;
  /** k block (the last one may be shorter) and the number of k blocks. */
  kc: number;
  kBlocks: number;
  /** NR-wide panels of B (the last one may be partial). */
  panels: number;
  /** Packed mode: rows per unit of work, and panels packed per step of packing. */
  mb: number;
  packGroup: number;
  /** Direct mode: panels per unit of work. */
  chunk: number;
  unroll: number;
  fma: boolean;
  lda: number;
  ldb: number;
  ldc: number;
}

const DEFAULTS = { mr: 4, nr: 8, kcMax: 256, mbMax: 128, packGroupBytes: 64 << 10, unroll: 1 } as const;
/** Direct mode when all rows fit one micro-tile: B is then used once, packing cannot pay. */
const DIRECT_MAX_ROWS = 4;
/** Bytes of the `sync` block: claim counters for shared (multi-thread) calls. */
export const GEMM_SYNC_BYTES = 64;
const SYNC_ROW_CLAIM = 0;
const SYNC_ARRIVE = 4;

function describe(spec: GemmSpec): string {
  const a = spec.transA ? `f32[${spec.k},${spec.m}]ᵀ` : `f32[${spec.m},${spec.k}]`;
  const b = spec.transB ? `f32[${spec.n},${spec.k}]ᵀ` : `f32[${spec.k},${spec.n}]`;
  return `${a} · ${b}`;
}

/** Checks a spec and fills in the leading dimensions. */
export function resolveSpec(spec: GemmSpec): Required<GemmSpec> {
  const { m, n, k, transA, transB } = spec;
  for (const [key, v] of [['m', m], ['n', n], ['k', k]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ShapeError(`gemm: ${key} must be a positive integer, got ${v} (${describe(spec)})`);
  }
  const lda = spec.lda ?? (transA ? m : k);
  const ldb = spec.ldb ?? (transB ? k : n);
  const ldc = spec.ldc ?? n;
  const check = (name: string, ld: number, min: number): void => {
    if (!Number.isInteger(ld) || ld < min) throw new ShapeError(`gemm: ${name} must be an integer ≥ ${min}, got ${ld} (${describe(spec)})`);
  };
  check('lda', lda, transA ? m : k);
  check('ldb', ldb, transB ? k : n);
  check('ldc', ldc, n);
  return { m, n, k, transA, transB, lda, ldb, ldc, accumulate: spec.accumulate };
}

const roundUp = (x: number, q: number): number => Math.ceil(x / q) * q;

/** Picks the strategy and block sizes for a spec. */
export function planGemm(spec: GemmSpec, options: GemmOptions = {}): GemmPlan {
  const s = resolveSpec(spec);
  const mr = options.mr ?? DEFAULTS.mr;
  const nr = options.nr ?? DEFAULTS.nr;
  if (!Number.isInteger(mr) || mr < 1 || mr > 8) throw new ArgumentError(`gemm: mr must be 1..8, got ${mr}`);
  if (!Number.isInteger(nr) || nr < 4 || nr % 4 !== 0 || nr > 32) throw new ArgumentError(`gemm: nr must be a multiple of 4 in 4..32, got ${nr}`);
  const mode = options.mode ?? (!s.transB && s.m <= DIRECT_MAX_ROWS ? 'direct' : 'packed');
  if (mode === 'direct' && s.transB) throw new ArgumentError(`gemm: direct mode needs B untransposed (${describe(spec)})`);
  const unroll = options.unroll ?? DEFAULTS.unroll;
  const fma = options.fma ?? false;
  const mb = roundUp(options.mb ?? Math.min(DEFAULTS.mbMax, Math.ceil(s.m / 8)), mr);
  const ld = { lda: s.lda, ldb: s.ldb, ldc: s.ldc };
  if (mode === 'direct') {
    // One or two rows leave registers for wider tiles, and those use whole cache lines of B.
    const dnr = options.nr ?? (s.m <= 2 ? 16 : nr);
    const panels = Math.ceil(s.n / dnr);
    const chunk = options.chunk ?? Math.max(1, Math.ceil(Math.floor(s.n / dnr) / 8));
    return { mode, mr, nr: dnr, panels, mb, unroll, fma, ...ld, kc: s.k, kBlocks: 1, packGroup: panels, chunk };
  }
  const panels = Math.ceil(s.n / nr);
  const base = { mode, mr, nr, panels, mb, unroll, fma, ...ld, chunk: panels };
  const kBlocks = Math.ceil(s.k / (options.kcMax ?? DEFAULTS.kcMax));
  const kc = Math.ceil(s.k / kBlocks);
  const packGroup = options.packGroup ?? Math.max(1, Math.floor(DEFAULTS.packGroupBytes / (kc * nr * F32)));
  return { ...base, kc, kBlocks: Math.ceil(s.k / kc), packGroup };
}

/**
 * Scratch bytes one thread needs: all of op(B), packed (0 in direct mode). Every thread packs
 * its own copy (sharing one would cost more in cross-core cache traffic than the packing saves):
 * with a static split give thread t its own region; in a shared call (`sync` ≠ 0) the i-th thread
 * to arrive uses `scratch + i·gemmScratchBytes`, so reserve one region per thread of the call.
 */
export function gemmScratchBytes(spec: GemmSpec, options: GemmOptions = {}): number {
  const p = planGemm(spec, options);
  return p.mode === 'direct' ? 0 : p.kBlocks * p.panels * p.kc * p.nr * F32;
}

/** FLOPs of one full call (2·m·n·k). */
export function gemmFlops(spec: Pick<GemmSpec, 'm' | 'n' | 'k'>): number {
  return 2 * spec.m * spec.n * spec.k;
}

/**
 * Splits rows [0, m) into `threads` contiguous ranges whose boundaries fall on micro-tile
 * multiples; empty ranges are dropped, so fewer ranges than threads come back for small m.
 */
export function splitRows(spec: GemmSpec, threads: number, options: GemmOptions = {}): [number, number][] {
  const { mr } = planGemm(spec, options);
  const tiles = Math.ceil(spec.m / mr);
  const out: [number, number][] = [];
  for (let t = 0; t < threads; t++) {
    const start = Math.min(spec.m, Math.round((tiles * t) / threads) * mr);
    const end = Math.min(spec.m, Math.round((tiles * (t + 1)) / threads) * mr);
    if (end > start) out.push([start, end]);
  }
  return out;
}

/**
 * Per-thread arguments for a static row split: `[a, b, c, rowStart, rowEnd, scratch[t], 0]`,
 * one list per range of `splitRows`; each thread packs B into its own `scratch[t]`.
 */
export function gemmThreadArgs(spec: GemmSpec, a: number, b: number, c: number, scratch: readonly number[], options: GemmOptions = {}): number[][] {
  return splitRows(spec, scratch.length, options).map(([r0, r1], t) => [a, b, c, r0, r1, scratch[t] ?? 0, 0]);
}

/** The wasm features a module holding GEMMs needs (SIMD128, plus Atomics for shared memory). */
export function gemmFeatures(bin: Binaryen): number {
  return bin.Features.MVP | bin.Features.SIMD128 | bin.Features.Atomics | bin.Features.BulkMemory | bin.Features.RelaxedSIMD;
}

/**
 * Adds the exported function `name(a, b, c, rowStart, rowEnd, scratch, sync)` computing rows
 * [rowStart, rowEnd) of C = op(A)·op(B) (or C += with `accumulate`) for this one shape, plus
 * its internal micro-kernels (`name$tile…`). The module must import a shared memory
 * (`newGemmModule` sets that up).
 *
 * Work comes in units: blocks of `mb` rows (packed) or chunks of `chunk` column panels (direct).
 * With `sync` = 0 the calling thread does every unit of its rows alone. With `sync` ≠ 0 (a zeroed
 * `GEMM_SYNC_BYTES` block), every thread of the call gets the same arguments and claims units
 * with an atomic counter; in packed mode each thread packs its own copy of op(B) (in arrival
 * order: region i at `scratch + i·gemmScratchBytes`) before its first unit.
 *
 * @example
 * const bin = await loadBinaryen();
 * const mod = newGemmModule(bin);
 * emitGemm(bin, mod, 'mm', { m: 128, n: 256, k: 784, transA: false, transB: false, accumulate: false });
 * const bytes = finishModule(bin, mod); // validates and emits
 */
export function emitGemm(bin: Binaryen, mod: Module, name: string, spec: GemmSpec, options: GemmOptions = {}): void {
  const s = resolveSpec(spec);
  const plan = planGemm(s, options);
  const f = new FnBuilder(bin, mod, GEMM_PARAMS);
  const body = plan.mode === 'direct' ? emitDirect(bin, mod, f, name, s, plan) : emitPacked(bin, mod, f, name, s, plan);
  f.finish(name, body);
  mod.addFunctionExport(name, name);
}

const GEMM_PARAMS = [
  ['a', 'i32'],
  ['b', 'i32'],
  ['c', 'i32'],
  ['row_start', 'i32'],
  ['row_end', 'i32'],
  ['scratch', 'i32'],
  ['sync', 'i32'],
] as const;
const [P_A, P_B, P_C, P_ROW_START, P_ROW_END, P_SCRATCH, P_SYNC] = [0, 1, 2, 3, 4, 5, 6];

/** Bytes between A's rows (of op(A)) and between its k steps. */
function aStrides(s: Required<GemmSpec>): { aRow: number; aK: number } {
  return s.transA ? { aRow: F32, aK: s.lda * F32 } : { aRow: s.lda * F32, aK: F32 };
}

/** Tile kernels for rows 1..mr (only those ≤ m) at one panel width, keyed by rows. */
type KernelSet = Map<number, string>;

function kernelSet(bin: Binaryen, mod: Module, base: Omit<TileKernel, 'name' | 'mr'>, prefix: string, s: Required<GemmSpec>, mr: number): KernelSet {
  const set: KernelSet = new Map();
  for (let rows = 1; rows <= Math.min(mr, s.m); rows++) {
    const name = `${prefix}$tile${rows}x${base.width}`;
    emitTileKernel(bin, mod, { ...base, name, mr: rows });
    set.set(rows, name);
  }
  return set;
}

/**
 * `for (i = start; i < end; i += mr) tile(rows, i)`, with full tiles in a loop and the
 * 1..mr-1 leftover rows dispatched to the kernel of that height.
 */
function rowTiles(f: FnBuilder, i: number, end: () => Expr, mr: number, maxRows: number, tile: (rows: number) => Expr[]): Expr[] {
  const { mod } = f;
  const out: Expr[] = [];
  if (maxRows >= mr) {
    out.push(f.whileLoop(() => mod.i32.le_s(mod.i32.add(f.get(i), mod.i32.const(mr)), end()), [...tile(mr), f.bump(i, mr)]));
  }
  // Leftover rows: an if-chain on (end - i), innermost first.
  const rem = (): Expr => mod.i32.sub(end(), f.get(i));
  let chain: Expr | undefined;
  for (let rows = Math.min(mr - 1, maxRows); rows >= 1; rows--) {
    const call = mod.block(null, tile(rows));
    chain = chain === undefined ? call : mod.if(mod.i32.eq(rem(), mod.i32.const(rows)), call, chain);
  }
  if (chain !== undefined) out.push(mod.if(mod.i32.gt_s(rem(), mod.i32.const(0)), chain));
  return out;
}

/**
 * Next unit of work from the counter at `sync + word` (atomic) or, when `sync` is 0, from the
 * thread's own counter `local`.
 */
function claim(f: FnBuilder, word: number, local: number): Expr {
  const { mod, bin } = f;
  const own = mod.i32.sub(mod.local.tee(local, mod.i32.add(f.get(local), mod.i32.const(1)), bin.i32), mod.i32.const(1));
  return mod.if(f.get(P_SYNC), mod.i32.atomic.rmw.add(word, f.get(P_SYNC), mod.i32.const(1)), own);
}

/**
 * `for (unit of row blocks) body(r0, r1)`: rows [rowStart, rowEnd) in blocks of `mb`, each
 * claimed with `claim`; `r0`/`r1` are locals holding the block's rows.
 */
function rowBlocks(f: FnBuilder, mb: number, body: (r0: number, r1: number) => Expr[]): Expr[] {
  const { mod } = f;
  const unit = f.i32('unit');
  const own = f.i32('own_rows');
  const r0 = f.i32('r0');
  const r1 = f.i32('r1');
  const rows = (): Expr => mod.i32.sub(f.get(P_ROW_END), f.get(P_ROW_START));
  const next = (): Expr => mod.i32.lt_s(mod.i32.mul(mod.local.tee(unit, claim(f, SYNC_ROW_CLAIM, own), f.bin.i32), mod.i32.const(mb)), rows());
  const end = (): Expr => mod.i32.add(f.get(r0), mod.i32.const(mb));
  return [
    f.set(own, mod.i32.const(0)),
    f.whileLoop(next, [
      f.set(r0, mod.i32.add(f.get(P_ROW_START), mod.i32.mul(f.get(unit), mod.i32.const(mb)))),
      f.set(r1, mod.select(mod.i32.lt_s(end(), f.get(P_ROW_END)), end(), f.get(P_ROW_END))),
      ...body(r0, r1),
    ]),
  ];
}

function emitDirect(bin: Binaryen, mod: Module, f: FnBuilder, name: string, s: Required<GemmSpec>, plan: GemmPlan): Expr[] {
  const { mr, nr, chunk } = plan;
  const { aRow, aK } = aStrides(s);
  const common = { aRow, aK, bK: s.ldb * F32, cRow: s.ldc * F32, bPadded: false, unroll: plan.unroll, fma: plan.fma, kConst: s.k, accConst: s.accumulate };
  const fullPanels = Math.floor(s.n / nr);
  const tail = s.n % nr;
  const full = fullPanels > 0 ? kernelSet(bin, mod, { ...common, width: nr }, name, s, mr) : undefined;
  const part = tail > 0 ? kernelSet(bin, mod, { ...common, width: tail }, name, s, mr) : undefined;
  // Units of work are chunks of `chunk` panels (all rows); the partial panel goes with the last.
  const units = Math.max(1, Math.ceil(fullPanels / chunk));
  const c = (v: number): Expr => mod.i32.const(v);

  const unit = f.i32('unit');
  const own = f.i32('own_units');
  const count = f.i32('unit_panels');
  const i = f.i32('i');
  const ap = f.i32('a_row');
  const q = f.i32('panel');
  const bq = f.i32('b_panel');
  const cq = f.i32('c_panel');

  // All panels of this unit for one row tile: B and C advance by a panel width, A stays.
  const tile = (rows: number): Expr[] => {
    const call = (set: KernelSet | undefined): Expr => mod.call(set?.get(rows) ?? '', [f.get(ap), f.get(bq), f.get(cq)], bin.none);
    const col = (): Expr => mod.i32.mul(f.get(unit), c(chunk * nr * F32));
    const out: Expr[] = [
      f.set(ap, mod.i32.add(f.get(P_A), mod.i32.mul(f.get(i), c(aRow)))),
      f.set(cq, mod.i32.add(mod.i32.add(f.get(P_C), mod.i32.mul(f.get(i), c(s.ldc * F32))), col())),
      f.set(bq, mod.i32.add(f.get(P_B), col())),
    ];
    if (fullPanels > 0) {
      out.push(f.set(q, f.get(count)));
      out.push(f.whileLoop(() => mod.i32.ne(f.get(q), c(0)), [call(full), f.bump(bq, nr * F32), f.bump(cq, nr * F32), f.bump(q, -1)]));
    }
    if (tail > 0) out.push(mod.if(mod.i32.eq(f.get(unit), c(units - 1)), call(part)));
    return out;
  };
  const remaining = (): Expr => mod.i32.sub(c(fullPanels), mod.i32.mul(f.get(unit), c(chunk)));
  return [
    f.set(own, c(0)),
    f.whileLoop(() => mod.i32.lt_u(mod.local.tee(unit, claim(f, SYNC_ROW_CLAIM, own), bin.i32), c(units)), [
      f.set(count, mod.select(mod.i32.lt_s(remaining(), c(chunk)), remaining(), c(chunk))),
      f.set(i, f.get(P_ROW_START)),
      ...rowTiles(f, i, () => f.get(P_ROW_END), mr, s.m, tile),
    ]),
  ];
}

function emitPacked(bin: Binaryen, mod: Module, f: FnBuilder, name: string, s: Required<GemmSpec>, plan: GemmPlan): Expr[] {
  const { mr, nr, kc, kBlocks, panels, packGroup } = plan;
  const { aRow, aK } = aStrides(s);
  const panelBytes = kc * nr * F32;
  const kTail = s.k - (kBlocks - 1) * kc;
  // One C update mode and one trip count when they do not vary between k blocks.
  const accConst = s.accumulate ? true : kBlocks === 1 ? false : undefined;
  const kConst = kTail === kc ? kc : undefined;
  const common = { aRow, aK, bK: nr * F32, cRow: s.ldc * F32, bPadded: true, unroll: plan.unroll, fma: plan.fma, kConst, accConst };
  const fullPanels = Math.floor(s.n / nr);
  const tail = s.n % nr;
  const full = fullPanels > 0 ? kernelSet(bin, mod, { ...common, width: nr }, name, s, mr) : undefined;
  const part = tail > 0 ? kernelSet(bin, mod, { ...common, width: tail }, name, s, mr) : undefined;
  const c = (v: number): Expr => mod.i32.const(v);

  // This thread's packed copy of op(B): region `arrival order` of the scratch (0 when sync = 0).
  const mine = f.i32('my_scratch');
  const arrival = mod.if(f.get(P_SYNC), mod.i32.atomic.rmw.add(SYNC_ARRIVE, f.get(P_SYNC), c(1)), c(0));
  const stride = kBlocks * panels * kc * nr * F32;

  // Packing all of op(B), unit by unit: unit u = (k block u / groups, panel group u % groups).
  const groups = Math.ceil(panels / packGroup);
  const units = kBlocks * groups;
  const unit = f.i32('pack_unit');
  const kb = f.i32('kb');
  const g = f.i32('group');
  const packed = f.i32('packed');
  const lastWidth = s.n - (groups - 1) * packGroup * nr;
  const packVariant = (kcCur: number, width: number): Expr[] => {
    const src = (): Expr => {
      const col = mod.i32.mul(f.get(g), c(packGroup * nr));
      const row = mod.i32.mul(f.get(kb), c(kc));
      const elem = s.transB ? mod.i32.add(mod.i32.mul(col, c(s.ldb)), row) : mod.i32.add(mod.i32.mul(row, c(s.ldb)), col);
      return mod.i32.add(f.get(P_B), mod.i32.mul(elem, c(F32)));
    };
    const dst = (): Expr => mod.i32.add(f.get(mine), mod.i32.mul(mod.i32.add(mod.i32.mul(f.get(kb), c(panels)), mod.i32.mul(f.get(g), c(packGroup))), c(panelBytes)));
    return emitPackB(f, { kc: kcCur, width, nr, ldb: s.ldb, transB: s.transB, panelBytes }, src, dst);
  };
  const byWidth = (kcCur: number): Expr =>
    groups === 1 || lastWidth === packGroup * nr
      ? mod.block(null, packVariant(kcCur, groups === 1 ? lastWidth : packGroup * nr))
      : mod.if(mod.i32.eq(f.get(g), c(groups - 1)), mod.block(null, packVariant(kcCur, lastWidth)), mod.block(null, packVariant(kcCur, packGroup * nr)));
  const packUnit = kTail === kc ? byWidth(kc) : mod.if(mod.i32.eq(f.get(kb), c(kBlocks - 1)), byWidth(kTail), byWidth(kc));
  const packAll: Expr[] = [
    f.set(unit, c(0)),
    f.whileLoop(() => mod.i32.lt_u(f.get(unit), c(units)), [
      f.set(kb, mod.i32.div_u(f.get(unit), c(groups))),
      f.set(g, mod.i32.rem_u(f.get(unit), c(groups))),
      packUnit,
      f.bump(unit, 1),
    ]),
  ];

  // Row blocks; in each, every k block × every panel × every row tile.
  const i = f.i32('i');
  const ap = f.i32('a_tile');
  const cp = f.i32('c_tile');
  const pc = f.i32('pc');
  const q = f.i32('panel');
  const bq = f.i32('b_panel');
  const col = f.i32('col');
  const kn = f.i32('k_count');
  const aAddr = (row: Expr): Expr => mod.i32.add(f.get(P_A), mod.i32.add(mod.i32.mul(row, c(aRow)), mod.i32.mul(f.get(pc), c(aK))));
  const cAddr = (row: Expr): Expr => mod.i32.add(f.get(P_C), mod.i32.mul(mod.i32.add(mod.i32.mul(row, c(s.ldc)), f.get(col)), c(F32)));

  const rows = rowBlocks(f, plan.mb, (r0, r1) => {
    // One k block: `bq` starts at its first panel.
    const kBlock = (kcCur: number): Expr[] => {
      const extra = (): Expr[] => [...(kConst === undefined ? [c(kcCur)] : []), ...(accConst === undefined ? [mod.i32.ne(f.get(pc), c(0))] : [])];
      const tiles = (set: KernelSet | undefined): Expr[] => {
        const tile = (rows: number): Expr[] => [
          mod.call(set?.get(rows) ?? '', [f.get(ap), f.get(bq), f.get(cp), ...extra()], bin.none),
          f.bump(ap, rows * aRow),
          f.bump(cp, rows * s.ldc * F32),
        ];
        return [f.set(i, f.get(r0)), f.set(ap, aAddr(f.get(r0))), f.set(cp, cAddr(f.get(r0))), ...rowTiles(f, i, () => f.get(r1), mr, s.m, tile)];
      };
      const out: Expr[] = [f.set(col, c(0))];
      if (fullPanels > 0) {
        out.push(f.set(q, c(fullPanels)));
        out.push(f.whileLoop(() => mod.i32.ne(f.get(q), c(0)), [...tiles(full), f.bump(bq, panelBytes), f.bump(col, nr), f.bump(q, -1)]));
      }
      if (tail > 0) out.push(...tiles(part), f.bump(bq, panelBytes));
      return out;
    };
    const fullK = kTail === kc ? kBlocks : kBlocks - 1;
    // Pack B on this thread's first row block: a thread that finds no rows left never packs.
    const out: Expr[] = [mod.if(mod.i32.eqz(f.get(packed)), mod.block(null, [...packAll, f.set(packed, c(1))])), f.set(pc, c(0)), f.set(bq, f.get(mine))];
    if (fullK === 1) out.push(...kBlock(kc), f.set(pc, c(kc)));
    else if (fullK > 1) {
      out.push(f.set(kn, c(fullK)));
      out.push(f.whileLoop(() => mod.i32.ne(f.get(kn), c(0)), [...kBlock(kc), f.bump(pc, kc), f.bump(kn, -1)]));
    }
    if (kTail !== kc) out.push(...kBlock(kTail));
    return out;
  });
  return [f.set(mine, mod.i32.add(f.get(P_SCRATCH), mod.i32.mul(arrival, c(stride)))), f.set(packed, c(0)), ...rows];
}

let binaryenPromise: Promise<Binaryen> | undefined;

/** binaryen.js, imported on first use (~0.4 s) and cached. */
export function loadBinaryen(): Promise<Binaryen> {
  binaryenPromise ??= import('binaryen').then((m) => m.default);
  return binaryenPromise;
}

/** A module importing a shared `env.memory`, with the features GEMMs need. */
export function newGemmModule(bin: Binaryen): Module {
  const mod = new bin.Module();
  mod.setFeatures(gemmFeatures(bin));
  mod.setMemory(1, 65536, null, [], true);
  mod.addMemoryImport('0', 'env', 'memory', true);
  return mod;
}

/**
 * Validates and serializes a module (throws with the module text if invalid). `optimize` runs
 * binaryen's -O2 first; off by default: the kernels are emitted in the form V8 compiles best,
 * and it costs ~60 ms per GEMM (seconds while binaryen itself is still cold).
 */
export function finishModule(bin: Binaryen, mod: Module, optimize = false): Uint8Array {
  if (!mod.validate()) throw new ArgumentError(`gemm: binaryen rejected the generated module:\n${mod.emitText().slice(0, 4000)}`);
  if (optimize) {
    bin.setOptimizeLevel(2);
    bin.setShrinkLevel(0);
    mod.optimize();
  }
  return mod.emitBinary();
}

/** Byte offsets of the operands in a `compileGemm` memory. */
export interface GemmLayout {
  a: number;
  b: number;
  c: number;
  /** `threads` scratch regions of `scratchStride` bytes each. */
  scratch: number;
  scratchStride: number;
  /** A `GEMM_SYNC_BYTES` block for shared calls. */
  sync: number;
  /** Bytes used in all. */
  end: number;
}

export interface CompiledGemm {
  spec: Required<GemmSpec>;
  plan: GemmPlan;
  bytes: Uint8Array;
  module: WasmModule;
  instance: WasmInstance;
  memory: WasmMemory;
  layout: GemmLayout;
  /** Float32 view of `count` elements at byte offset `ptr`. */
  view(ptr: number, count: number): Float32Array;
  /** Runs rows [rowStart, rowEnd) (default: all) on this thread alone (sync = 0). */
  run(aPtr?: number, bPtr?: number, cPtr?: number, rowStart?: number, rowEnd?: number, scratch?: number): void;
}

/** Elements an operand spans: (rows-1)·ld + cols. */
function span(rows: number, cols: number, ld: number): number {
  return (rows - 1) * ld + cols;
}

const align64 = (x: number): number => roundUp(x, 64);

/** Lays out A, B, C, a sync block and `threads` scratch regions from byte `base` on, 64-byte aligned. */
export function gemmLayout(spec: GemmSpec, threads = 1, base = 0, options: GemmOptions = {}): GemmLayout {
  const s = resolveSpec(spec);
  const a = align64(base);
  const b = align64(a + F32 * (s.transA ? span(s.k, s.m, s.lda) : span(s.m, s.k, s.lda)));
  const c = align64(b + F32 * (s.transB ? span(s.n, s.k, s.ldb) : span(s.k, s.n, s.ldb)));
  const sync = align64(c + F32 * span(s.m, s.n, s.ldc));
  const scratch = sync + GEMM_SYNC_BYTES;
  const scratchStride = align64(gemmScratchBytes(s, options));
  return { a, b, c, scratch, scratchStride, sync, end: scratch + threads * scratchStride };
}

/**
 * Builds one GEMM into its own module and instantiates it over a fresh shared memory sized
 * for the operands (or `memory`, grown as needed). For tests and benchmarks.
 *
 * @example
 * const g = await compileGemm({ m: 2, n: 4, k: 3, transA: false, transB: false, accumulate: false });
 * g.view(g.layout.a, 6).set([1, 2, 3, 4, 5, 6]);
 * g.view(g.layout.b, 12).fill(1);
 * g.run();
 * g.view(g.layout.c, 8); // [6, 6, 6, 6, 15, 15, 15, 15]
 */
export async function compileGemm(
  spec: GemmSpec,
  options: GemmOptions & {
    threads?: number;
    memory?: WasmMemory;
    optimize?: boolean;
    /** Compiles the bytes (default `new WebAssembly.Module`); see `optimizingWasmCompiler` in runtime/threads. */
    compile?: (bytes: Uint8Array) => WasmModule;
  } = {},
): Promise<CompiledGemm> {
  const bin = await loadBinaryen();
  const s = resolveSpec(spec);
  const plan = planGemm(s, options);
  const mod = newGemmModule(bin);
  let bytes: Uint8Array;
  try {
    emitGemm(bin, mod, 'gemm', s, options);
    bytes = finishModule(bin, mod, options.optimize ?? false);
  } finally {
    mod.dispose();
  }
  const layout = gemmLayout(s, options.threads ?? 1, 0, options);
  const pages = Math.ceil(layout.end / 65536) + 1;
  const wasm = wasmApi();
  const memory = options.memory ?? new wasm.Memory({ initial: pages, maximum: 65536, shared: true });
  const have = memory.buffer.byteLength / 65536;
  if (have < pages) memory.grow(pages - have);
  const module = options.compile ? options.compile(bytes) : new wasm.Module(bytes);
  const instance = new wasm.Instance(module, { env: { memory } });
  const fn = instance.exports.gemm;
  if (typeof fn !== 'function') throw new ArgumentError('gemm: the compiled module has no export "gemm"');
  return {
    spec: s,
    plan,
    bytes,
    module,
    instance,
    memory,
    layout,
    view: (ptr, count) => new Float32Array(memory.buffer, ptr, count),
    run: (aPtr = layout.a, bPtr = layout.b, cPtr = layout.c, rowStart = 0, rowEnd = s.m, scratch = layout.scratch) => {
      fn(aPtr, bPtr, cPtr, rowStart, rowEnd, scratch, 0);
    },
  };
}

/**
 * A shape-specialized float32 GEMM in WebAssembly SIMD128, generated with binaryen:
 * C[m,n] (+)= op(A)[m,k] · op(B)[k,n], row-major, op = transpose where the flag is set.
 *
 * Two strategies, picked per shape by `planGemm`:
 * - `packed` (BLIS order): for each NC×KC block of op(B), pack it into NR-wide panels in a
 *   per-thread scratch region, then sweep MC-row blocks of A; each MR×NR tile of C is one call
 *   of a register-tiled micro-kernel (MR·NR/4 f32x4 accumulators in locals) over KC steps.
 *   A is read in place (a broadcast load per row per k step), in either layout.
 * - `direct` (few rows, B not transposed): no packing; the micro-kernel streams B rows in place
 *   over the whole k. Pays off when each B element is used by ≤ a few rows, e.g. batch-1 inference.
 *
 * The exported function is `name(a, b, c, rowStart, rowEnd, scratch)` (byte pointers into the
 * imported shared `env.memory`); it computes rows [rowStart, rowEnd) of C, so threads split rows.
 * `scratch` must point at `gemmScratchBytes(spec)` bytes (16-byte aligned, 64 is better) owned by
 * the calling thread; it is ignored (and may be 0) when that is 0.
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
  /** Bytes of packed B per block (bounds NC); should sit well inside L2. */
  packBytes?: number;
  /** Rows of A per block (a multiple of mr). */
  mc?: number;
  /** k steps per micro-kernel loop iteration. */
  unroll?: number;
}

/** The blocking chosen for a spec. */
export interface GemmPlan {
  mode: 'packed' | 'direct';
  mr: number;
  nr: number;
  kc: number;
  nc: number;
  mc: number;
  unroll: number;
  lda: number;
  ldb: number;
  ldc: number;
}

const DEFAULTS = { mr: 4, nr: 8, kcMax: 256, packBytes: 1 << 20, mc: 256, unroll: 4 } as const;
/** Direct mode when every row tile of C can be computed in one pass over B in place. */
const DIRECT_MAX_ROWS = 4;

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
  const base = { mode, mr, nr, unroll, lda: s.lda, ldb: s.ldb, ldc: s.ldc };
  if (mode === 'direct') return { ...base, kc: s.k, nc: s.n, mc: roundUp(s.m, mr) };
  const kBlocks = Math.ceil(s.k / (options.kcMax ?? DEFAULTS.kcMax));
  const kc = Math.ceil(s.k / kBlocks);
  const ncMax = Math.max(nr, Math.floor((options.packBytes ?? DEFAULTS.packBytes) / (kc * F32 * nr)) * nr);
  const nBlocks = Math.ceil(s.n / ncMax);
  const nc = roundUp(Math.ceil(s.n / nBlocks), nr);
  const mc = Math.max(mr, Math.floor((options.mc ?? DEFAULTS.mc) / mr) * mr);
  return { ...base, kc, nc, mc };
}

/** Scratch bytes each calling thread must pass to a GEMM built from `spec` (0: none needed). */
export function gemmScratchBytes(spec: GemmSpec, options: GemmOptions = {}): number {
  const p = planGemm(spec, options);
  return p.mode === 'direct' ? 0 : Math.ceil(p.nc / p.nr) * p.kc * p.nr * F32;
}

/** FLOPs of one full call (2·m·n·k). */
export function gemmFlops(spec: Pick<GemmSpec, 'm' | 'n' | 'k'>): number {
  return 2 * spec.m * spec.n * spec.k;
}

/**
 * Splits rows [0, m) into `threads` contiguous ranges whose boundaries fall on micro-tile
 * multiples (so no thread computes a ragged tile it could have shared); empty ranges are
 * dropped, so fewer ranges than threads come back for small m.
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
 * Per-thread arguments `[a, b, c, rowStart, rowEnd, scratch]` for `ThreadPool.run`, one list
 * per row range of `splitRows`; `scratch[t]` is thread t's region of `gemmScratchBytes` bytes.
 */
export function gemmThreadArgs(spec: GemmSpec, a: number, b: number, c: number, scratch: readonly number[], options: GemmOptions = {}): number[][] {
  return splitRows(spec, scratch.length, options).map(([r0, r1], t) => [a, b, c, r0, r1, scratch[t] ?? 0]);
}

/** The wasm features a module holding GEMMs needs (SIMD128, plus Atomics for shared memory). */
export function gemmFeatures(bin: Binaryen): number {
  return bin.Features.MVP | bin.Features.SIMD128 | bin.Features.Atomics | bin.Features.BulkMemory;
}

/**
 * Adds the exported function `name(a, b, c, rowStart, rowEnd, scratch)` computing rows
 * [rowStart, rowEnd) of C = op(A)·op(B) (or C += with `accumulate`) for this one shape, plus
 * its internal micro-kernels (`name$…`). The module must import a (shared) memory; see
 * `newGemmModule`.
 *
 * @example
 * const bin = await loadBinaryen();
 * const mod = newGemmModule(bin);
 * emitGemm(bin, mod, 'mm', { m: 128, n: 256, k: 784, transA: false, transB: false, accumulate: false });
 * if (!mod.validate()) throw new Error('invalid');
 * const bytes = mod.emitBinary();
 */
export function emitGemm(bin: Binaryen, mod: Module, name: string, spec: GemmSpec, options: GemmOptions = {}): void {
  const s = resolveSpec(spec);
  const plan = planGemm(s, options);
  if (plan.mode === 'direct') emitDirect(bin, mod, name, s, plan);
  else emitPacked(bin, mod, name, s, plan);
  mod.addFunctionExport(name, name);
}

const GEMM_PARAMS = [
  ['a', 'i32'],
  ['b', 'i32'],
  ['c', 'i32'],
  ['row_start', 'i32'],
  ['row_end', 'i32'],
  ['scratch', 'i32'],
] as const;
const [P_A, P_B, P_C, P_ROW_START, P_ROW_END, P_SCRATCH] = [0, 1, 2, 3, 4, 5];

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

function emitDirect(bin: Binaryen, mod: Module, name: string, s: Required<GemmSpec>, plan: GemmPlan): void {
  const { mr, nr } = plan;
  const { aRow, aK } = aStrides(s);
  const common = { aRow, aK, bK: s.ldb * F32, cRow: s.ldc * F32, bPadded: false, unroll: plan.unroll, kConst: s.k, accConst: s.accumulate };
  const fullPanels = Math.floor(s.n / nr);
  const tail = s.n % nr;
  const full = fullPanels > 0 ? kernelSet(bin, mod, { ...common, width: nr }, name, s, mr) : undefined;
  const part = tail > 0 ? kernelSet(bin, mod, { ...common, width: tail }, name, s, mr) : undefined;

  const f = new FnBuilder(bin, mod, GEMM_PARAMS);
  const i = f.i32('i');
  const ap = f.i32('a_row');
  const cp = f.i32('c_row');
  const q = f.i32('panel');
  const bq = f.i32('b_panel');
  const cq = f.i32('c_panel');

  // All panels of one row tile: B and C advance by a panel width, A stays.
  const tile = (rows: number): Expr[] => {
    const out: Expr[] = [
      f.set(ap, mod.i32.add(f.get(P_A), mod.i32.mul(f.get(i), mod.i32.const(aRow)))),
      f.set(cp, mod.i32.add(f.get(P_C), mod.i32.mul(f.get(i), mod.i32.const(s.ldc * F32)))),
      f.set(bq, f.get(P_B)),
      f.set(cq, f.get(cp)),
    ];
    const call = (set: KernelSet | undefined): Expr => mod.call(set?.get(rows) ?? '', [f.get(ap), f.get(bq), f.get(cq)], bin.none);
    if (fullPanels === 1) out.push(call(full), f.bump(bq, nr * F32), f.bump(cq, nr * F32));
    else if (fullPanels > 1) {
      out.push(f.set(q, mod.i32.const(fullPanels)));
      out.push(f.whileLoop(() => mod.i32.ne(f.get(q), mod.i32.const(0)), [call(full), f.bump(bq, nr * F32), f.bump(cq, nr * F32), f.bump(q, -1)]));
    }
    if (tail > 0) out.push(call(part));
    return out;
  };
  const body = [f.set(i, f.get(P_ROW_START)), ...rowTiles(f, i, () => f.get(P_ROW_END), mr, s.m, tile)];
  f.finish(name, body);
}

function emitPacked(bin: Binaryen, mod: Module, name: string, s: Required<GemmSpec>, plan: GemmPlan): void {
  const { mr, nr, kc, nc, mc } = plan;
  const { aRow, aK } = aStrides(s);
  const panelBytes = kc * nr * F32;
  const kBlocks = Math.ceil(s.k / kc);
  const kTail = s.k - (kBlocks - 1) * kc;
  // One C update mode and one trip count when they do not vary between k blocks.
  const accConst = s.accumulate ? true : kBlocks === 1 ? false : undefined;
  const kConst = kTail === kc ? kc : undefined;
  const common = { aRow, aK, bK: nr * F32, cRow: s.ldc * F32, bPadded: true, unroll: plan.unroll, kConst, accConst };
  const widths = new Set<number>();
  const nBlocks = Math.ceil(s.n / nc);
  for (let jb = 0; jb < nBlocks; jb++) {
    const w = Math.min(nc, s.n - jb * nc);
    if (w >= nr) widths.add(nr);
    if (w % nr) widths.add(w % nr);
  }
  const sets = new Map([...widths].map((w) => [w, kernelSet(bin, mod, { ...common, width: w }, name, s, mr)]));

  const f = new FnBuilder(bin, mod, GEMM_PARAMS);
  const jc = f.i32('jc');
  const pc = f.i32('pc');
  const ic = f.i32('ic');
  const icEnd = f.i32('ic_end');
  const i = f.i32('i');
  const ap = f.i32('a_tile');
  const cp = f.i32('c_tile');
  const q = f.i32('panel');
  const bq = f.i32('b_panel');
  const col = f.i32('col');
  const jn = f.i32('jc_count');
  const pn = f.i32('pc_count');
  const c = (v: number): Expr => mod.i32.const(v);

  // Address of op(A)[row, pc] and C[row, col]; i32 arithmetic on locals.
  const aAddr = (row: Expr): Expr =>
    mod.i32.add(f.get(P_A), mod.i32.add(mod.i32.mul(row, c(aRow)), mod.i32.mul(f.get(pc), c(aK))));
  const cAddr = (row: Expr): Expr =>
    mod.i32.add(f.get(P_C), mod.i32.mul(mod.i32.add(mod.i32.mul(row, c(s.ldc)), f.get(col)), c(F32)));

  // One k block × one n block: pack B, then sweep the row blocks.
  const block = (ncCur: number, kcCur: number): Expr[] => {
    const bSrc = (): Expr =>
      s.transB
        ? mod.i32.add(f.get(P_B), mod.i32.mul(mod.i32.add(mod.i32.mul(f.get(jc), c(s.ldb)), f.get(pc)), c(F32)))
        : mod.i32.add(f.get(P_B), mod.i32.mul(mod.i32.add(mod.i32.mul(f.get(pc), c(s.ldb)), f.get(jc)), c(F32)));
    const pack = emitPackB(f, { kc: kcCur, width: ncCur, nr, ldb: s.ldb, transB: s.transB, panelBytes }, bSrc, () => f.get(P_SCRATCH));
    const extra = [...(kConst === undefined ? [c(kcCur)] : []), ...(accConst === undefined ? [mod.i32.ne(f.get(pc), c(0))] : [])];
    const tiles = (width: number): Expr[] => {
      const set = sets.get(width);
      const tile = (rows: number): Expr[] => [
        mod.call(set?.get(rows) ?? '', [f.get(ap), f.get(bq), f.get(cp), ...extra.map((e) => mod.copyExpression(e))], bin.none),
        f.bump(ap, rows * aRow),
        f.bump(cp, rows * s.ldc * F32),
      ];
      return [f.set(i, f.get(ic)), f.set(ap, aAddr(f.get(ic))), f.set(cp, cAddr(f.get(ic))), ...rowTiles(f, i, () => f.get(icEnd), mr, s.m, tile)];
    };
    const fullPanels = Math.floor(ncCur / nr);
    const tail = ncCur % nr;
    const sweep: Expr[] = [f.set(bq, f.get(P_SCRATCH)), f.set(col, f.get(jc))];
    if (fullPanels > 0) {
      sweep.push(f.set(q, c(fullPanels)));
      sweep.push(f.whileLoop(() => mod.i32.ne(f.get(q), c(0)), [...tiles(nr), f.bump(bq, panelBytes), f.bump(col, nr), f.bump(q, -1)]));
    }
    if (tail > 0) sweep.push(...tiles(tail));
    const rowEnd = (): Expr => f.get(P_ROW_END);
    const icNext = (): Expr => mod.i32.add(f.get(ic), c(mc));
    return [
      ...pack,
      f.set(ic, f.get(P_ROW_START)),
      f.whileLoop(() => mod.i32.lt_s(f.get(ic), rowEnd()), [
        f.set(icEnd, mod.select(mod.i32.lt_s(icNext(), rowEnd()), icNext(), rowEnd())),
        ...sweep,
        f.set(ic, f.get(icEnd)),
      ]),
    ];
  };

  // `count` blocks of `size` starting at 0 (a loop when more than one), then a tail block.
  const blocks = (v: number, counter: number, total: number, size: number, inner: (cur: number) => Expr[]): Expr[] => {
    const full = Math.floor(total / size);
    const tail = total % size;
    const out: Expr[] = [f.set(v, c(0))];
    if (full === 1) out.push(...inner(size), f.set(v, c(size)));
    else if (full > 1) {
      out.push(f.set(counter, c(full)));
      out.push(f.whileLoop(() => mod.i32.ne(f.get(counter), c(0)), [...inner(size), f.bump(v, size), f.bump(counter, -1)]));
    }
    if (tail > 0) out.push(...inner(tail));
    return out;
  };
  const body = blocks(jc, jn, s.n, nc, (ncCur) => blocks(pc, pn, s.k, kc, (kcCur) => block(ncCur, kcCur)));
  f.finish(name, [mod.if(mod.i32.lt_s(f.get(P_ROW_START), f.get(P_ROW_END)), mod.block(null, body))]);
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

/** Validates, optimizes and serializes a module; throws with binaryen's report if invalid. */
export function finishModule(bin: Binaryen, mod: Module, optimize = true): Uint8Array {
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
  scratch: number;
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
  /** Runs rows [rowStart, rowEnd) (default: all) on this thread. */
  run(aPtr?: number, bPtr?: number, cPtr?: number, rowStart?: number, rowEnd?: number, scratch?: number): void;
}

/** Elements an operand spans: (rows-1)·ld + cols. */
function span(rows: number, cols: number, ld: number): number {
  return (rows - 1) * ld + cols;
}

const align64 = (x: number): number => roundUp(x, 64);

/** Lays out A, B, C and `threads` scratch regions from byte `base` on, 64-byte aligned. */
export function gemmLayout(spec: GemmSpec, threads = 1, base = 0, options: GemmOptions = {}): GemmLayout {
  const s = resolveSpec(spec);
  const a = align64(base);
  const b = align64(a + F32 * (s.transA ? span(s.k, s.m, s.lda) : span(s.m, s.k, s.lda)));
  const c = align64(b + F32 * (s.transB ? span(s.n, s.k, s.ldb) : span(s.k, s.n, s.ldb)));
  const scratch = align64(c + F32 * span(s.m, s.n, s.ldc));
  const end = scratch + threads * align64(gemmScratchBytes(s, options));
  return { a, b, c, scratch, end };
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
  options: GemmOptions & { threads?: number; memory?: WasmMemory; optimize?: boolean } = {},
): Promise<CompiledGemm> {
  const bin = await loadBinaryen();
  const s = resolveSpec(spec);
  const plan = planGemm(s, options);
  const mod = newGemmModule(bin);
  let bytes: Uint8Array;
  try {
    emitGemm(bin, mod, 'gemm', s, options);
    bytes = finishModule(bin, mod, options.optimize ?? true);
  } finally {
    mod.dispose();
  }
  const layout = gemmLayout(s, options.threads ?? 1, 0, options);
  const pages = Math.ceil(layout.end / 65536) + 1;
  const wasm = wasmApi();
  const memory = options.memory ?? new wasm.Memory({ initial: pages, maximum: 65536, shared: true });
  const have = memory.buffer.byteLength / 65536;
  if (have < pages) memory.grow(pages - have);
  const module = new wasm.Module(bytes);
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
      fn(aPtr, bPtr, cPtr, rowStart, rowEnd, scratch);
    },
  };
}

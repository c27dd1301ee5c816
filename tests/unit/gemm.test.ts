/**
 * The generated wasm GEMM against a float64 reference: odd shapes 1..70, every transpose
 * combination, accumulate, both strategies (direct and packed, with tiny blocks so every
 * tail path runs), padded leading dimensions, row ranges, and the thread pool on 2 threads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compileGemm,
  emitGemm,
  finishModule,
  GEMM_SYNC_BYTES,
  type GemmOptions,
  type GemmSpec,
  gemmLayout,
  gemmScratchBytes,
  gemmThreadArgs,
  loadBinaryen,
  newGemmModule,
  planGemm,
  resolveSpec,
  splitRows,
} from '../../src/codegen-js/wasm-gemm.js';
import { relaxedSimdSupported, type WasmMemory, wasmApi } from '../../src/codegen-js/wasm-js-api.js';
import { optimizingWasmCompiler, shouldParallelize, ThreadPool, ThreadPoolError } from '../../src/runtime/threads.js';

interface Case {
  spec: GemmSpec;
  options?: GemmOptions;
}

/** Odd sizes and the edges of the micro-tile (mr = 4, nr = 8) and of the blocks. */
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 10, 32],
  [2, 4, 3],
  [3, 5, 7],
  [4, 8, 4],
  [5, 9, 13],
  [7, 16, 1],
  [9, 17, 33],
  [13, 31, 5],
  [31, 70, 69],
  [70, 33, 65],
  [64, 64, 64],
];

/** Small blocks so that k blocks, n blocks, row blocks and their tails all occur. */
const TINY_BLOCKS: GemmOptions = { kcMax: 16, packGroup: 2, mb: 8 };

function cases(): Case[] {
  const out: Case[] = [];
  for (const [m, n, k] of SHAPES) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const accumulate of [false, true]) {
          const spec = { m, n, k, transA, transB, accumulate };
          out.push({ spec });
          out.push({ spec, options: { ...TINY_BLOCKS, mode: 'packed' } });
          if (!transB) out.push({ spec, options: { mode: 'direct' } }, { spec, options: { mode: 'direct', nr: 4, chunk: 1 } });
        }
      }
    }
  }
  // Padded leading dimensions; C's padding must stay untouched.
  out.push({ spec: { m: 5, n: 9, k: 7, transA: false, transB: false, lda: 11, ldb: 12, ldc: 13, accumulate: true } });
  out.push({ spec: { m: 5, n: 9, k: 7, transA: true, transB: true, lda: 6, ldb: 10, ldc: 10, accumulate: false }, options: TINY_BLOCKS });
  out.push({ spec: { m: 3, n: 9, k: 300, transA: false, transB: false, lda: 301, ldb: 11, ldc: 12, accumulate: false }, options: { mode: 'direct' } });
  // Other micro-tiles and unrolls.
  for (const options of [{ mr: 1, nr: 4 }, { mr: 5, nr: 8, unroll: 3 }, { mr: 3, nr: 12 }, { mr: 2, nr: 16, unroll: 2 }] as GemmOptions[]) {
    out.push({ spec: { m: 23, n: 37, k: 41, transA: false, transB: true, accumulate: true }, options: { ...options, ...TINY_BLOCKS } });
    out.push({ spec: { m: 3, n: 37, k: 41, transA: true, transB: false, accumulate: false }, options: { ...options, mode: 'direct' } });
  }
  return out;
}

/** Deterministic values in [-1, 1). */
function fill(view: Float32Array, seed: number): void {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < view.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    view[i] = ((x >>> 0) / 2 ** 32) * 2 - 1;
  }
}

/** Elements an operand spans in memory. */
const span = (rows: number, cols: number, ld: number): number => (rows - 1) * ld + cols;

interface Placed {
  name: string;
  spec: Required<GemmSpec>;
  options: GemmOptions;
  a: number;
  b: number;
  c: number;
  scratch: number;
  sync: number;
  aLen: number;
  bLen: number;
  cLen: number;
}

/** Builds every case into one module (one export each) over one shared memory. */
async function buildAll(all: Case[]): Promise<{ placed: Placed[]; memory: WasmMemory; bytes: Uint8Array }> {
  const bin = await loadBinaryen();
  const mod = newGemmModule(bin);
  const placed: Placed[] = [];
  let at = 0;
  const align = (x: number): number => Math.ceil(x / 64) * 64;
  all.forEach(({ spec, options = {} }, i) => {
    const name = `gemm${i}`;
    emitGemm(bin, mod, name, spec, options);
    const s = resolveSpec(spec);
    const aLen = s.transA ? span(s.k, s.m, s.lda) : span(s.m, s.k, s.lda);
    const bLen = s.transB ? span(s.n, s.k, s.ldb) : span(s.k, s.n, s.ldb);
    const cLen = span(s.m, s.n, s.ldc);
    const a = align(at);
    const b = align(a + 4 * aLen);
    const c = align(b + 4 * bLen);
    const sync = align(c + 4 * cLen);
    const scratch = sync + GEMM_SYNC_BYTES;
    // Two scratch regions: one per thread.
    at = scratch + 2 * align(gemmScratchBytes(s, options));
    placed.push({ name, spec: s, options, a, b, c, scratch, sync, aLen, bLen, cLen });
  });
  // NOTE: unoptimized; binaryen's optimizer would take seconds on ~250 GEMMs and changes no result.
  const bytes = finishModule(bin, mod, false);
  mod.dispose();
  const memory = new (wasmApi().Memory)({ initial: Math.ceil(at / 65536) + 1, maximum: 65536, shared: true });
  return { placed, memory, bytes };
}

/** float64 reference of C after the call, from the initial C. */
function reference(p: Placed, A: Float32Array, B: Float32Array, C0: Float32Array): Float64Array {
  const { m, n, k, lda, ldb, ldc, transA, transB, accumulate } = p.spec;
  const out = Float64Array.from(C0);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = accumulate ? C0[i * ldc + j]! : 0;
      for (let q = 0; q < k; q++) acc += (transA ? A[q * lda + i]! : A[i * lda + q]!) * (transB ? B[j * ldb + q]! : B[q * ldb + j]!);
      out[i * ldc + j] = acc;
    }
  }
  return out;
}

/** Describes the worst mismatch, or '' when C matches the reference (padding included). */
function compare(p: Placed, got: Float32Array, want: Float64Array): string {
  for (let x = 0; x < want.length; x++) {
    const tol = 1e-5 * (1 + p.spec.k);
    if (!(Math.abs(got[x]! - want[x]!) <= tol)) {
      const i = Math.floor(x / p.spec.ldc);
      return `${p.name} ${JSON.stringify(p.spec)} ${JSON.stringify(p.options)}: C[${i},${x % p.spec.ldc}] = ${got[x]} want ${want[x]}`;
    }
  }
  return '';
}

type Runner = (p: Placed, rows: [number, number][]) => void;

/** Runs every case with `run` and returns the mismatches. */
function checkAll(placed: Placed[], memory: WasmMemory, run: Runner, rowsOf: (p: Placed) => [number, number][]): string[] {
  const f32 = (ptr: number, len: number): Float32Array => new Float32Array(memory.buffer, ptr, len);
  const bad: string[] = [];
  placed.forEach((p, i) => {
    const A = f32(p.a, p.aLen);
    const B = f32(p.b, p.bLen);
    const C = f32(p.c, p.cLen);
    fill(A, 3 * i + 1);
    fill(B, 3 * i + 2);
    fill(C, 3 * i + 3);
    const want = reference(p, A, B, C.slice());
    run(p, rowsOf(p));
    const msg = compare(p, C, want);
    if (msg) bad.push(msg);
  });
  return bad;
}

describe('wasm gemm', () => {
  const all = cases();
  let built: Awaited<ReturnType<typeof buildAll>>;
  let exportsOf: Record<string, unknown>;

  beforeAll(async () => {
    built = await buildAll(all);
    const wasm = wasmApi();
    exportsOf = new wasm.Instance(new wasm.Module(built.bytes), { env: { memory: built.memory } }).exports;
  }, 120_000);

  const call = (p: Placed, [r0, r1]: [number, number], scratch = p.scratch): void => {
    const fn = exportsOf[p.name];
    if (typeof fn !== 'function') throw new Error(`no export ${p.name}`);
    fn(p.a, p.b, p.c, r0, r1, scratch, 0);
  };

  it(`matches the float64 reference on ${all.length} cases (shapes 1..70, transposes, accumulate, both strategies)`, () => {
    const bad = checkAll(built.placed, built.memory, (p, rows) => rows.forEach((r) => call(p, r)), (p) => [[0, p.spec.m]]);
    expect(bad).toEqual([]);
  });

  it('computes exactly the rows asked for: ragged row ranges add up to the whole', () => {
    const ragged = (p: Placed): [number, number][] => {
      const cuts = [0, 1, 3, 10, 11, 30, p.spec.m].filter((x) => x <= p.spec.m);
      return cuts.slice(1).map((end, i) => [cuts[i]!, end] as [number, number]).concat([[p.spec.m, p.spec.m]]);
    };
    const bad = checkAll(built.placed, built.memory, (p, rows) => rows.forEach((r) => call(p, r)), ragged);
    expect(bad).toEqual([]);
  });

  it('plans direct mode for few rows and packs B otherwise', () => {
    expect(planGemm({ m: 1, n: 256, k: 784, transA: false, transB: false, accumulate: false })).toMatchObject({ mode: 'direct', nr: 16, chunk: 2 });
    expect(planGemm({ m: 1, n: 256, k: 784, transA: false, transB: true, accumulate: false }).mode).toBe('packed');
    const p = planGemm({ m: 128, n: 256, k: 784, transA: false, transB: false, accumulate: false });
    expect(p).toMatchObject({ mode: 'packed', kc: 196 });
    expect(p).toMatchObject({ kBlocks: 4, panels: 32, mb: 16 });
    expect(gemmScratchBytes({ m: 128, n: 256, k: 784, transA: false, transB: false, accumulate: false })).toBe(784 * 256 * 4);
    expect(gemmScratchBytes({ m: 1, n: 256, k: 784, transA: false, transB: false, accumulate: false })).toBe(0);
  });

  it('splits rows on micro-tile boundaries', () => {
    const spec = { m: 70, n: 8, k: 8, transA: false, transB: false, accumulate: false };
    expect(splitRows(spec, 2)).toEqual([
      [0, 36],
      [36, 70],
    ]);
    expect(splitRows({ ...spec, m: 3 }, 2)).toEqual([[0, 3]]);
    expect(gemmThreadArgs(spec, 1, 2, 3, [100, 200])).toEqual([
      [1, 2, 3, 0, 36, 100, 0],
      [1, 2, 3, 36, 70, 200, 0],
    ]);
  });

  it('rejects bad specs with the shape in the message', () => {
    expect(() => resolveSpec({ m: 0, n: 2, k: 3, transA: false, transB: false, accumulate: false })).toThrow(
      'gemm: m must be a positive integer, got 0 (f32[0,3] · f32[3,2])',
    );
    expect(() => resolveSpec({ m: 2, n: 2, k: 3, transA: true, transB: false, lda: 1, accumulate: false })).toThrow(
      'gemm: lda must be an integer ≥ 2, got 1 (f32[3,2]ᵀ · f32[3,2])',
    );
    expect(() => planGemm({ m: 2, n: 2, k: 3, transA: false, transB: true, accumulate: false }, { mode: 'direct' })).toThrow(
      'gemm: direct mode needs B untransposed (f32[2,3] · f32[2,3]ᵀ)',
    );
  });

  it('compileGemm runs the TSDoc example', async () => {
    const g = await compileGemm({ m: 2, n: 4, k: 3, transA: false, transB: false, accumulate: false });
    g.view(g.layout.a, 6).set([1, 2, 3, 4, 5, 6]);
    g.view(g.layout.b, 12).fill(1);
    g.run();
    expect([...g.view(g.layout.c, 8)]).toEqual([6, 6, 6, 6, 15, 15, 15, 15]);
  });

  it('emits the same code for a tiny spec (golden .wat)', async () => {
    const bin = await loadBinaryen();
    const mod = newGemmModule(bin);
    emitGemm(bin, mod, 'gemm_2x4x3', { m: 2, n: 4, k: 3, transA: false, transB: false, accumulate: false });
    expect(mod.validate()).toBeTruthy();
    const text = mod.emitText();
    mod.dispose();
    await expect(text).toMatchFileSnapshot('./__snapshots__/gemm-2x4x3.wat');
  });

  describe('on 2 threads', () => {
    let pool: ThreadPool;
    let id: number;

    beforeAll(async () => {
      pool = await ThreadPool.create(built.memory, 2);
      id = await pool.load(built.bytes);
    });
    afterAll(async () => {
      await pool?.close();
    });

    it('has 2 threads where shared memory and worker_threads exist', () => {
      expect(pool.size).toBe(2);
      expect(pool.reason).toBeUndefined();
    });

    it('matches the reference with rows split between the main thread and a worker', () => {
      const run: Runner = (p) => {
        const sb = Math.ceil(gemmScratchBytes(p.spec, p.options) / 64) * 64;
        const lists = gemmThreadArgs(p.spec, p.a, p.b, p.c, [p.scratch, p.scratch + sb], p.options);
        pool.run(id, p.name, lists);
      };
      const bad = checkAll(built.placed, built.memory, run, () => []);
      expect(bad).toEqual([]);
    });

    it('matches the reference when both threads share one call (work claimed atomically)', () => {
      const run: Runner = (p) => pool.runShared(id, p.name, [p.a, p.b, p.c, 0, p.spec.m, p.scratch, p.sync], { ptr: p.sync, bytes: GEMM_SYNC_BYTES });
      const bad = checkAll(built.placed, built.memory, run, () => []);
      expect(bad).toEqual([]);
    });

    it('shares a call between threads even when the worker sleeps (cancelled or late)', () => {
      const p = built.placed.find((x) => x.spec.m === 70 && x.spec.transB && x.options.mb === 8)!;
      const run: Runner = (q) => {
        // Let the worker fall asleep, so the main thread may finish before it wakes.
        const until = performance.now() + 3;
        while (performance.now() < until);
        pool.runShared(id, q.name, [q.a, q.b, q.c, 0, q.spec.m, q.scratch, q.sync], { ptr: q.sync, bytes: GEMM_SYNC_BYTES });
      };
      for (let r = 0; r < 5; r++) expect(checkAll([p], built.memory, run, () => [])).toEqual([]);
    });

    it('matches the reference with rows split when the worker sleeps (its share taken over, or late)', () => {
      const p = built.placed.find((x) => x.spec.m === 70 && x.spec.transB && x.options.mb === 8)!;
      const sb = Math.ceil(gemmScratchBytes(p.spec, p.options) / 64) * 64;
      const run: Runner = (q) => {
        const until = performance.now() + 3; // the worker falls asleep after 0.5 ms
        while (performance.now() < until);
        pool.run(id, q.name, gemmThreadArgs(q.spec, q.a, q.b, q.c, [q.scratch, q.scratch + sb], q.options));
      };
      for (let r = 0; r < 5; r++) expect(checkAll([p], built.memory, run, () => [])).toEqual([]);
    });

    it('runs the worker share alone when the main share is empty', () => {
      const p = built.placed.find((x) => x.spec.m === 70 && x.spec.transB)!;
      const sb = Math.ceil(gemmScratchBytes(p.spec, p.options) / 64) * 64;
      const run: Runner = (q) => pool.run(id, q.name, [[q.a, q.b, q.c, 0, 0, q.scratch, 0], [q.a, q.b, q.c, 0, q.spec.m, q.scratch + sb, 0]]);
      expect(checkAll([p], built.memory, run, () => [])).toEqual([]);
    });

    it('reports a worker failure with its message', async () => {
      const bin = await loadBinaryen();
      const mod = newGemmModule(bin);
      mod.addFunction('boom', bin.createType([bin.i32]), bin.none, [], mod.unreachable());
      mod.addFunctionExport('boom', 'boom');
      mod.addFunction('ok', bin.createType([bin.i32]), bin.none, [], mod.nop());
      mod.addFunctionExport('ok', 'ok');
      const bad = await pool.load(finishModule(bin, mod));
      mod.dispose();
      // Both shares trap; the main thread's own error wins (after the worker has finished).
      expect(() => pool.run(bad, 'boom', [[0], [0]])).toThrow('unreachable');
      expect(() => pool.run(bad, 'ok', [[0], [0]])).not.toThrow();
      expect(() => pool.run(bad, 'missing', [[0]])).toThrow(`ThreadPool.run: module ${bad} has no function export 'missing' (has: boom, ok)`);
      expect(() => pool.run(bad, 'ok', [[0], [0], [0]])).toThrow('ThreadPool.run: 3 argument lists for a pool of 2 threads');
    });

    it('surfaces an error thrown only on the worker', async () => {
      const bin = await loadBinaryen();
      const mod = newGemmModule(bin);
      // Traps when its argument is non-zero: only the worker gets a 1. The main share counts
      // down from 2^24 first, so the worker claims its share before the main thread could
      // take it over (which it does for a share still unclaimed when its own is done).
      const i32 = bin.i32;
      const x = (): ReturnType<typeof mod.local.get> => mod.local.get(0, i32);
      const spin = mod.block(null, [
        mod.local.set(1, mod.i32.const(1 << 24)),
        mod.loop('spin', mod.br('spin', mod.local.tee(1, mod.i32.sub(mod.local.get(1, i32), mod.i32.const(1)), i32))),
      ]);
      mod.addFunction('trap_if', bin.createType([i32]), bin.none, [i32], mod.if(x(), mod.unreachable(), spin));
      mod.addFunctionExport('trap_if', 'trap_if');
      const m = await pool.load(finishModule(bin, mod));
      mod.dispose();
      expect(() => pool.run(m, 'trap_if', [[0], [1]])).toThrow(ThreadPoolError);
      expect(() => pool.run(m, 'trap_if', [[0], [1]])).toThrow(/^ThreadPool.run 'trap_if': worker 1 failed: RuntimeError: unreachable/);
      expect(() => pool.run(m, 'trap_if', [[0], [0]])).not.toThrow();
    });
  });

  it('never loses the first job of a fresh pool (create, load, run, close × 8)', async () => {
    const bin = await loadBinaryen();
    const mod = newGemmModule(bin);
    mod.addFunction('nop', bin.createType([bin.i32]), bin.none, [], mod.nop());
    mod.addFunctionExport('nop', 'nop');
    const bytes = finishModule(bin, mod);
    mod.dispose();
    const memory = new (wasmApi().Memory)({ initial: 1, maximum: 2, shared: true });
    for (let r = 0; r < 8; r++) {
      const pool = await ThreadPool.create(memory, 2);
      const id = await pool.load(bytes);
      pool.run(id, 'nop', [[0], [0]]);
      await pool.close();
    }
  });

  it('falls back to 1 thread on unshared memory, and closes cleanly', async () => {
    const memory = new (wasmApi().Memory)({ initial: 1, maximum: 2 });
    const pool = await ThreadPool.create(memory, 2);
    expect(pool.size).toBe(1);
    expect(pool.reason).toBe('the memory is not shared (create it with shared: true)');
    await pool.close();
    expect(() => pool.run(0, 'x', [[]])).toThrow('ThreadPool.run: the pool is closed');
  });

  it('with relaxed SIMD, multiply-adds are fused and C still matches the reference (both strategies)', async () => {
    await optimizingWasmCompiler(); // turns relaxed SIMD on in Node 20
    expect(relaxedSimdSupported()).toBe(true);
    const fmaCases: Case[] = [
      { spec: { m: 37, n: 29, k: 53, transA: false, transB: true, accumulate: false }, options: { fma: true, ...TINY_BLOCKS } },
      { spec: { m: 64, n: 40, k: 300, transA: true, transB: false, accumulate: true }, options: { fma: true } },
      { spec: { m: 1, n: 70, k: 33, transA: false, transB: false, accumulate: false }, options: { fma: true } },
      { spec: { m: 3, n: 9, k: 300, transA: false, transB: false, lda: 301, ldb: 11, ldc: 12, accumulate: false }, options: { fma: true, mode: 'direct' } },
    ];
    const fused = await buildAll(fmaCases);
    const wasm = wasmApi();
    const exp = new wasm.Instance(new wasm.Module(fused.bytes), { env: { memory: fused.memory } }).exports;
    const bad = checkAll(fused.placed, fused.memory, (p) => (exp[p.name] as (...a: number[]) => void)(p.a, p.b, p.c, 0, p.spec.m, p.scratch, 0), (p) => [[0, p.spec.m]]);
    expect(bad).toEqual([]);
    // the instruction is there
    const bin = await loadBinaryen();
    const mod = newGemmModule(bin);
    emitGemm(bin, mod, 'g', { m: 2, n: 4, k: 3, transA: false, transB: false, accumulate: false }, { fma: true });
    expect(mod.emitText()).toContain('f32x4.relaxed_madd');
    mod.dispose();
  });

  it('parallelizes only kernels big enough to pay for the dispatch', () => {
    expect(shouldParallelize(2 * 16 * 64 * 64)).toBe(false);
    expect(shouldParallelize(2 * 128 * 784 * 256)).toBe(true);
    expect(shouldParallelize(2 * 128 * 784 * 256, 1)).toBe(false);
    expect(shouldParallelize({ m: 1, n: 128, k: 256 })).toBe(false);
    // batch-1 layers: only from ~100 µs of work (W5 b1's 784×256 layer stays on one thread)
    expect(shouldParallelize({ m: 1, n: 256, k: 784 })).toBe(false);
    expect(shouldParallelize({ m: 1, n: 512, k: 2048 })).toBe(true);
    expect(shouldParallelize({ m: 2, n: 256, k: 256 })).toBe(true);
  });
});

describe('gemm layout', () => {
  it('places operands 64-byte aligned with one scratch region per thread', () => {
    const spec = { m: 3, n: 5, k: 7, transA: false, transB: false, accumulate: false };
    expect(gemmLayout(spec, 2, 10)).toEqual({ a: 64, b: 192, c: 384, sync: 448, scratch: 512, scratchStride: 0, end: 512 });
    const packed = gemmLayout({ ...spec, m: 5 }, 2);
    // 7 k × one 8-wide panel of floats, rounded up to 64 bytes.
    expect(packed.scratchStride).toBe(256);
    expect(packed.end).toBe(packed.scratch + 2 * 256);
  });
});

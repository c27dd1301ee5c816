/**
 * GEMM micro-benchmark: GFLOP/s of the generated wasm GEMM per shape on 1 and 2 threads
 * (WORKLOADS.md's protocol: warm-up, ~100 ms repetitions, median of 11), the thread pool's
 * dispatch latency, and the 1-vs-2-thread break-even behind `shouldParallelize`.
 *
 *   npx tsc -p . && node dist/bench/gemm-micro.js [--only W1,mlp] [--json] [--quick] [--no-fma]
 *
 * `--no-fma`: f32x4.mul + add instead of relaxed SIMD's fused multiply-add.
 */
import { compileGemm, emitGemm, finishModule, GEMM_SYNC_BYTES, type GemmSpec, gemmFlops, gemmLayout, gemmThreadArgs, loadBinaryen, newGemmModule } from '../src/codegen-js/wasm-gemm.js';
import { relaxedSimdSupported, wasmApi } from '../src/codegen-js/wasm-js-api.js';
import { optimizingWasmCompiler, shouldParallelize, ThreadPool } from '../src/runtime/threads.js';
import { randn } from './data.js';
import { bench, type ProtocolOptions } from './protocol.js';

interface Shape {
  id: string;
  m: number;
  k: number;
  n: number;
  transA?: boolean;
  transB?: boolean;
}

const SHAPES: Shape[] = [
  { id: 'W1_matmul_256', m: 256, k: 256, n: 256 },
  { id: 'W1_matmul_1024', m: 1024, k: 1024, n: 1024 },
  { id: 'mlp_fwd1 128x784.784x256', m: 128, k: 784, n: 256 },
  { id: 'mlp_fwd2 128x256.256x128', m: 128, k: 256, n: 128 },
  { id: 'mlp_fwd3 128x128.128x10', m: 128, k: 128, n: 10 },
  { id: 'mlp_dW1 784x128.128x256 (Xt.dY)', m: 784, k: 128, n: 256, transA: true },
  { id: 'mlp_dX2 128x256.256x784 (dY.Wt)', m: 128, k: 256, n: 784, transB: true },
  { id: 'mlp_dW2 256x128.128x128 (Xt.dY)', m: 256, k: 128, n: 128, transA: true },
  { id: 'mlp_dX3 128x128.128x256 (dY.Wt)', m: 128, k: 128, n: 256, transB: true },
  { id: 'mlp_dW3 128x128.128x10 (Xt.dY)', m: 128, k: 128, n: 10, transA: true },
  { id: 'mlp_dX4 128x10.10x128 (dY.Wt)', m: 128, k: 10, n: 128, transB: true },
  { id: 'infer_b1 1x784.784x256', m: 1, k: 784, n: 256 },
  { id: 'infer_b1 1x256.256x128', m: 1, k: 256, n: 128 },
  { id: 'infer_b1 1x128.128x10', m: 1, k: 128, n: 10 },
  { id: 'infer_b256 256x784.784x256', m: 256, k: 784, n: 256 },
];

/** [m, k, n] for the 1-vs-2-thread break-even sweep. */
const BREAK_EVEN_SIZES: [number, number, number][] = [
  [1, 256, 128],
  [1, 784, 256],
  [8, 64, 64],
  [16, 64, 64],
  [32, 64, 64],
  [16, 128, 128],
  [32, 128, 128],
  [64, 128, 128],
  [32, 256, 256],
  [64, 256, 256],
  [16, 784, 256],
  [32, 784, 256],
];

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);
const fma = !flag('--no-fma');
/** `--tile 6x8`: micro-tile rows x columns; `--set kcMax=128,mb=16`: other GemmOptions (default: the generator's choice). */
const tile = ((): Record<string, number> => {
  const out: Record<string, number> = {};
  const i = args.indexOf('--tile');
  if (i >= 0) [out.mr, out.nr] = (args[i + 1] ?? '').split('x').map(Number) as [number, number];
  const j = args.indexOf('--set');
  if (j >= 0) for (const kv of (args[j + 1] ?? '').split(',')) out[kv.split('=')[0]!] = Number(kv.split('=')[1]);
  return out;
})();
const only = ((): string[] => {
  const i = args.indexOf('--only');
  return i >= 0 ? (args[i + 1] ?? '').split(',').filter(Boolean) : [];
})();
const json = flag('--json');
const protocol: Partial<ProtocolOptions> = flag('--quick') ? { warmupMs: 100, targetRepMs: 30, reps: 5 } : {};

const specOf = (s: Shape): GemmSpec => ({ m: s.m, n: s.n, k: s.k, transA: s.transA ?? false, transB: s.transB ?? false, accumulate: false });


/** Largest relative error of C over a few sampled entries, against a float64 dot product. */
function spotCheck(spec: GemmSpec, a: Float32Array, b: Float32Array, c: Float32Array): number {
  const { m, n, k } = spec;
  let worst = 0;
  for (let t = 0; t < 16; t++) {
    const i = (t * 7919) % m;
    const j = (t * 104729) % n;
    let acc = 0;
    let mag = 0;
    for (let p = 0; p < k; p++) {
      const x = (spec.transA ? a[p * m + i] : a[i * k + p])! * (spec.transB ? b[j * k + p] : b[p * n + j])!;
      acc += x;
      mag += Math.abs(x);
    }
    worst = Math.max(worst, Math.abs(acc - c[i * n + j]!) / Math.max(mag, 1e-30));
  }
  return worst;
}

function report(row: Record<string, unknown>, text: string): void {
  console.log(json ? JSON.stringify(row) : text);
}

async function main(): Promise<void> {
  const wasm = wasmApi();
  const shapes = SHAPES.filter((s) => only.length === 0 || only.some((o) => s.id.startsWith(o) || s.id.includes(o)));
  let maxEnd = 0;
  for (const s of shapes) maxEnd = Math.max(maxEnd, gemmLayout(specOf(s), 2).end);
  for (const [m, k, n] of BREAK_EVEN_SIZES) maxEnd = Math.max(maxEnd, gemmLayout(specOf({ id: '', m, k, n }), 2).end);
  const memory = new wasm.Memory({ initial: Math.ceil(maxEnd / 65536) + 1, maximum: 65536, shared: true });
  const pool = await ThreadPool.create(memory, 2);
  await optimizingWasmCompiler(); // turns relaxed SIMD on where the engine has it behind a flag
  if (!json) console.log(`threads: ${pool.size}${pool.reason ? ` (${pool.reason})` : ''}, fma: ${fma && relaxedSimdSupported()}`);

  await dispatchLatency(pool);

  if (!json) console.log('\nshape                                   ms(1t)    GF/s(1t)   ms(2t)    GF/s(2t)  speedup  GF/s(2t static)  GF/s(2t cols)  compile');
  for (const s of shapes) {
    const spec = specOf(s);
    const t0 = performance.now();
    const compile = await optimizingWasmCompiler();
    const g = await compileGemm(spec, { memory, threads: 2, compile, fma: fma && relaxedSimdSupported(), ...tile });
    const compileMs = performance.now() - t0;
    const id = await pool.load(g.module, g.instance);
    const { a, b, c, scratch, scratchStride, sync } = g.layout;
    const aView = g.view(a, (b - a) / 4);
    const bView = g.view(b, (c - b) / 4);
    aView.set(randn(aView.length, 1));
    bView.set(randn(bView.length, 2));
    const one = [[a, b, c, 0, s.m, scratch, 0]];
    const split = gemmThreadArgs(spec, a, b, c, [scratch, scratch + scratchStride]);
    const shared = (): void => pool.runShared(id, 'gemm', [a, b, c, 0, s.m, scratch, sync], { ptr: sync, bytes: GEMM_SYNC_BYTES });
    const cView = (): Float32Array => g.view(c, s.m * s.n);
    let err = 0;
    for (const run of [() => pool.run(id, 'gemm', one), () => pool.run(id, 'gemm', split), shared]) {
      cView().fill(0);
      run();
      err = Math.max(err, spotCheck(spec, aView, bView, cView()));
    }
    const r1 = bench(() => pool.run(id, 'gemm', one), protocol);
    // Shared calls split rows (packed) or column chunks (direct); a static split needs 2+ row ranges.
    const r2 = pool.size > 1 ? bench(shared, protocol) : undefined;
    const rs = pool.size > 1 && split.length > 1 ? bench(() => pool.run(id, 'gemm', split), protocol) : undefined;
    // A static column split: each thread packs and computes half of the columns (n even, halves on whole panels).
    let rc: ReturnType<typeof bench> | undefined;
    const half = spec.n / 2;
    if (pool.size > 1 && half % 16 === 0) {
      const h = await compileGemm({ ...spec, n: half, ldb: spec.transB ? spec.k : spec.n, ldc: spec.n }, { memory, threads: 1, compile, fma: fma && relaxedSimdSupported(), ...tile });
      const hid = await pool.load(h.module, h.instance);
      const off = spec.transB ? half * spec.k * 4 : half * 4;
      const cols = [
        [a, b, c, 0, s.m, scratch, 0],
        [a, b + off, c + half * 4, 0, s.m, scratch + scratchStride, 0],
      ];
      cView().fill(0);
      pool.run(hid, 'gemm', cols);
      err = Math.max(err, spotCheck(spec, aView, bView, cView()));
      rc = bench(() => pool.run(hid, 'gemm', cols), protocol);
    }
    const flops = gemmFlops(spec);
    const gf = (ms: number): number => flops / ms / 1e6;
    const row = {
      shape: s.id,
      m: s.m,
      k: s.k,
      n: s.n,
      transA: spec.transA,
      transB: spec.transB,
      mode: g.plan.mode,
      ms_1t: r1.ms,
      gflops_1t: gf(r1.ms),
      ms_min_1t: r1.ms_min,
      ms_2t: r2?.ms ?? null,
      gflops_2t: r2 ? gf(r2.ms) : null,
      ms_min_2t: r2?.ms_min ?? null,
      gflops_2t_static: rs ? gf(rs.ms) : null,
      gflops_2t_cols: rc ? gf(rc.ms) : null,
      parallel_by_default: shouldParallelize(spec),
      compile_ms: compileMs,
      max_rel_err: err,
    };
    const f = (x: number, w: number, d: number): string => x.toFixed(d).padStart(w);
    const na = (w: number): string => 'n/a'.padStart(w);
    report(
      row,
      `${s.id.padEnd(38)} ${f(r1.ms, 8, 4)} ${f(gf(r1.ms), 9, 1)}  ${r2 ? f(r2.ms, 8, 4) : na(8)} ${r2 ? f(gf(r2.ms), 9, 1) : na(9)}  ${r2 ? f(r1.ms / r2.ms, 6, 2) : na(6)}x ${rs ? f(gf(rs.ms), 15, 1) : na(15)} ${rc ? f(gf(rc.ms), 14, 1) : na(14)} ${f(compileMs, 6, 0)} ms  [${g.plan.mode}, err ${err.toExponential(1)}]`,
    );
  }
  if (only.length === 0 || only.includes('breakeven')) await breakEven(pool);
  await pool.close();
}

/** µs per `run` of an empty export on 1 and 2 threads, with the worker spinning and asleep. */
async function dispatchLatency(pool: ThreadPool): Promise<void> {
  const bin = await loadBinaryen();
  const mod = newGemmModule(bin);
  mod.addFunction('nop', bin.createType([bin.i32, bin.i32, bin.i32, bin.i32, bin.i32, bin.i32]), bin.none, [], mod.nop());
  mod.addFunctionExport('nop', 'nop');
  const bytes = finishModule(bin, mod);
  mod.dispose();
  const id = await pool.load(bytes);
  const args = [1, 2, 3, 4, 5, 6];
  const time = (threads: number, n: number, idleMs: number): number => {
    const lists = Array.from({ length: threads }, () => args);
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      if (idleMs > 0) {
        const until = performance.now() + idleMs;
        while (performance.now() < until);
      }
      const t = performance.now();
      pool.run(id, 'nop', lists);
      samples.push((performance.now() - t) * 1000);
    }
    samples.sort((x, y) => x - y);
    return samples[samples.length >> 1]!;
  };
  time(1, 2000, 0);
  const single = time(1, 20000, 0);
  const rows: Record<string, number> = { main_only_us: single };
  if (pool.size > 1) {
    time(2, 2000, 0);
    rows.two_threads_hot_us = time(2, 20000, 0);
    rows.two_threads_after_2ms_idle_us = time(2, 200, 2);
    const samples: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const t = performance.now();
      pool.runShared(id, 'nop', args, { ptr: 0, bytes: 0 });
      samples.push((performance.now() - t) * 1000);
    }
    rows.shared_call_us = samples.sort((x, y) => x - y)[samples.length >> 1]!;
  }
  report(
    { dispatch: rows },
    `dispatch latency (median µs per run of an empty export): main only ${single.toFixed(2)}` +
      (pool.size > 1
        ? `, 2 threads hot ${rows.two_threads_hot_us!.toFixed(2)}, 2 threads after 2 ms idle (worker asleep) ${rows.two_threads_after_2ms_idle_us!.toFixed(2)}, shared call (cancellable) ${rows.shared_call_us!.toFixed(2)}`
        : ''),
  );
}

/** 1 vs 2 threads on growing shapes, to place `PARALLEL_MIN_FLOPS`. */
async function breakEven(pool: ThreadPool): Promise<void> {
  if (pool.size < 2) return;
  if (!json) console.log('\nbreak-even (median µs per call; 2t = shared call; ratio = 1t / 2t)');
  const sizes = BREAK_EVEN_SIZES;
  const bin = await loadBinaryen();
  for (const [m, k, n] of sizes) {
    const spec: GemmSpec = { m, n, k, transA: false, transB: false, accumulate: false };
    const mod = newGemmModule(bin);
    emitGemm(bin, mod, 'gemm', spec);
    const bytes = finishModule(bin, mod);
    mod.dispose();
    const id = await pool.load(bytes);
    const { a, b, c, scratch, scratchStride, sync } = gemmLayout(spec, 2);
    const one = [[a, b, c, 0, m, scratch, 0]];
    const split = gemmThreadArgs(spec, a, b, c, [scratch, scratch + scratchStride]);
    const shared = (): void => pool.runShared(id, 'gemm', [a, b, c, 0, m, scratch, sync], { ptr: sync, bytes: GEMM_SYNC_BYTES });
    const quick = { warmupMs: 100, targetRepMs: 20, reps: 7 };
    const r1 = bench(() => pool.run(id, 'gemm', one), quick);
    const r2 = bench(shared, quick);
    const rs = split.length > 1 ? bench(() => pool.run(id, 'gemm', split), quick) : undefined;
    const flops = gemmFlops(spec);
    const us = (ms: number): string => (ms * 1000).toFixed(1).padStart(8);
    report(
      { breakeven: { m, k, n, flops, us_1t: r1.ms * 1000, us_2t: r2.ms * 1000, us_2t_static: rs ? rs.ms * 1000 : null, ratio: r1.ms / r2.ms } },
      `  ${`${m}x${k}.${k}x${n}`.padEnd(16)} ${(flops / 1e6).toFixed(2).padStart(7)} MFLOP  1t ${us(r1.ms)}  2t ${us(r2.ms)} (static ${rs ? us(rs.ms) : '     n/a'})  ratio ${(r1.ms / r2.ms).toFixed(2)}`,
    );
  }
}

await main();

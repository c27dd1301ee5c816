/**
 * The benchmark harness (bench/) computes what ../shared/bench/WORKLOADS.md defines: the peers'
 * data generator bit for bit, the timing protocol, the line format, and every workload once
 * (small sizes where the contract's size would be slow on the reference interpreter). No timing
 * assertions: performance targets live in the benchmark runs only.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseArgs as parseBenchArgs } from '../../bench/main.js';
import { parseArgs as parseMemoryArgs } from '../../bench/memory-flat.js';
import { hwcRowsToChw, hwioToOihw, randLabels, randn, rng } from '../../bench/data.js';
import { bench, errorLine, FLOPS, median, resultLine, wanted } from '../../bench/protocol.js';
import {
  cnnTrainW4,
  geluW2,
  matmulW1,
  mlpInferW5,
  mlpParamData,
  mlpTrainW3,
  scalarW6,
  suite,
  VARIANTS,
} from '../../bench/workloads.js';

describe('bench data: a port of bench_util.mjs', () => {
  // Printed by `node` with ../shared/bench/peers/bench_util.mjs (2026-11 version).
  it('matches values computed by bench_util.mjs', () => {
    const u = rng(1234);
    expect([u(), u(), u()]).toEqual([0.07329497812315822, 0.7034119898453355, 0.9028560190927237]);
    expect(Array.from(randn(5, 1))).toEqual([0.9659740328788757, 1.123104214668274, -0.04922786355018616, -0.1808914989233017, 1.3060548305511475]);
    expect(randn(128 * 784, 4)[100351]).toBe(0.019386786967515945);
    expect(Array.from(randn(3, 10, Math.sqrt(2 / 784)))).toEqual([0.051505133509635925, 0.013955035246908665, -0.059873323887586594]);
    expect(Array.from(randLabels(12))).toEqual([2, 8, 5, 6, 0, 8, 0, 1, 3, 6, 3, 0]);
    expect(Array.from(randLabels(12, 10, 7))).toEqual([0, 0, 9, 6, 5, 4, 4, 2, 5, 7, 2, 1]);
  });

  // When the peers' folder is next to the checkout, compare whole arrays with it.
  const here = dirname(fileURLToPath(import.meta.url));
  const peerUtil = join(here, '../../../shared/bench/peers/bench_util.mjs');
  it.skipIf(!existsSync(peerUtil))('is identical to ../shared/bench/peers/bench_util.mjs', async () => {
    const ref = (await import(pathToFileURL(peerUtil).href)) as {
      randn: (n: number, seed?: number, scale?: number) => Float32Array;
      randLabels: (n: number, classes?: number, seed?: number) => Int32Array;
    };
    for (const [n, seed, scale] of [[1000, 1, 1], [4096, 4, 1], [256, 10, Math.sqrt(2 / 784)], [72, 20, Math.sqrt(2 / 9)]] as const) {
      expect(randn(n, seed, scale)).toEqual(ref.randn(n, seed, scale));
    }
    expect(randLabels(128)).toEqual(ref.randLabels(128));
    expect(randLabels(32, 10, 7)).toEqual(ref.randLabels(32, 10, 7));
  });

  it('reorders HWIO kernels to OIHW and NHWC-flatten rows to NCHW-flatten rows', () => {
    // HWIO [kh=1, kw=2, ci=2, co=3] holding its own flat index
    const hwio = Float32Array.from({ length: 12 }, (_, j) => j);
    const oihw = hwioToOihw(hwio, 1, 2, 2, 3);
    // oihw[c][i][0][w] = hwio[0][w][i][c] = (w*2 + i)*3 + c
    for (let c = 0; c < 3; c++) for (let i = 0; i < 2; i++) for (let w = 0; w < 2; w++) expect(oihw[(c * 2 + i) * 2 + w]).toBe((w * 2 + i) * 3 + c);
    const rows = Float32Array.from({ length: 2 * 2 * 3 * 1 }, (_, j) => j); // H = W = 2, C = 3, one output column
    const chw = hwcRowsToChw(rows, 2, 2, 3, 1);
    for (let h = 0; h < 2; h++) for (let w = 0; w < 2; w++) for (let c = 0; c < 3; c++) expect(chw[(c * 2 + h) * 2 + w]).toBe((h * 2 + w) * 3 + c);
  });
});

describe('bench protocol', () => {
  /** A fake clock: each call of the returned fn advances it by `cost(i)` ms. */
  function fakeClock(cost: (call: number) => number) {
    let t = 0;
    let calls = 0;
    return { now: () => t, fn: () => void (t += cost(calls++)), calls: () => calls };
  }

  it('warms up >= 3 calls and >= 300 ms, targets ~100 ms per repetition, 11 repetitions', () => {
    const c = fakeClock((i) => (i === 0 ? 500 : 10)); // a slow first call, then 10 ms
    const r = bench(c.fn, { now: c.now });
    expect(r.first_call_ms).toBe(500);
    expect(r.warmup_iters).toBe(31); // first + 30 calls of 10 ms
    expect(r.iters_per_rep).toBe(10);
    expect(r.reps).toBe(11);
    expect(r.ms).toBe(10);
    expect(c.calls()).toBe(31 + 11 * 10);
  });

  it('uses fewer (>= 5) repetitions when 11 would take more than 15 s, and caps very slow iterations', () => {
    const mid = fakeClock(() => 1500);
    const r = bench(mid.fn, { now: mid.now });
    expect([r.warmup_iters, r.iters_per_rep, r.reps, r.note]).toEqual([3, 1, 10, undefined]);
    const slow = fakeClock(() => 2500);
    const s = bench(slow.fn, { now: slow.now });
    expect([s.warmup_iters, s.iters_per_rep, s.reps]).toEqual([3, 1, 3]);
    expect(s.note).toMatch(/reps capped at 3, k = 1/);
  });

  it('reports the median and the extremes of the samples', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    // 3 warm-up calls of 100 ms (so k = 1), then 11 samples
    const costs = [100, 100, 100, 100, 100, 300, 100, 100, 50, 100, 100, 100, 100, 100];
    const c = fakeClock((i) => costs[i] ?? 100);
    const r = bench(c.fn, { now: c.now, warmupMs: 0, reps: 11 });
    expect(r.ms).toBe(100);
    expect(r.ms_max).toBe(300);
    expect(r.ms_min).toBe(50);
  });

  it('prints the peers line format', () => {
    const res = { ms: 3.14159, ms_min: 3, ms_max: 3.5, reps: 11, iters_per_rep: 32, warmup_iters: 100, first_call_ms: 410.123 };
    const l = resultLine('kiln', 'W3_mlp_train_b128__compiled', res, { threads: 1, backend: 'interp' });
    expect(l).toMatchObject({ peer: 'kiln', workload: 'W3_mlp_train_b128__compiled', ms: 3.142, ms_min: 3, ms_max: 3.5, reps: 11, iters_per_rep: 32, threads: 1, backend: 'interp', first_call_ms: 410.1 });
    expect(l.gflops).toBe(Number((FLOPS.W3_mlp_train_b128! / 3.14159e6).toPrecision(4)));
    expect(resultLine('kiln', 'W6_scalar_1000ops_fwd_bwd__eager', res).gflops).toBeNull();
    expect(resultLine('kiln', 'W2_gelu_1e6__eager', { ...res, ms: 1 }).gbps).toBe(8);
    const e = errorLine('kiln', 'W4_cnn_train_b32__eager', new TypeError('no conv\nstack'));
    expect(e).toEqual({ peer: 'kiln', workload: 'W4_cnn_train_b32__eager', ms: null, gflops: null, error: 'TypeError: no conv' });
    expect(FLOPS.W3_mlp_train_b128).toBe(180_289_536);
  });

  it('selects workloads by prefix, as bench_util.mjs does', () => {
    expect(wanted('', 'W1_matmul_256__eager')).toBe(true);
    expect(wanted('W1,W3', 'W3_mlp_train_b128__compiled')).toBe(true);
    expect(wanted('W1,W3', 'W5_mlp_infer_b1__eager')).toBe(false);
    expect(wanted('W5_mlp_infer_b256__eager', 'W5_mlp_infer_b256__eager')).toBe(true);
    expect(wanted('W5_mlp_infer_b256__eager', 'W5_mlp_infer_b1__eager')).toBe(false);
  });

  it('parses the command lines', () => {
    expect(parseBenchArgs(['--json', '--only', 'W1,W3', '--backend=interp'])).toEqual({ json: true, only: 'W1,W3', backend: 'interp', list: false, help: false });
    expect(() => parseBenchArgs(['--bogus'])).toThrow(/unknown argument/);
    expect(parseMemoryArgs([])).toMatchObject({ variant: 'eager', steps: 10000, warmup: 1000, every: 500, thresholdPct: 5 });
    expect(parseMemoryArgs(['--compiled', '--steps', '20', '--warmup=5'])).toMatchObject({ variant: 'compiled', steps: 20, warmup: 5 });
  });
});

describe('bench workloads (each once, not timed)', () => {
  it('lists W1–W6 in both variants, each with a FLOP count entry', () => {
    const ids = suite().map((w) => w.id);
    expect(ids).toHaveLength(16);
    for (const id of ids) {
      expect(id).toMatch(/^W[1-6]_\w+__(eager|compiled)$/);
      expect(id.replace(/__.*$/, '') in FLOPS).toBe(true);
    }
  });

  it.each(VARIANTS)('W1 %s: C = A·B against a float64 reference', (v) => {
    const n = 12;
    const w = matmulW1(n, v);
    const c = w.step().data();
    const a = w.a.data();
    const b = w.b.data();
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let ref = 0;
        for (let k = 0; k < n; k++) ref += a[i * n + k]! * b[k * n + j]!;
        expect(c[i * n + j]).toBeCloseTo(ref, 4);
      }
    }
  });

  it.each(VARIANTS)('W2 %s: the 11-op chain is gelu_tanh(x*0.5 + 0.1)', (v) => {
    const w = geluW2(1000, v);
    const y = w.step().data();
    const x = w.x.data();
    for (let i = 0; i < x.length; i++) {
      const z = x[i]! * 0.5 + 0.1;
      expect(Math.abs(y[i]! - 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3))))).toBeLessThan(1e-6);
    }
  });

  it('W3: the loss starts where the peers start (3.0309) and decreases; eager and compiled agree', () => {
    const runs = VARIANTS.map((v) => {
      const t = mlpTrainW3(v);
      const losses = [t.loss()];
      for (let i = 0; i < 3; i++) {
        t.step();
        losses.push(t.loss());
      }
      return { losses, params: t.params().map((p) => p.data()) };
    });
    for (const { losses } of runs) {
      expect(losses[0]).toBeCloseTo(3.0309, 4);
      for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
    }
    const [eager, compiled] = runs as [(typeof runs)[0], (typeof runs)[0]];
    eager.losses.forEach((l, i) => expect(compiled.losses[i]).toBeCloseTo(l, 5));
    eager.params.forEach((p, i) => {
      const q = compiled.params[i]!;
      let maxd = 0;
      for (let j = 0; j < p.length; j++) maxd = Math.max(maxd, Math.abs(p[j]! - q[j]!));
      expect(maxd).toBeLessThan(1e-5);
    });
  });

  it.each(VARIANTS)('W4 %s: the losses over 2 SGD steps are the peers\' (3.39089, 4.58708, 7.01010)', (v) => {
    const t = cnnTrainW4(v);
    const losses = [t.loss()];
    for (let i = 0; i < 2; i++) {
      t.step();
      losses.push(t.loss());
    }
    // tfjs-cpu and jax-js give these from the same data (../shared/bench/peers/RESULTS.md)
    [3.39089, 4.58708, 7.0101].forEach((l, i) => expect(losses[i]).toBeCloseTo(l, 4));
  });

  it.each(VARIANTS)('W5 %s: logits of the MLP against a float64 reference', (v) => {
    const batch = 2;
    const logits = mlpInferW5(batch, v).step();
    expect(logits).toBeInstanceOf(Float32Array);
    expect(logits).toHaveLength(batch * 10);
    const p = mlpParamData(30).map((t) => t.data);
    const x = randn(batch * 784, 6);
    const dense = (h: ArrayLike<number>, w: Float32Array, b: Float32Array, nIn: number, nOut: number, relu: boolean) => {
      const out = new Float64Array(batch * nOut);
      for (let r = 0; r < batch; r++) {
        for (let j = 0; j < nOut; j++) {
          let s = b[j]!;
          for (let k = 0; k < nIn; k++) s += h[r * nIn + k]! * w[k * nOut + j]!;
          out[r * nOut + j] = relu ? Math.max(0, s) : s;
        }
      }
      return out;
    };
    const ref = dense(dense(dense(x, p[0]!, p[1]!, 784, 256, true), p[2]!, p[3]!, 256, 128, true), p[4]!, p[5]!, 128, 10, false);
    ref.forEach((r, i) => expect(logits[i]).toBeCloseTo(r, 4));
  });

  it.each(VARIANTS)('W6 %s: value and gradient of 1000 scalar ops against the closed form', (v) => {
    const w = scalarW6(v);
    const grad = 1.0001 ** 500;
    const value = 2 * grad - 1; // y = a^n·x0 + b·(a^n − 1)/(a − 1) with a = 1.0001, b = 0.0001, x0 = 1
    // float32 constants and 1000 roundings: ~1e-5 relative (tfjs, torch and interp give the gradient 1.0512770)
    for (let i = 0; i < 2; i++) {
      const [y, g] = w.step();
      expect(Math.abs(y - value) / value).toBeLessThan(5e-5);
      expect(Math.abs(g - grad) / grad).toBeLessThan(5e-5);
    }
  });

  it('runs the cheap suite entries once, with their diagnostics', () => {
    const cheap = suite().filter((w) => /^(W1_matmul_256|W5_mlp_infer_b1|W6)/.test(w.id));
    expect(cheap).toHaveLength(6);
    for (const w of cheap) {
      const p = w.setup();
      p.step();
      expect(p.report()).not.toBe('');
    }
  });
});

/**
 * The timing protocol and JSON line format of ../shared/bench/WORKLOADS.md, the same as the
 * peers' `bench_util.mjs`:
 *   1. warm-up: the first call (timed alone: `first_call_ms`), then more calls until at least
 *      MIN_WARMUP_ITERS calls AND WARMUP_MS have passed (a call slower than 2 s ends the warm-up
 *      after MIN_WARMUP_ITERS calls);
 *   2. k iterations per repetition, so that one repetition takes about TARGET_REP_MS (from the
 *      last warm-up call);
 *   3. REPS repetitions (fewer, but at least MIN_REPS, if they would exceed MAX_TOTAL_MS); each
 *      repetition's time / k is one sample;
 *   4. ms = median sample; ms_min / ms_max = the extremes.
 * One addition (not in bench_util): when one iteration takes longer than SLOW_ITER_MS, the
 * repetitions are capped at SLOW_REPS with k = 1 and the line says so in `note`, so that a slow
 * backend (today's reference interpreter) still finishes the whole suite in minutes.
 */

export const WARMUP_MS = 300;
export const MIN_WARMUP_ITERS = 3;
export const MAX_WARMUP_ITERS = 1000;
export const TARGET_REP_MS = 100;
export const REPS = 11;
export const MIN_REPS = 5;
export const MAX_TOTAL_MS = 15000;
export const SLOW_ITER_MS = 2000;
export const SLOW_REPS = 3;

// FLOP counts, as in bench_util.mjs: training steps count 3x the forward matmul/conv FLOPs.
const MLP_FWD_PER_SAMPLE = 2 * (784 * 256 + 256 * 128 + 128 * 10); // 469,504
const CNN_FWD_PER_SAMPLE =
  2 * 28 * 28 * 8 * (1 * 9) + // conv1 3x3, 1->8, 'same' padding, 28x28 output
  2 * 14 * 14 * 16 * (8 * 9) + // conv2 3x3, 8->16, 'same' padding, 14x14 output
  2 * (16 * 7 * 7) * 10; // linear 784->10

export const FLOPS: Readonly<Record<string, number | null>> = {
  W1_matmul_256: 2 * 256 ** 3,
  W1_matmul_1024: 2 * 1024 ** 3,
  W2_gelu_1e6: null,
  W3_mlp_train_b128: 3 * 128 * MLP_FWD_PER_SAMPLE,
  W4_cnn_train_b32: 3 * 32 * CNN_FWD_PER_SAMPLE,
  W5_mlp_infer_b1: 1 * MLP_FWD_PER_SAMPLE,
  W5_mlp_infer_b256: 256 * MLP_FWD_PER_SAMPLE,
  W6_scalar_1000ops_fwd_bwd: null,
};
/** W2's minimum memory traffic: read x + write y, 4 bytes each, per element. */
export const W2_MIN_BYTES = 8 * 1e6;

export interface ProtocolOptions {
  warmupMs: number;
  minWarmupIters: number;
  targetRepMs: number;
  reps: number;
  minReps: number;
  maxTotalMs: number;
  slowIterMs: number;
  slowReps: number;
  /** The clock (ms); injectable for tests. */
  now: () => number;
}

export const DEFAULT_PROTOCOL: ProtocolOptions = {
  warmupMs: WARMUP_MS,
  minWarmupIters: MIN_WARMUP_ITERS,
  targetRepMs: TARGET_REP_MS,
  reps: REPS,
  minReps: MIN_REPS,
  maxTotalMs: MAX_TOTAL_MS,
  slowIterMs: SLOW_ITER_MS,
  slowReps: SLOW_REPS,
  now: () => performance.now(),
};

export interface BenchResult {
  ms: number;
  ms_min: number;
  ms_max: number;
  reps: number;
  iters_per_rep: number;
  warmup_iters: number;
  first_call_ms: number;
  /** Set when the protocol was shortened (slow iterations). */
  note?: string;
}

export function median(a: readonly number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2]! : 0.5 * (s[n / 2 - 1]! + s[n / 2]!);
}

/** Times `fn` with the protocol above. `fn` must force its computation (read back or realize). */
export function bench(fn: () => unknown, opts: Partial<ProtocolOptions> = {}): BenchResult {
  const o: ProtocolOptions = { ...DEFAULT_PROTOCOL, ...opts };
  const now = o.now;
  // 1. warm-up; the first call is timed on its own (tracing, compiling)
  let t = now();
  fn();
  const first = now() - t;
  let i = 1;
  let last = first;
  const t0 = now();
  while (i < o.minWarmupIters || (now() - t0 < o.warmupMs && last < o.slowIterMs && i < MAX_WARMUP_ITERS)) {
    t = now();
    fn();
    last = now() - t;
    i++;
  }
  // 2. iterations per repetition, 3. repetitions
  const est = Math.max(last, 1e-4);
  let k = Math.max(1, Math.round(o.targetRepMs / est));
  let reps = Math.max(o.minReps, Math.min(o.reps, Math.floor(o.maxTotalMs / (k * est))));
  let note: string | undefined;
  if (est > o.slowIterMs) {
    k = 1;
    reps = Math.min(reps, o.slowReps);
    note = `one iteration took ${Math.round(est)} ms (> ${o.slowIterMs} ms): reps capped at ${reps}, k = 1`;
  }
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    t = now();
    for (let j = 0; j < k; j++) fn();
    samples.push((now() - t) / k);
  }
  const res: BenchResult = {
    ms: median(samples),
    ms_min: Math.min(...samples),
    ms_max: Math.max(...samples),
    reps,
    iters_per_rep: k,
    warmup_iters: i,
    first_call_ms: first,
  };
  if (note) res.note = note;
  return res;
}

/** 4 significant digits, as the peers print. */
export const r4 = (x: number | null | undefined): number | null => (x == null || !Number.isFinite(x) ? null : Number(x.toPrecision(4)));

/** The workload id without its `__variant` suffix (the key of FLOPS). */
export const baseWorkload = (workload: string): string => workload.replace(/__.*$/, '');

export interface Line {
  peer: string;
  workload: string;
  ms: number | null;
  gflops: number | null;
  [field: string]: unknown;
}

/** One JSON line (as an object) for a measured workload. */
export function resultLine(peer: string, workload: string, res: BenchResult, extra: Record<string, unknown> = {}): Line {
  const flops = FLOPS[baseWorkload(workload)] ?? null;
  const line: Line = {
    peer,
    workload,
    ms: r4(res.ms),
    gflops: flops == null ? null : r4(flops / (res.ms * 1e6)),
    ms_min: r4(res.ms_min),
    ms_max: r4(res.ms_max),
    reps: res.reps,
    iters_per_rep: res.iters_per_rep,
    ...extra,
    first_call_ms: r4(res.first_call_ms),
    warmup_iters: res.warmup_iters,
  };
  if (baseWorkload(workload) === 'W2_gelu_1e6') line.gbps = r4(W2_MIN_BYTES / (res.ms * 1e6));
  if (res.note) line.note = res.note;
  return line;
}

/** The line for a workload that could not run. */
export function errorLine(peer: string, workload: string, error: unknown, extra: Record<string, unknown> = {}): Line {
  const e = error as { name?: string; message?: string } | null;
  const msg = String(e?.message ?? error).split('\n')[0];
  return { peer, workload, ms: null, gflops: null, error: `${e?.name ?? 'Error'}: ${msg}`, ...extra };
}

/**
 * `--only` is a comma list of prefixes (as in bench_util.mjs): a short name ('W3') matches
 * 'W3_mlp_train_b128__eager', and a full id matches its section gate.
 */
export function wanted(only: string | undefined, workload: string): boolean {
  if (!only) return true;
  return only
    .split(',')
    .filter(Boolean)
    .some((p) => workload.startsWith(p) || p.startsWith(workload));
}

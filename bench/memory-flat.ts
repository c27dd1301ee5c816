/**
 * Memory must stay flat over a long training run: runs W3 training steps (the MLP of
 * ../shared/bench/WORKLOADS.md, batch 128, SGD) and samples the process's RSS and heapUsed.
 *
 *   node dist/bench/memory-flat.js [--compiled] [--steps 10000] [--warmup 1000] [--every 500]
 *                                  [--threshold 5] [--backend NAME]
 *
 * After `--warmup` steps it takes the first sample, then one every `--every` steps until
 * `--steps` steps have run. It prints one JSON object (the samples, RSS and heap growth of the
 * last sample over the first, in %) and exits with code 1 if the RSS growth is >= `--threshold` %.
 * Before each sample it runs a full garbage collection when V8 allows it (`gc_forced`), so that
 * heapUsed measures live objects, not collection timing.
 */
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runtime } from '../src/index.js';
import { mlpTrainW3, type Variant } from './workloads.js';

export interface MemoryFlatOptions {
  variant: Variant;
  steps: number;
  warmup: number;
  every: number;
  thresholdPct: number;
  backend: string | undefined;
}

export interface MemorySample {
  step: number;
  rss_mb: number;
  heap_used_mb: number;
  /** ArrayBuffers (tensor storage lives there, outside the JS heap). */
  array_buffers_mb: number;
  /** Mean ms per step since the previous sample. */
  ms_per_step: number | null;
}

export function parseArgs(argv: readonly string[]): MemoryFlatOptions {
  const o: MemoryFlatOptions = { variant: 'eager', steps: 10000, warmup: 1000, every: 500, thresholdPct: 5, backend: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const key = eq >= 0 ? a.slice(0, eq) : a;
    const value = (): string => {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new Error(`${key} needs a value`);
      return v;
    };
    const int = (): number => {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${key}: expected a non-negative integer, got ${v}`);
      return n;
    };
    if (key === '--compiled') o.variant = 'compiled';
    else if (key === '--eager') o.variant = 'eager';
    else if (key === '--steps') o.steps = int();
    else if (key === '--warmup') o.warmup = int();
    else if (key === '--every') o.every = Math.max(1, int());
    else if (key === '--threshold') o.thresholdPct = Number(value());
    else if (key === '--backend') o.backend = value();
    else throw new Error(`unknown argument ${a}`);
  }
  if (o.warmup > o.steps) throw new Error(`--warmup (${o.warmup}) is larger than --steps (${o.steps})`);
  return o;
}

/** A full collection, if this V8 lets us expose `gc` at run time; null otherwise. */
function gcFunction(): (() => void) | null {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    setFlagsFromString('--expose-gc');
    const f = runInNewContext('gc') as unknown;
    return typeof f === 'function' ? (f as () => void) : null;
  } catch {
    return null;
  }
}

const mb = (bytes: number) => Number((bytes / 2 ** 20).toFixed(2));
const pct = (a: number, b: number) => Number((((b - a) / a) * 100).toFixed(2));

export function memoryFlat(o: MemoryFlatOptions, progress: (s: MemorySample) => void = () => {}) {
  if (o.backend) runtime.setBackend(o.backend);
  const gc = gcFunction();
  const train = mlpTrainW3(o.variant);
  const lossBefore = train.loss();
  const samples: MemorySample[] = [];
  let lastT = performance.now();
  let lastStep = 0;
  const sample = (step: number) => {
    const now = performance.now();
    gc?.();
    const m = process.memoryUsage();
    const s: MemorySample = {
      step,
      rss_mb: mb(m.rss),
      heap_used_mb: mb(m.heapUsed),
      array_buffers_mb: mb(m.arrayBuffers),
      ms_per_step: step > lastStep ? Number(((now - lastT) / (step - lastStep)).toPrecision(4)) : null,
    };
    samples.push(s);
    progress(s);
    lastT = performance.now();
    lastStep = step;
  };
  for (let step = 1; step <= o.steps; step++) {
    train.step();
    if (step >= o.warmup && (step - o.warmup) % o.every === 0) sample(step);
  }
  if (samples.at(-1)?.step !== o.steps) sample(o.steps);
  const first = samples[0]!;
  const last = samples.at(-1)!;
  const rssGrowth = pct(first.rss_mb, last.rss_mb);
  return {
    tool: 'memory-flat',
    workload: `W3_mlp_train_b128__${o.variant}`,
    backend: runtime.getBackend().name,
    steps: o.steps,
    warmup: o.warmup,
    every: o.every,
    gc_forced: gc !== null,
    loss_before: Number(lossBefore.toFixed(4)),
    loss_after: Number(train.loss().toFixed(4)),
    samples,
    rss_growth_pct: rssGrowth,
    heap_growth_pct: pct(first.heap_used_mb, last.heap_used_mb),
    array_buffers_growth_pct: pct(first.array_buffers_mb, last.array_buffers_mb),
    threshold_pct: o.thresholdPct,
    pass: rssGrowth < o.thresholdPct,
  };
}

export async function main(argv: readonly string[]): Promise<number> {
  let o: MemoryFlatOptions;
  try {
    o = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\nusage: node dist/bench/memory-flat.js [--compiled] [--steps N] [--warmup N] [--every N] [--threshold PCT] [--backend NAME]\n`);
    return 2;
  }
  // The wasm backend runs JS kernels until binaryen has loaded (never, in a synchronous loop).
  if ((o.backend ?? process.env.KILN_BACKEND) === 'wasm') await runtime.prepareWasm();
  const r = memoryFlat(o, (s) => process.stderr.write(`# step ${s.step} rss ${s.rss_mb} MB heapUsed ${s.heap_used_mb} MB arrayBuffers ${s.array_buffers_mb} MB ${s.ms_per_step ?? '-'} ms/step\n`));
  process.stdout.write(`${JSON.stringify(r)}\n`);
  return r.pass ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}

import { compileJsKernel, type KernelFn } from '../codegen-js/js-kernel.js';
import { lowerKernel } from '../ir/loop-nest.js';
import { matmulGeometry } from '../ir/matmul.js';
import { emitGemm, GEMM_SYNC_BYTES, gemmScratchBytes, type GemmSpec, planGemm } from '../codegen-js/wasm-gemm.js';
import { relaxedSimdSupported, type WasmInstance, wasmApi } from '../codegen-js/wasm-js-api.js';
import { emitLoopNest, getBinaryen, newKernelModule } from '../codegen-js/wasm-kernel.js';
import { planLoopNest } from '../codegen-js/wasm-plan.js';
import { ArgumentError, CompileError, inOp } from '../ir/errors.js';
import type { Graph, Value } from '../ir/graph.js';
import type { NDArray, Storage } from '../ir/ndarray.js';
import type { Kernel, Schedule } from '../ir/schedule.js';
import { formatType, numel, typesEqual } from '../ir/types.js';
import { fuse } from '../passes/fuse.js';
import { pipelines, runPasses } from '../passes/index.js';
import { planMemory } from '../passes/plan-memory.js';
import { Arena } from './arena.js';
import { MAX_ARGS } from './thread-worker.js';
import { shouldParallelize, ThreadPool, wasmCompiler } from './threads.js';
import { kernelLabel, kernelLocations, type Loc } from './cpu.js';
import type { Backend, Executable } from './backend.js';
import { debug } from './debug.js';
import { structuralKey } from './cache.js';
import { readCached, writeCached } from '../platform/disk-cache.js';
import { profiler } from './profiler.js';

type Binaryen = Awaited<ReturnType<typeof getBinaryen>>;

let binaryen: Binaryen | null = null;
let loading: Promise<Binaryen> | null = null;
/** Compiles wasm bytes straight to V8's optimizing tier (set once prepared). */
let poolPromise: Promise<ThreadPool | null> | null = null;
/** The pool once it has started (executables compiled after that use it at once). */
let pool: ThreadPool | null = null;

/** The worker pool over the arena's memory (null where threads are not available). */
function threadPool(): Promise<ThreadPool | null> {
  poolPromise ??= ThreadPool.create(wasmArena().memory, debug.threads === undefined ? {} : { threads: debug.threads }).then(
    (p) => (pool = p.size > 1 ? p : null),
    () => null,
  );
  return poolPromise;
}

/** Threads the wasm backend uses (1 until the pool has started). */
export let wasmThreads = 1;

let fmaDecided: boolean | undefined;
/**
 * Whether GEMMs and the math library use relaxed SIMD's fused multiply-add: decided once,
 * after `wasmCompiler()` has turned on the engine's flag where it needs one.
 */
function useFma(): boolean {
  if (fmaDecided === undefined) {
    wasmCompiler();
    fmaDecided = debug.wasmFma && relaxedSimdSupported();
  }
  return fmaDecided;
}

/**
 * Loads binaryen (once, ~0.4 s). The wasm backend compiles synchronously: until binaryen is
 * loaded it runs JS kernels over the same memory and upgrades to wasm when it arrives.
 * `await prepareWasm()` first to get wasm kernels from the first call.
 */
export function prepareWasm(): Promise<void> {
  loading ??= Promise.all([getBinaryen(), threadPool()]).then(([b, p]) => {
    wasmThreads = p?.size ?? 1;
    return (binaryen = b);
  });
  return loading.then(() => undefined);
}

let arenaInstance: Arena | null = null;
/** The memory every wasm-backend buffer lives in. */
export function wasmArena(): Arena {
  arenaInstance ??= new Arena();
  return arenaInstance;
}

const BYTES = { f32: 4, i32: 4, bool: 1 } as const;
/** GEMM scratch is reserved for this many threads (2 cores here; more threads reuse none). */
const MAX_THREADS = 4;


interface Step {
  label: string;
  origin: string | undefined;
  out: Loc;
  inputs: Loc[];
  /** Runs the kernel given byte pointers (out first, then inputs, in the kernel's order). */
  run: (ptrs: readonly number[]) => void;
  /** The pointer array `run` is called with, reused from run to run. */
  ptrs?: number[];
}

/** A JS kernel run over views of the arena at the given pointers. */
function jsStep(arena: Arena, k: Kernel): Step['run'] {
  const fn: KernelFn = compileJsKernel(k).fn;
  const outT = k.node.out.type;
  const types = k.inputs.map((v) => v.type);
  return (ptrs) => {
    const out = arena.viewAt(outT.dtype, ptrs[0]!, numel(outT.shape));
    const ins: Storage[] = types.map((t, i) => arena.viewAt(t.dtype, ptrs[i + 1]!, numel(t.shape)));
    fn(out, ins);
  };
}

/**
 * Results smaller than this are copied out of the arena rather than handed out as views:
 * copying a few floats (~0.1 µs) costs less than tracking a view for the collector (~0.4 µs).
 */
const MIN_VIEW_BYTES = 4096;

/** Elements below which a loop nest runs on one thread: a split call waits for both threads, and waking a sleeping worker costs 60-500 µs here. */
const SPLIT_MIN_ELEMENTS = 1 << 19;

/** The outer extent to split a pointwise/reduce kernel over threads, or 0 to keep it whole. */
function splittable(k: Kernel, extent: number): number {
  const work = numel(k.kind === 'reduce' ? k.node.inputs[0]!.type.shape : k.node.out.type.shape);
  // The pool passes at most MAX_ARGS numbers: out, the inputs, begin, end.
  return extent >= 8 && work >= SPLIT_MIN_ELEMENTS && k.inputs.length + 3 <= MAX_ARGS ? extent : 0;
}

/** The GEMM shape of a matmul kernel and its per-batch byte offsets (A, B, C). */
function gemmSpecOf(k: Kernel): { spec: GemmSpec; calls: [number, number, number][] } {
  const g = matmulGeometry(k);
  const calls = g.aOffset.map((ao, p): [number, number, number] => [ao * 4, g.bOffset[p]! * 4, p * g.m * g.n * 4]);
  return { spec: { m: g.m, n: g.n, k: g.k, transA: g.transA, transB: g.transB, accumulate: false }, calls };
}

/** A fresh array with the contents of an arena view (allocate + set: a quarter faster than slice here). */
function copyOut(view: Storage): Storage {
  const out = new (view.constructor as new (n: number) => Storage)(view.length);
  out.set(view);
  return out;
}

/**
 * Column slices of a GEMM that streams B without packing (a few rows: batch-1 inference), one
 * per thread, on panel boundaries. A static split keeps each slice of B in one core's cache from
 * call to call (the shared call's first-come claims would move it between cores). Null where
 * the GEMM packs B or is too narrow to split.
 */
function columnParts(spec: GemmSpec, threads: number): { col: number; n: number }[] | null {
  if (threads < 2) return null;
  const plan = planGemm(spec);
  if (plan.mode !== 'direct') return null;
  const cuts = Array.from({ length: threads + 1 }, (_, t) => Math.round((spec.n * t) / threads / plan.nr) * plan.nr);
  cuts[threads] = spec.n;
  const parts = cuts.slice(0, -1).map((col, t) => ({ col, n: cuts[t + 1]! - col }));
  return parts.every((p) => p.n > 0) ? parts : null;
}

/** The export computing column part `p` of `parts` of GEMM kernel `name`. */
const partName = (name: string, p: number, parts: number): string => `${name}$p${p}of${parts}`;

/**
 * A compiled graph on the wasm backend: every buffer in one shared memory, fused pointwise
 * and reduction kernels and GEMMs as wasm SIMD in one module, the rest as JS over views.
 */
class WasmExecutable implements Executable {
  private steps: Step[];
  private readonly slots: number[];
  private readonly staging: (number | null)[];
  /** The array each staging block last received (skip the copy when it comes again). */
  private readonly stagedFrom: (Storage | undefined)[];
  /** An arena block per graph output, copied out at the end of a run. */
  private readonly outputs: number[];
  private readonly scratch: number;
  private readonly sync: number;
  private jsSteps: Step[] = [];
  /** Kernels emitted with a [begin, end) range over their outer loop: its extent. */
  private readonly splitExtent = new Map<number, number>();
  private instance: WasmInstance | null = null;

  constructor(
    private readonly name: string,
    private readonly schedule: Schedule,
    private readonly arena: Arena,
  ) {
    const plan = planMemory(schedule);
    const g = schedule.graph;
    this.slots = plan.slots.map((s) => arena.alloc(Math.max(1, s.size) * BYTES[s.dtype]));
    this.staging = g.params.map(() => null);
    this.stagedFrom = g.params.map(() => undefined);
    this.outputs = g.outputs.map((v) => arena.alloc(Math.max(1, numel(v.type.shape)) * BYTES[v.type.dtype]));
    const { paramIndex, outputIndex, locOf } = kernelLocations(schedule, plan);
    // Each thread of a shared GEMM call packs B into its own region: one per possible thread.
    const scratchBytes = Math.max(0, ...schedule.kernels.filter((k) => k.kind === 'matmul').map((k) => gemmScratchBytes(gemmSpecOf(k).spec)));
    this.scratch = scratchBytes ? arena.alloc(scratchBytes * MAX_THREADS) : 0;
    this.sync = arena.alloc(GEMM_SYNC_BYTES);
    this.steps = schedule.kernels.map((k) => ({
      label: `${kernelLabel(k)} [js]`,
      origin: k.node.origin,
      out: locOf(k.node.out),
      inputs: k.inputs.map(locOf),
      run: jsStep(arena, k),
    }));
    this.jsSteps = this.steps;
    // Big loop nests take a [begin, end) of their outer loop, so threads can share them.
    // NOTE: decided here, not when emitting: a module from the disk cache needs it too.
    schedule.kernels.forEach((k, i) => {
      if (k.kind !== 'pointwise' && k.kind !== 'reduce') return;
      const ext = splittable(k, planLoopNest(lowerKernel(k), { split: true }).splitExtent);
      if (ext) this.splitExtent.set(i, ext);
    });
    this.outputIndex = outputIndex;
    this.paramIndex = paramIndex;
    // NOTE: a module from the disk cache needs no binaryen; modules with and without relaxed
    // SIMD differ (and the first needs the engine's support).
    const key = `${structuralKey(schedule.graph)}${useFma() ? ':fma' : ''}`;
    const cached = readCached(key);
    if (cached) this.install(cached);
    else if (binaryen) this.upgrade(binaryen, key);
    else void prepareWasm().then(() => binaryen && this.upgrade(binaryen, key));
  }

  private readonly outputIndex: Map<Value, number>;
  private readonly paramIndex: Map<Value, number>;

  /** Replaces the JS kernels that have a wasm form with wasm, in one module. */
  private upgrade(bin: Binaryen, cacheKey: string): void {
    const kernels = this.schedule.kernels;
    const fma = useFma();
    const mod = newKernelModule(bin);
    const wasmKinds = new Set(['pointwise', 'reduce', 'matmul']);
    let bytes: Uint8Array;
    try {
      kernels.forEach((k, i) => {
        if (!wasmKinds.has(k.kind)) return;
        if (k.kind === 'matmul') {
          if (k.node.out.type.dtype !== 'f32') return;
          const { spec } = gemmSpecOf(k);
          emitGemm(bin, mod, `k${i}`, spec, { fma });
          // NOTE: decided by the threads known now; `useKernels` uses the parts only if present.
          const parts = columnParts(spec, wasmThreads);
          parts?.forEach((part, p) => emitGemm(bin, mod, partName(`k${i}`, p, parts.length), { ...spec, n: part.n, ldb: spec.n, ldc: spec.n }, { fma }));
        } else {
          emitLoopNest(bin, mod, `k${i}`, lowerKernel(k), k.inputs.map((v) => v.type.dtype), { split: this.splitExtent.has(i), fma });
        }
      });
      if (!mod.validate()) throw new CompileError(`wasm @${this.name}: binaryen rejected the generated module`);
      // NOTE: no binaryen -O2: it cost 0.6-3.6 s per module and measured no faster (V8's
      // optimizing tier does the work; see optimizingWasmCompiler).
      bytes = mod.emitBinary();
    } finally {
      mod.dispose();
    }
    writeCached(cacheKey, bytes);
    this.install(bytes);
    if (debug.level >= 1) console.error(`kiln: wasm @${this.name}: ${kernels.length} kernels, ${bytes.length} bytes of wasm${fma ? ' (relaxed SIMD fused multiply-add)' : ''}`);
  }

  /** Instantiates the module's bytes and switches the steps that have a wasm export to it. */
  private install(bytes: Uint8Array): void {
    const api = wasmApi();
    const module = wasmCompiler()(bytes);
    const instance = new api.Instance(module, { env: { memory: this.arena.memory } });
    this.instance = instance;
    // Big GEMMs run on every thread once the workers have the module too (at once when the
    // pool has started: `prepareWasm` starts it; otherwise when it has).
    const threaded = (p: ThreadPool): void => this.useKernels(instance, { pool: p, id: p.loadCompiled(module, instance) }, p.size);
    const parallel = this.splitExtent.size > 0 || this.schedule.kernels.some((k) => k.kind === 'matmul');
    if (parallel && pool) threaded(pool);
    else {
      this.useKernels(instance, null, 1);
      if (parallel) void threadPool().then((p) => p && threaded(p));
    }
  }

  /** Points every step with a wasm export at it; GEMMs worth it run on all `threads`. */
  private useKernels(instance: WasmInstance, shared: { pool: ThreadPool; id: number } | null, threads: number): void {
    const kernels = this.schedule.kernels;
    const base = this.jsSteps;
    this.steps = base.map((s, i) => {
      const k = kernels[i]!;
      const name = `k${i}`;
      const fn = instance.exports[name] as ((...a: number[]) => void) | undefined;
      if (!fn) return s;
      const label = s.label.replace(' [js]', ' [wasm]');
      const ext = this.splitExtent.get(i);
      if (ext !== undefined) {
        if (!shared || threads < 2) return { ...s, label, run: (ptrs) => fn(...ptrs, 0, ext) };
        const { pool, id } = shared;
        // NOTE: split points on multiples of 4 keep vector accesses aligned.
        const cuts = Array.from({ length: threads + 1 }, (_, t) => (t === threads ? ext : Math.floor((ext * t) / threads / 4) * 4));
        return {
          ...s,
          label: `${label} x${threads}`,
          run: (ptrs) => pool.run(id, name, cuts.slice(0, -1).map((b, t) => [...ptrs, b, cuts[t + 1]!])),
        };
      }
      if (k.kind !== 'matmul') return { ...s, label, run: (ptrs) => fn(...ptrs) };
      const { spec, calls } = gemmSpecOf(k);
      const scratch = this.scratch;
      const parts = shared && shouldParallelize(spec, threads) ? columnParts(spec, threads) : null;
      if (shared && parts && parts.every((_, p) => instance.exports[partName(name, p, parts.length)])) {
        const { pool, id } = shared;
        const names = parts.map((_, p) => partName(name, p, parts.length));
        return {
          ...s,
          label: `${label} x${threads} cols`,
          run: (ptrs) => {
            const [c, a, b] = ptrs as [number, number, number];
            for (const [ao, bo, co] of calls) pool.run(id, names, parts.map((part) => [a + ao, b + bo + part.col * 4, c + co + part.col * 4, 0, spec.m, scratch, 0]));
          },
        };
      }
      if (shared && shouldParallelize(spec, threads)) {
        const { pool, id } = shared;
        const sync = { ptr: this.sync, bytes: GEMM_SYNC_BYTES };
        return {
          ...s,
          label: `${label} x${threads}`,
          run: (ptrs) => {
            const [c, a, b] = ptrs as [number, number, number];
            for (const [ao, bo, co] of calls) pool.runShared(id, name, [a + ao, b + bo, c + co, 0, spec.m, scratch, this.sync], sync, threads);
          },
        };
      }
      return {
        ...s,
        label,
        run: (ptrs) => {
          const [c, a, b] = ptrs as [number, number, number];
          for (const [ao, bo, co] of calls) fn(a + ao, b + bo, c + co, 0, spec.m, scratch, 0);
        },
      };
    });
  }

  /** Whether the kernels run as wasm yet (false until binaryen has loaded). */
  get usesWasm(): boolean {
    return this.instance !== null;
  }

  run(args: readonly NDArray[]): NDArray[] {
    const g = this.schedule.graph;
    const arena = this.arena;
    if (args.length !== g.params.length) throw new ArgumentError(`@${this.name}: expected ${g.params.length} arguments, got ${args.length}`);
    const paramPtr = args.map((a, i) => {
      const p = g.params[i]!;
      if (!typesEqual(a, p.type)) throw new ArgumentError(`@${this.name}: argument ${i} must be ${formatType(p.type)}, got ${formatType(a)}`);
      // A result of an earlier run that stayed in the arena is read where it is.
      if (arena.owns(a.data)) return a.data.byteOffset;
      let ptr = this.staging[i];
      if (ptr === null || ptr === undefined) this.staging[i] = ptr = arena.alloc(Math.max(1, a.data.length) * BYTES[a.dtype]);
      // NOTE: computed arrays are never written again (in-place ops rebind), so an argument
      // that is the same array as last run (a weight) is already staged.
      if (this.stagedFrom[i] !== a.data) {
        arena.viewAt(a.dtype, ptr, a.data.length).set(a.data);
        // NOTE: a plain reference (one array per argument): a WeakRef would keep every
        // array alive until the synchronous job ends, i.e. for a whole training loop.
        this.stagedFrom[i] = a.data;
      }
      return ptr;
    });
    // Each result is computed into a fresh arena block that the caller receives as a view (no
    // copy; freed when released or collected). Past the arena's view budget, into this
    // executable's own block, copied out afterwards.
    const outPtr = this.outputs.slice();
    const resultView: (Storage | null)[] = g.outputs.map((v, i) => {
      const n = numel(v.type.shape);
      const view = this.outputIndex.get(v) === i && n * BYTES[v.type.dtype] >= MIN_VIEW_BYTES ? arena.view(v.type.dtype, n) : null;
      if (view) outPtr[i] = view.byteOffset;
      return view;
    });
    const ptrOf = (l: Loc): number => (l.kind === 'param' ? paramPtr[l.i]! : l.kind === 'slot' ? this.slots[l.i]! : outPtr[l.i]!);
    const timing = profiler.enabled;
    for (const s of this.steps) {
      // NOTE: one pointer array per step, refilled each run (steps use it before returning).
      const ptrs = (s.ptrs ??= new Array<number>(s.inputs.length + 1));
      ptrs[0] = ptrOf(s.out);
      for (let j = 0; j < s.inputs.length; j++) ptrs[j + 1] = ptrOf(s.inputs[j]!);
      const t0 = timing ? performance.now() : 0;
      try {
        s.run(ptrs);
      } catch (e) {
        resultView.forEach((view) => view && arena.releaseView(view));
        throw inOp(e, s.origin);
      }
      if (timing) profiler.record(s.label, performance.now() - t0);
    }
    return g.outputs.map((v, j) => {
      const p = this.paramIndex.get(v);
      // NOTE: only a value's first place among the outputs got a view; a value returned twice
      // is copied after that (each result is freed on its own).
      const data =
        p !== undefined ? args[p]!.data.slice() : (resultView[j] ?? copyOut(arena.viewAt(v.type.dtype, outPtr[this.outputIndex.get(v)!]!, numel(v.type.shape))));
      return { dtype: v.type.dtype, shape: v.type.shape, data };
    });
  }
}

/**
 * Frees a result of the wasm backend now (it stays in the arena until released or collected);
 * false for any other array. The caller guarantees nothing reads `data` again.
 */
export function releaseStorage(data: Storage): boolean {
  return arenaInstance?.releaseView(data) ?? false;
}

/**
 * The `wasm` backend: the js backend's compiler, with fused kernels and GEMMs emitted as
 * WebAssembly SIMD (binaryen, loaded lazily) over one shared memory.
 */
export const wasmBackend: Backend = {
  name: 'wasm',
  get threads(): number {
    return wasmThreads;
  },
  compile(graph: Graph): Executable {
    const schedule = fuse(runPasses(graph, pipelines.O2));
    return new WasmExecutable(graph.name, schedule, wasmArena());
  },
};

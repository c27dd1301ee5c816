/**
 * A pool of `worker_threads` that run exports of wasm modules over ONE shared
 * `WebAssembly.Memory`, synchronously from the caller's view: `run` hands each worker its
 * arguments through a control block (Atomics, no postMessage per call), runs the main
 * thread's own share, and waits for the workers; a share no worker has claimed by then, the
 * main thread runs itself. Dispatch costs a few µs while the workers are spinning (see
 * `bench/gemm-micro.ts` for the measured latency).
 *
 * This is the platform part of the runtime: Node built-ins are imported dynamically, so a
 * browser bundle loads this file and gets a 1-thread pool (`reason` says why).
 * The control-block layout and the protocol are documented in `thread-worker.ts`.
 *
 * @example
 * const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
 * const pool = await ThreadPool.create(memory);
 * const id = await pool.load(wasmBytes);
 * pool.run(id, 'gemm', [[a, b, c, 0, 64, s0, 0], [a, b, c, 64, 128, s1, 0]]); // static rows
 * pool.runShared(id, 'gemm', [a, b, c, 0, 128, s, sync], { ptr: sync, bytes: GEMM_SYNC_BYTES }); // shared
 * await pool.close();
 */
import { debug } from './debug.js';
import { KilnError } from '../ir/errors.js';
import { sharedMemorySupported, type WasmInstance, type WasmMemory, type WasmModule, wasmApi } from '../codegen-js/wasm-js-api.js';
import { ARGS_F64, controlBytes, MAX_ARGS, OP, SLOT_BYTES, textOffset, W, workerSource } from './thread-worker.js';

/** A worker failed, or the pool was misused. */
export class ThreadPoolError extends KilnError {}

export interface ThreadPoolOptions {
  /** Threads in all, the main thread included (default: `availableParallelism()`). */
  threads?: number;
  /** How long an idle worker spins before it sleeps (default 500 µs). */
  spinMicros?: number;
  /** How long `run` spins on the main thread before it sleeps while waiting (default 20 ms). */
  mainSpinMicros?: number;
}

// NOTE: type-level references only; the modules themselves are imported dynamically.
type WorkerThreads = typeof import('node:worker_threads');
type NodeWorker = import('node:worker_threads').Worker;
type NodePort = import('node:worker_threads').MessagePort;

/** How long `load` waits for the workers to instantiate a module before it gives up. */
const LOAD_TIMEOUT_MS = 60_000;

type Fn = (...args: number[]) => unknown;

interface LoadedModule {
  module: WasmModule;
  instance: WasmInstance;
  /** Function exports by name → their index, the same numbering the workers use. */
  index: Map<string, number>;
  fns: Fn[];
}

/** Threads to use by default: the platform's parallelism, 1 where it cannot be read. */
async function defaultThreads(): Promise<number> {
  try {
    const os = await import('node:os');
    return os.availableParallelism();
  } catch {
    return 1;
  }
}

export class ThreadPool {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly modules: LoadedModule[] = [];
  private seq = 0;
  private closed = false;

  private constructor(
    readonly memory: WasmMemory,
    /** Threads that `run` can use, the main thread included (≥ 1). */
    readonly size: number,
    /** Why the pool has fewer threads than asked for, if it does. */
    readonly reason: string | undefined,
    private readonly control: SharedArrayBuffer,
    private readonly workers: NodeWorker[],
    private readonly ports: NodePort[],
    private readonly mainSpinMicros: number,
  ) {
    this.i32 = new Int32Array(control);
    this.f64 = new Float64Array(control);
  }

  /**
   * Starts `threads - 1` workers over `memory` (which must be shared). Falls back to a
   * 1-thread pool (everything on the caller's thread) where shared memory or
   * `worker_threads` is missing; `size` and `reason` report what happened.
   */
  static async create(memory: WasmMemory, options: number | ThreadPoolOptions = {}): Promise<ThreadPool> {
    const opts = typeof options === 'number' ? { threads: options } : options;
    const wanted = opts.threads ?? (await defaultThreads());
    if (!Number.isInteger(wanted) || wanted < 1) throw new ThreadPoolError(`ThreadPool.create: threads must be a positive integer, got ${wanted}`);
    const mainSpin = opts.mainSpinMicros ?? 20_000;
    const single = (reason: string | undefined): ThreadPool => new ThreadPool(memory, 1, reason, new SharedArrayBuffer(controlBytes(1)), [], [], mainSpin);
    if (wanted === 1) return single(undefined);
    if (!sharedMemorySupported()) return single('no shared WebAssembly memory (SharedArrayBuffer) on this platform');
    if (!(memory.buffer instanceof SharedArrayBuffer)) return single('the memory is not shared (create it with shared: true)');
    let wt: WorkerThreads;
    try {
      wt = await import('node:worker_threads');
    } catch {
      return single('no worker_threads on this platform');
    }
    const control = new SharedArrayBuffer(controlBytes(wanted));
    const source = workerSource();
    const workers: NodeWorker[] = [];
    const ports: NodePort[] = [];
    const ready: Promise<void>[] = [];
    for (let slot = 1; slot < wanted; slot++) {
      const { port1, port2 } = new wt.MessageChannel();
      const init = { control, memory, port: port2, slot, size: wanted, spinMicros: opts.spinMicros ?? 500 };
      const worker = new wt.Worker(source, { eval: true, workerData: init, transferList: [port2] });
      ready.push(
        new Promise<void>((resolve, reject) => {
          const onMessage = (): void => {
            worker.off('error', onError);
            resolve();
          };
          const onError = (e: unknown): void => reject(new ThreadPoolError(`ThreadPool.create: worker ${slot} failed to start: ${String(e)}`));
          worker.on('message', onMessage);
          worker.on('error', onError);
          // NOTE: a later 'error' (a crashed worker) must not become an uncaught exception.
          worker.on('error', () => undefined);
        }),
      );
      workers.push(worker);
      ports.push(port1);
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    // NOTE: workers never return to their event loop; unref so they do not keep the process alive.
    for (const w of workers) w.unref();
    return new ThreadPool(memory, wanted, undefined, control, workers, ports, mainSpin);
  }

  /**
   * Instantiates a module (bytes or compiled) on every thread against the pool's memory and
   * returns its id. Pass `mainInstance` to reuse an instance the caller already has on this
   * thread (it must import this pool's memory). The module may import only `env.memory`.
   */
  async load(module: Uint8Array | WasmModule, mainInstance?: WasmInstance): Promise<number> {
    this.assertOpen('load');
    const compiled = module instanceof Uint8Array ? (await optimizingWasmCompiler())(module) : module;
    return this.loadCompiled(compiled, mainInstance);
  }

  /** `load` for an already compiled module: synchronous (the workers instantiate it while the caller waits). */
  loadCompiled(compiled: WasmModule, mainInstance?: WasmInstance): number {
    this.assertOpen('load');
    const wasm = wasmApi();
    const names = wasm.Module.exports(compiled).filter((e) => e.kind === 'function').map((e) => e.name);
    const instance = mainInstance ?? new wasm.Instance(compiled, { env: { memory: this.memory } });
    const fns = names.map((n) => {
      const fn = instance.exports[n];
      if (typeof fn !== 'function') throw new ThreadPoolError(`ThreadPool.load: export '${n}' of the main instance is not a function`);
      return fn as Fn;
    });
    const id = this.modules.length;
    this.modules.push({ module: compiled, instance, index: new Map(names.map((n, i) => [n, i])), fns });
    this.ports.forEach((port) => port.postMessage({ id, module: compiled, exports: names }));
    const seq = this.dispatch(this.workers.length + 1, (slot) => this.setOp(slot, OP.LOAD, id, 0, []));
    this.waitAll(this.workers.length + 1, seq, 'load', LOAD_TIMEOUT_MS);
    return id;
  }

  /** The main thread's instance of a loaded module. */
  instance(moduleId: number): WasmInstance {
    return this.loaded(moduleId, 'instance').instance;
  }

  /**
   * Calls export `exportName` (or `exportName[t]` on thread t) of module `moduleId` once per
   * entry of `argsForEachThread` (entry 0 on the calling thread, entry t on worker t, or on
   * the calling thread when worker t has not claimed it by the time entry 0 is done) and
   * returns when all have finished.
   * Arguments are numbers (at most 8 per call; i32 params get them truncated).
   */
  run(moduleId: number, exportName: string | readonly string[], argsForEachThread: readonly (readonly number[])[]): void {
    this.assertOpen('run');
    const m = this.loaded(moduleId, 'run');
    const indexOf = (name: string | undefined): number => {
      const index = name === undefined ? undefined : m.index.get(name);
      if (index === undefined) throw new ThreadPoolError(`ThreadPool.run: module ${moduleId} has no function export '${name}' (has: ${[...m.index.keys()].join(', ')})`);
      return index;
    };
    // One export for all threads (the common case: no per-call array), or one per thread.
    const one = typeof exportName === 'string' ? indexOf(exportName) : -1;
    const each = typeof exportName === 'string' ? null : argsForEachThread.map((_, t) => indexOf(exportName[t]));
    const exportOf = (t: number): number => (each ? each[t]! : one);
    const threads = argsForEachThread.length;
    if (threads < 1 || threads > this.size) throw new ThreadPoolError(`ThreadPool.run: ${threads} argument lists for a pool of ${this.size} threads`);
    for (const args of argsForEachThread) {
      if (args.length > MAX_ARGS) throw new ThreadPoolError(`ThreadPool.run: at most ${MAX_ARGS} arguments per thread, got ${args.length}`);
    }
    const seq = threads > 1 ? this.dispatch(threads, (slot) => this.setOp(slot, OP.RUN, moduleId, exportOf(slot), argsForEachThread[slot] ?? [])) : 0;
    let error: unknown;
    const share = (t: number): void => {
      try {
        m.fns[exportOf(t)]!(...(argsForEachThread[t] ?? []));
      } catch (e) {
        error ??= e;
      }
    };
    share(0);
    if (threads > 1) {
      // A worker that has not claimed its share by now (descheduled, or asleep) would cost a
      // wake-up or a whole time slice: the calling thread takes the share over instead.
      const started: number[] = [];
      for (let slot = 1; slot < threads; slot++) {
        if (this.cancelUnclaimed(slot, seq)) share(slot);
        else started.push(slot);
      }
      // NOTE: wait for the workers even when a share here threw: they still use the memory.
      this.waitSlots(started, seq, `run '${String(exportName)}'`);
    }
    if (error !== undefined) throw error;
  }

  /** Cancels job `seq` of worker `slot` if the worker has not claimed it; true if cancelled. */
  private cancelUnclaimed(slot: number, seq: number): boolean {
    const at = (slot * SLOT_BYTES) / 4 + W.OWNER;
    const owner = Atomics.load(this.i32, at);
    return owner !== seq && Atomics.compareExchange(this.i32, at, owner, -seq) === owner;
  }

  /**
   * Runs a work-sharing export, one whose threads claim units of work from counters in memory
   * (a GEMM called with `sync` ≠ 0): the same `args` on up to `threads` threads. Zeroes the
   * `sync.bytes` bytes at `sync.ptr` first. A worker that has not started when the calling
   * thread returns is cancelled rather than waited for: its units were claimed by the others,
   * so a busy or descheduled core costs no waiting.
   */
  runShared(moduleId: number, exportName: string, args: readonly number[], sync: { ptr: number; bytes: number }, threads = this.size): void {
    this.assertOpen('runShared');
    const m = this.loaded(moduleId, 'runShared');
    const exportIndex = m.index.get(exportName);
    if (exportIndex === undefined) throw new ThreadPoolError(`ThreadPool.runShared: module ${moduleId} has no function export '${exportName}' (has: ${[...m.index.keys()].join(', ')})`);
    if (args.length > MAX_ARGS) throw new ThreadPoolError(`ThreadPool.runShared: at most ${MAX_ARGS} arguments, got ${args.length}`);
    const n = Math.max(1, Math.min(threads, this.size));
    new Uint8Array(this.memory.buffer, sync.ptr, sync.bytes).fill(0);
    const seq = n > 1 ? this.dispatch(n, (slot) => this.setOp(slot, OP.RUN, moduleId, exportIndex, args)) : 0;
    let error: unknown;
    try {
      m.fns[exportIndex]!(...args);
    } catch (e) {
      error = e;
    }
    if (n > 1) {
      const started: number[] = [];
      for (let slot = 1; slot < n; slot++) if (!this.cancelUnclaimed(slot, seq)) started.push(slot);
      this.waitSlots(started, seq, `runShared '${exportName}'`);
    }
    if (error !== undefined) throw error;
  }

  /** Stops the workers; the pool cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    const n = this.workers.length + 1;
    if (n > 1) {
      const seq = this.dispatch(n, (slot) => this.setOp(slot, OP.EXIT, 0, 0, []));
      try {
        this.waitAll(n, seq, 'close', 1000);
      } catch {
        // terminate() below stops a worker that did not answer.
      }
    }
    this.closed = true;
    this.ports.forEach((p) => p.close());
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private loaded(moduleId: number, what: string): LoadedModule {
    const m = this.modules[moduleId];
    if (!m) throw new ThreadPoolError(`ThreadPool.${what}: unknown module id ${moduleId} (${this.modules.length} loaded)`);
    return m;
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new ThreadPoolError(`ThreadPool.${what}: the pool is closed`);
  }

  private setOp(slot: number, op: number, moduleId: number, exportIndex: number, args: readonly number[]): void {
    const b = (slot * SLOT_BYTES) / 4;
    this.i32[b + W.OP] = op;
    this.i32[b + W.MODULE] = moduleId;
    this.i32[b + W.EXPORT] = exportIndex;
    this.i32[b + W.NARGS] = args.length;
    const a = (slot * SLOT_BYTES) / 8 + ARGS_F64;
    for (let i = 0; i < args.length; i++) this.f64[a + i] = args[i]!;
  }

  /** Fills slots 1..threads-1 and publishes a new SEQ to each; returns it. */
  private dispatch(threads: number, fill: (slot: number) => void): number {
    this.seq = (this.seq + 1) | 0;
    for (let slot = 1; slot < threads; slot++) {
      const b = (slot * SLOT_BYTES) / 4;
      fill(slot);
      Atomics.store(this.i32, b + W.SEQ, this.seq);
      if (Atomics.load(this.i32, b + W.SLEEPING) !== 0) Atomics.notify(this.i32, b + W.SEQ, 1);
    }
    return this.seq;
  }

  /** Waits until workers 1..threads-1 report DONE = seq; throws the first worker error. */
  private waitAll(threads: number, seq: number, what: string, timeoutMs = Infinity): void {
    this.waitSlots(Array.from({ length: threads - 1 }, (_, i) => i + 1), seq, what, timeoutMs);
  }

  /** Waits until the workers in `slots` report DONE = seq; throws the first worker error. */
  private waitSlots(slots: readonly number[], seq: number, what: string, timeoutMs = Infinity): void {
    const i32 = this.i32;
    const start = performance.now();
    for (const slot of slots) {
      const b = (slot * SLOT_BYTES) / 4;
      let spins = 0;
      for (;;) {
        const done = Atomics.load(i32, b + W.DONE);
        if (done === seq) break;
        if ((++spins & 63) !== 0) continue;
        const waited = performance.now() - start;
        if (waited > timeoutMs) throw new ThreadPoolError(`ThreadPool.${what}: worker ${slot} did not answer in ${timeoutMs} ms`);
        if (waited * 1000 < this.mainSpinMicros) continue;
        Atomics.store(i32, b + W.MAIN_WAITING, 1);
        Atomics.wait(i32, b + W.DONE, done, 50);
        Atomics.store(i32, b + W.MAIN_WAITING, 0);
      }
    }
    for (const slot of slots) {
      const b = (slot * SLOT_BYTES) / 4;
      if (this.i32[b + W.STATUS] !== 0) {
        const at = textOffset(this.size, slot);
        const len = this.i32[at / 4]!;
        const text = new TextDecoder().decode(new Uint8Array(this.control, at + 4, len).slice());
        throw new ThreadPoolError(`ThreadPool.${what}: worker ${slot} failed: ${text.split('\n')[0] ?? ''}`);
      }
    }
  }
}

/**
 * Below this many FLOPs a GEMM runs faster on one thread than split over two. Measured with
 * `bench/gemm-micro.ts` on 2 cores (medians of 3 runs, worker spinning): 8×64·64×64 (0.07
 * MFLOP) 2.3 µs on 1 thread vs 3.2 on 2; 16×64·64×64 (0.13 MFLOP) 4.3 vs 4.3; 32×64·64×64
 * (0.26 MFLOP) 8.2 vs 6.1; 32×128·128×128 (1 MFLOP) 35.7 vs 22.1.
 */
export const PARALLEL_MIN_FLOPS = 2e5;
/**
 * One-row GEMMs (matrix × vector, batch-1 inference) split by column chunks and are bound by
 * cache bandwidth: 1×256·256×128 (0.07 MFLOP) 3.1 µs vs 3.0; 1×784·784×256 (0.4 MFLOP) 21.4
 * vs 14.3 when calls repeat on 2 threads, but no gain when B last sat in the other core's cache.
 * In a whole program the worker often is not ready that fast: W5 b1 (the 784-256-128-10 MLP,
 * batch 1) under the bench protocol measured 0.026–0.041 ms on one thread and 0.041–0.066 ms
 * split (3 runs each, 2 cores): in a process's first second V8's compiler threads compete with
 * the worker for the cores. So only one-row products of ~100 µs and more are split.
 */
export const PARALLEL_MIN_FLOPS_ONE_ROW = 2e6;

/**
 * Whether a GEMM is worth splitting across `threads` threads: pass its FLOPs, or its shape
 * (then one-row products need more work to pay).
 */
export function shouldParallelize(work: number | { m: number; n: number; k: number }, threads = 2): boolean {
  if (threads < 2) return false;
  if (typeof work === 'number') return work >= PARALLEL_MIN_FLOPS;
  const flops = 2 * work.m * work.n * work.k;
  return flops >= (work.m === 1 ? PARALLEL_MIN_FLOPS_ONE_ROW : PARALLEL_MIN_FLOPS);
}

type WasmCompiler = (bytes: Uint8Array) => WasmModule;
let compiler: WasmCompiler | undefined;

/** Node's `v8` module, loaded synchronously (`process.getBuiltinModule`, Node ≥ 20.16), or null. */
function nodeV8(): { setFlagsFromString(flags: string): void } | null {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  try {
    return (get?.('node:v8') as { setFlagsFromString(flags: string): void } | undefined) ?? null;
  } catch {
    return null;
  }
}

/**
 * A compiler from wasm bytes straight to V8's optimizing tier. By default V8 runs new code in
 * its baseline tier (Liftoff) and tiers up only after a budget of calls: for these SIMD kernels
 * Liftoff is 20–60× slower, and the first second of a program would be spent there. In Node
 * this toggles `--no-liftoff --no-wasm-lazy-compilation` around one synchronous compile (so
 * every function is optimized up front, a few ms per GEMM) and restores the defaults, leaving
 * other modules (binaryen.js itself) on the normal tiers; elsewhere it is `new WebAssembly.Module`.
 * The first call also turns on relaxed SIMD where Node's V8 keeps it behind a flag.
 * Synchronous, so a module from the disk cache is used from the first call.
 * NOTE: V8 flags are process-wide; a module compiled concurrently by another thread in that
 * window is merely compiled eagerly too.
 */
export function wasmCompiler(): WasmCompiler {
  if (compiler) return compiler;
  const wasm = wasmApi();
  const v8 = nodeV8();
  if (!v8) return (compiler = (bytes) => new wasm.Module(bytes));
  // Relaxed SIMD (its fused multiply-add doubles the GEMM's arithmetic per instruction) is
  // on by default in V8 from 11.4; Node 20's V8 has it behind this flag. It stays on.
  if (debug.wasmFma) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const argv: readonly string[] = (globalThis as { process?: { execArgv?: string[] } }).process?.execArgv ?? [];
  // Restore what the process started with: the defaults unless the command line changed them.
  const restore = [argv.includes('--no-liftoff') ? '--no-liftoff' : '--liftoff', argv.includes('--no-wasm-lazy-compilation') ? '--no-wasm-lazy-compilation' : '--wasm-lazy-compilation'];
  compiler = (bytes) => {
    v8.setFlagsFromString('--no-liftoff');
    v8.setFlagsFromString('--no-wasm-lazy-compilation');
    try {
      return new wasm.Module(bytes);
    } finally {
      for (const flag of restore) v8.setFlagsFromString(flag);
    }
  };
  return compiler;
}

/** `wasmCompiler()` as a promise (for callers that prepare asynchronously). */
export function optimizingWasmCompiler(): Promise<WasmCompiler> {
  return Promise.resolve(wasmCompiler());
}

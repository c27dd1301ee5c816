import { ArgumentError } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import type { NDArray } from '../ir/ndarray.js';
import { jsBackend } from './cpu.js';
import { interpBackend } from './interp.js';
import { wasmBackend } from './wasm.js';
import { gpuUnavailableReason, openGpuBackend } from './gpu.js';

/** A compiled graph: call it with one array per parameter, get one array per output. */
export interface Executable {
  run(args: readonly NDArray[]): NDArray[];
}

/**
 * An execution engine. `compile` may be slow; executables are cached by the caller.
 * NOTE: results follow float32 semantics (every stored f32 value is a float32).
 */
export interface Backend {
  readonly name: string;
  /** Threads its kernels may use (reported by the benchmarks). */
  readonly threads?: number;
  compile(graph: Graph): Executable;
}

const registry = new Map<string, () => Backend>([
  ['interp', () => interpBackend],
  ['js', () => jsBackend],
  ['wasm', () => wasmBackend],
  ['gpu', openGpuBackend],
]);

/** Why a registered backend cannot run here (null: it can). Only the gpu backend has needs. */
const unavailable = new Map<string, () => string | null>([['gpu', gpuUnavailableReason]]);
let current: Backend | null = null;

/** Makes another backend selectable by name (`setBackend`, `KILN_BACKEND`). */
export function registerBackend(name: string, make: () => Backend): void {
  registry.set(name, make);
}

export function backendNames(): string[] {
  return [...registry.keys()];
}

/** The backends that can run on this machine (the gpu backend needs GL and an X display). */
export function availableBackendNames(): string[] {
  return backendNames().filter((b) => (unavailable.get(b)?.() ?? null) === null);
}

function envBackend(): string | undefined {
  // NOTE: read through globalThis so the core runs in browsers, where there is no process.
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.KILN_BACKEND;
}

/** Selects the engine eager tensors realize on. */
export function setBackend(name: string): Backend {
  const make = registry.get(name);
  if (!make) {
    throw new ArgumentError(`setBackend: unknown backend '${name}' (available: ${backendNames().join(', ')})`);
  }
  current = make();
  return current;
}

export function getBackend(): Backend {
  if (!current) setBackend(envBackend() ?? 'js');
  return current!;
}

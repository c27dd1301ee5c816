/**
 * The slice of the WebAssembly JS API that kiln's wasm code uses, typed here because the
 * project's libs (ES2023 + node) do not declare `WebAssembly`. Structural, so it stays
 * compatible with lib.dom's declarations if a build adds them.
 */
import { ArgumentError } from '../ir/errors.js';

export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}

/** A compiled module (opaque; it can be posted to workers). */
export interface WasmModule {
  readonly [Symbol.toStringTag]: string;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: {
    new (bytes: Uint8Array): WasmModule;
    exports(module: WasmModule): { name: string; kind: string }[];
  };
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
}

/** The global `WebAssembly` namespace; throws where the platform has none. */
export function wasmApi(): WasmApi {
  const api: unknown = Reflect.get(globalThis, 'WebAssembly');
  if (typeof api !== 'object' || api === null) throw new ArgumentError('wasm: this platform has no WebAssembly');
  return api as WasmApi;
}

/** Whether memories can be shared between threads (SharedArrayBuffer + shared wasm memory). */
export function sharedMemorySupported(): boolean {
  if (typeof SharedArrayBuffer !== 'function') return false;
  try {
    const m = new (wasmApi().Memory)({ initial: 1, maximum: 1, shared: true });
    return m.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** A module whose one function computes f32x4.relaxed_madd(0, 0, 0). */
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 253, 133, 2, 11,
]);

/**
 * Whether the engine accepts relaxed SIMD (f32x4.relaxed_madd: a fused multiply-add where the
 * hardware has one). Node 20 needs `--experimental-wasm-relaxed-simd`, which
 * `optimizingWasmCompiler` turns on; browsers have it by default.
 */
export function relaxedSimdSupported(): boolean {
  try {
    return wasmApi().validate(RELAXED_SIMD_PROBE);
  } catch {
    return false;
  }
}

/**
 * kiln's debug settings, read from the environment in this one place:
 * - `KILN_DEBUG=N` (0 = quiet; 1 = compile events; 2 = also per-kernel timings, printed at exit;
 *   each level adds to the last),
 * - `KILN_VERIFY=1`: verify every graph before it is compiled, and check that it survives
 *   print → parse → print (the test suite turns this on);
 * - `KILN_THREADS=N`: threads the wasm backend uses, the main thread included (default: the
 *   cores Node reports);
 * - `KILN_WASM_FMA=0`: GEMMs on the wasm backend use f32x4.mul + add even where relaxed SIMD's
 *   fused multiply-add is available (to compare, or to get the exact plain-SIMD rounding).
 */
export interface DebugSettings {
  level: number;
  verify: boolean;
  wasmFma: boolean;
  threads: number | undefined;
}

function readEnv(): Record<string, string | undefined> {
  // NOTE: through globalThis so the core also runs in browsers, where there is no process.
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
}

const env = readEnv();

export const debug: DebugSettings = {
  level: Number.parseInt(env.KILN_DEBUG ?? '0', 10) || 0,
  verify: env.KILN_VERIFY === '1',
  wasmFma: env.KILN_WASM_FMA !== '0',
  threads: env.KILN_THREADS ? Number(env.KILN_THREADS) : undefined,
};

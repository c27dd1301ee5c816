/**
 * The wasm backend's executables beyond single kernels: how GEMMs are spread over the
 * worker threads (and that the answer does not change), relaxed-SIMD fused multiply-adds.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { interpret } from '../../src/ir/interpret.js';
import { Ops } from '../../src/ir/lang/index.js';
import { tensorType } from '../../src/ir/types.js';
import { profile } from '../../src/runtime/profiler.js';
import { prepareWasm, wasmBackend } from '../../src/runtime/wasm.js';

function data(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
}

beforeAll(() => prepareWasm());

describe('wasm backend: GEMMs on threads', () => {
  it('runs a batch-1 layer (one-row GEMM) as per-thread column slices, equal to the float64 reference', () => {
    if ((wasmBackend.threads ?? 1) < 2) return; // one thread: nothing to split (checked by the gemm tests)
    const b = new GraphBuilder('layer');
    const o = new Ops(b);
    // 1×2048·2048×510: 2.1 MFLOP, enough for a one-row product to be split (PARALLEL_MIN_FLOPS_ONE_ROW)
    const x = b.param('x', tensorType('f32', [1, 2048]));
    const w = b.param('w', tensorType('f32', [2048, 510]));
    const g = b.build([o.relu(o.matmul(x, w))]);
    const args = [
      { dtype: 'f32' as const, shape: [1, 2048], data: data(2048, 1) },
      { dtype: 'f32' as const, shape: [2048, 510], data: data(2048 * 510, 2) },
    ];
    const exe = wasmBackend.compile(g);
    const { result, report } = profile(() => exe.run(args));
    expect(report.map((r) => r.label)).toContain(`matmul matmul -> f32[1,510] [wasm] x${wasmBackend.threads} cols`);
    const worst = (got: ArrayLike<number>, want: ArrayLike<number>): number => {
      let w = 0;
      for (let i = 0; i < got.length; i++) w = Math.max(w, Math.abs(got[i]! - want[i]!));
      return w;
    };
    expect(worst(result[0]!.data, interpret(g, args)[0]!.data)).toBeLessThan(1e-4);
    // new weights, same executable: every slice is recomputed
    const flipped = [args[0]!, { ...args[1]!, data: args[1]!.data.map((v) => -v) }];
    expect(worst(exe.run(flipped)[0]!.data, interpret(g, flipped)[0]!.data)).toBeLessThan(1e-4);
  });
});

describe('wasm backend: settings from the environment', () => {
  const ROOT = resolve(import.meta.dirname, '../..');
  /** The backend's threads and whether GEMMs fuse multiply-adds, in a child with `env`. */
  function settings(env: Record<string, string>): { threads: number; fma: boolean } {
    if (!existsSync(join(ROOT, 'dist/src/runtime/wasm.js'))) execFileSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, stdio: 'inherit' });
    const url = (p: string): string => pathToFileURL(join(ROOT, 'dist/src', p)).href;
    const body = `
      import { prepareWasm, wasmBackend } from '${url('runtime/wasm.js')}';
      import { GraphBuilder } from '${url('ir/builder.js')}';
      import { Ops } from '${url('ir/lang/index.js')}';
      import { tensorType } from '${url('ir/types.js')}';
      await prepareWasm();
      const b = new GraphBuilder('mm'); const o = new Ops(b);
      const g = b.build([o.matmul(b.param('a', tensorType('f32', [64, 64])), b.param('b', tensorType('f32', [64, 64])))]);
      wasmBackend.compile(g);
      await new Promise((r) => setTimeout(r, 50));
      console.log(JSON.stringify({ threads: wasmBackend.threads }));
      process.exit(0);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', body], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, KILN_DEBUG: '1', KILN_CACHE: '0', ...env } });
    expect(r.status, r.stderr).toBe(0);
    return { ...JSON.parse(r.stdout.trim().split('\n').at(-1)!), fma: /relaxed/.test(r.stderr) };
  }

  it('KILN_THREADS sets the threads; KILN_WASM_FMA=0 keeps GEMMs on mul + add', () => {
    expect(settings({ KILN_THREADS: '1' }).threads).toBe(1);
    const on = settings({});
    const off = settings({ KILN_WASM_FMA: '0' });
    expect(on.fma).toBe(true);
    expect(off.fma).toBe(false);
  });
});

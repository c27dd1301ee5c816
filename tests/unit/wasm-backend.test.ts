/**
 * The wasm backend's executables beyond single kernels: how GEMMs are spread over the
 * worker threads (and that the answer does not change), relaxed-SIMD fused multiply-adds.
 */
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
    const x = b.param('x', tensorType('f32', [1, 784]));
    const w = b.param('w', tensorType('f32', [784, 250]));
    const g = b.build([o.relu(o.matmul(x, w))]);
    const args = [
      { dtype: 'f32' as const, shape: [1, 784], data: data(784, 1) },
      { dtype: 'f32' as const, shape: [784, 250], data: data(784 * 250, 2) },
    ];
    const exe = wasmBackend.compile(g);
    const { result, report } = profile(() => exe.run(args));
    expect(report.map((r) => r.label)).toContain(`matmul matmul -> f32[1,250] [wasm] x${wasmBackend.threads} cols`);
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

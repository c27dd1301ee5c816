/**
 * codegen-gpu without a GPU: the capability table, GLSL literals and helpers, the generated
 * source of a fused kernel, and input packing for kernels with many inputs.
 */
import { describe, expect, it } from 'vitest';
import { lowerKernel } from '../../src/ir/loop-nest.js';
import { floatLit, helpersFor, intExpr } from '../../src/codegen-gpu/glsl.js';
import { gpuKernelSource } from '../../src/codegen-gpu/gpu-kernel.js';
import { gpuOps, unsupportedGpuOps } from '../../src/codegen-gpu/gpu-ops.js';
import { directProgram, kernelJs, packedPrograms } from '../../src/codegen-gpu/kernel-source.js';
import { add, constant, div, loopVar, mod, scale } from '../../src/ir/index-expr.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { Ops } from '../../src/ir/lang/index.js';
import { ops } from '../../src/ir/ops/index.js';
import { tensorType } from '../../src/ir/types.js';
import { fuse } from '../../src/passes/fuse.js';

describe('gpu capability table', () => {
  it('covers every op of the registry and declares none unsupported', () => {
    expect(Object.keys(gpuOps).sort()).toEqual(Object.keys(ops).sort());
    expect(unsupportedGpuOps()).toEqual([]);
  });

  it('runs the opaque ops as their own kernels, movement as index math, reductions as loops', () => {
    const how = (names: (keyof typeof gpuOps)[]) => names.map((n) => gpuOps[n].how);
    // fold: a loop nest up to 64 window taps, its own kernel beyond
    expect(how(['gather', 'scatter_add', 'fold', 'cumsum', 'argmax', 'argmin', 'matmul'])).toEqual(Array(7).fill('kernel'));
    expect(how(['reshape', 'permute', 'expand', 'slice', 'unslice', 'pad', 'flip', 'concat', 'const', 'iota', 'unfold'])).toEqual(Array(11).fill('index-math'));
    expect(how(['sum', 'prod', 'max', 'min'])).toEqual(Array(4).fill('reduction'));
  });
});

describe('GLSL building blocks', () => {
  it('writes constants the shader compiler cannot fold', () => {
    expect([NaN, Infinity, -Infinity, -0, 0, 2, 0.5, 1e-7, -3].map(floatLit)).toEqual([
      'k_nan()',
      'k_inf()',
      '(-k_inf())',
      '(-user_kz)',
      '(0.0 + user_kz)',
      '(2.0 + user_kz)',
      '(0.5 + user_kz)',
      '(1e-7 + user_kz)',
      '(-3.0 + user_kz)',
    ]);
  });

  it('writes index arithmetic as GLSL ints', () => {
    const e = add(scale(loopVar(0), 12), add(loopVar(2), constant(-1)));
    expect(intExpr(e)).toBe('(12 * i0 + i2 + -1)');
    expect(intExpr(div(add(loopVar(0), loopVar(1)), 3, [4, 4]))).toBe('((i0 + i1) / 3)');
    expect(intExpr(mod(scale(loopVar(1), 5), 3, [4, 4]))).toBe('k_imod(5 * i1, 3)');
  });

  it('includes the helpers a kernel calls, dependencies first', () => {
    const src = helpersFor('return k_tanh(x);');
    const order = ['k_exp(', 'k_expm1(', 'k_tanh('].map((f) => src.indexOf(`float ${f}`));
    expect(order.every((p, i) => p >= 0 && (i === 0 || p > order[i - 1]!))).toBe(true);
    expect(src).not.toContain('k_erf');
  });
});

describe('generated kernels', () => {
  it('fuses broadcasting and a reduction into one GLSL loop (golden)', () => {
    const b = new GraphBuilder('g');
    const o = new Ops(b);
    const x = b.param('x', tensorType('f32', [2, 3]));
    const y = b.param('y', tensorType('f32', [3]));
    const s = fuse(b.build([o.sumKeep(o.relu(o.add(x, y)), [1])]));
    expect(s.kernels.map((k) => k.kind)).toEqual(['reduce']);
    const src = gpuKernelSource(s.kernels[0]!, lowerKernel);
    expect(kernelJs(src.nInputs)).toBe('function (x0, x1, kz) { return kiln_kernel(this.thread.x); }');
    expect(directProgram(src, [6, 3]).glsl).toMatchInlineSnapshot(`
      "float k_ld0(int i) { return getFloatFromSampler2D(user_x0, user_x0Size, user_x0Dim, 0, 0, i); }
      float k_ld1(int i) { return getFloatFromSampler2D(user_x1, user_x1Size, user_x1Dim, 0, 0, i); }
      float kiln_kernel(int t) {
        int r_ = t;
        int i0 = r_;
        float acc = 0.0;
        float part = 0.0;
        for (int i1 = 0; i1 < 3; i1++) {
          float v0 = (k_ld0((3 * i0 + i1)) + k_ld1(i1));
          float y = ((v0 > (0.0 + user_kz) ? 1.0 : 0.0) != 0.0 ? v0 : (0.0 + user_kz));
          part += y;
        }
        acc += part;
        return acc;
      }"
    `);
  });

  it('splits work longer than the loop budget into partial results and a combining kernel', () => {
    const sumOver = (axis: number) => {
      const b = new GraphBuilder('g');
      const o = new Ops(b);
      const x = b.param('x', tensorType('f32', [2, 100000]));
      return gpuKernelSource(fuse(b.build([o.sumKeep(o.exp(x), [axis])])).kernels[0]!, lowerKernel);
    };
    // 100000 terms per output: 7 parts of at most 16384 each, then a sum of the parts.
    const long = sumOver(1);
    expect([long.outSize, long.then?.src.outSize, long.then?.reads]).toEqual([14, 2, [-1]]);
    expect(long.body).toContain('int c_ = k_imod(t, 7);');
    expect(sumOver(0).then).toBeUndefined();
  });

  it('packs the inputs of a kernel that reads more textures than gpu.js binds', () => {
    const src = { outSize: 4, nInputs: 20, body: 'float kiln_kernel(int t) { return k_ld19(t); }', indexChecks: [] };
    const { packs, main } = packedPrograms(src, Array(20).fill(3), 15);
    expect(packs.map((p) => p.reads)).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
      [-1, 15, 16, 17, 18, 19],
    ]);
    expect(packs.map((p) => p.program.outSize)).toEqual([45, 60]);
    expect(packs.map((p) => p.program.inputSizes)).toEqual([Array(15).fill(3), [45, 3, 3, 3, 3, 3]]);
    expect(main.inputSizes).toEqual([60]);
    expect(main.glsl).toContain('float k_ld19(int i) { return getFloatFromSampler2D(user_x0, user_x0Size, user_x0Dim, 0, 0, 57 + i); }');
  });
});

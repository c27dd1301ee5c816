/**
 * The gpu backend against the js backend, kernel kind by kernel kind: every graph below runs
 * on both and must agree (float32 tolerance, NaN and infinities in place, integers exact).
 *
 * These need WebGL: run them with `xvfb-run -a npx vitest run tests/unit/gpu-` (what
 * .ci/gpu-tests.sh does, with KILN_REQUIRE_GPU=1 so that a missing GPU fails instead of skips).
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { IndexError } from '../../src/ir/errors.js';
import type { Value } from '../../src/ir/graph.js';
import { Ops } from '../../src/ir/lang/index.js';
import type { NDArray } from '../../src/ir/ndarray.js';
import { allocStorage } from '../../src/ir/ndarray.js';
import { type DType, tensorType } from '../../src/ir/types.js';
import { fuse } from '../../src/passes/fuse.js';
import { pipelines, runPasses } from '../../src/passes/index.js';
import { jsBackend } from '../../src/runtime/cpu.js';
import { gpuStats, gpuUnavailableReason, openGpuBackend } from '../../src/runtime/gpu.js';

const reason = gpuUnavailableReason();
const required = process.env.KILN_REQUIRE_GPU === '1';

/** Deterministic data in [-2, 2) (ints: [-5, 5); bools: 0/1), with `specials` spliced in. */
function data(dtype: DType, shape: number[], seed: number, specials: number[] = []): NDArray {
  const d = allocStorage(tensorType(dtype, shape), 'f32');
  let s = seed * 7919 + 17;
  for (let i = 0; i < d.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const u = s / 2147483648;
    d[i] = dtype === 'f32' ? u * 4 - 2 : dtype === 'i32' ? Math.floor(u * 10) - 5 : u < 0.5 ? 0 : 1;
  }
  specials.forEach((v, i) => i < d.length && (d[i * 3 % d.length] = v));
  return { dtype, shape, data: d };
}

const f32 = (shape: number[], seed: number, specials?: number[]): NDArray => data('f32', shape, seed, specials);
const ints = (shape: number[], values: number[]): NDArray => ({ dtype: 'i32', shape, data: Int32Array.from(values) });

interface Case {
  name: string;
  inputs: NDArray[];
  build: (o: Ops<Value>, xs: Value[]) => Value[];
}

function graphOf(c: Case) {
  const b = new GraphBuilder(c.name.replace(/\W+/g, '_'));
  const o = new Ops(b);
  const xs = c.inputs.map((x, i) => b.param(`x${i}`, tensorType(x.dtype, x.shape)));
  return b.build(c.build(o, xs));
}

/** Same dtype and shape; f32 within float32 tolerance with NaN/±inf matching; others exact. */
function expectClose(got: NDArray, want: NDArray, what: string): void {
  expect(got.dtype, what).toBe(want.dtype);
  expect(got.shape, what).toEqual(want.shape);
  for (let i = 0; i < want.data.length; i++) {
    const g = got.data[i]!;
    const w = want.data[i]!;
    const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= 1e-5 + 1e-5 * Math.abs(w);
    if (!ok) expect.fail(`${what}: element ${i}: gpu ${g}, js ${w}`);
  }
}

const op = (o: Ops<Value>, name: Parameters<Ops<Value>['emit']>[0], xs: Value[], attrs = {}): Value => o.emit(name, xs, attrs);

const CASES: Case[] = [
  {
    name: 'elementwise chain with broadcasting',
    inputs: [f32([3, 4], 1), f32([4], 2), f32([3, 1], 3)],
    build: (o, [x, y, z]) => [o.tanh(o.add(o.mul(x!, y!), o.exp(z!))), o.where(o.gt(x!, z!), o.sigmoid(x!), o.erf(y!))],
  },
  {
    name: 'movement folded into one kernel',
    inputs: [f32([2, 3, 4], 4), f32([4, 3], 5)],
    build: (o, [x, y]) => {
      const a = o.flip(o.permute(x!, [0, 2, 1]), [1]); // [2,4,3]
      const b = o.expandTo(o.reshape(o.padPrim(o.slicePrim(y!, [0, 0], [4, 3], [2, 1]), [1, 1, 0, 0], -1), [1, 4, 3]), [2, 4, 3]);
      return [o.concat([o.mul(a, 2), b, o.unslice(o.neg(a), [2, 4, 3], [0, 0, 0], [2, 4, 3], [1, 1, 1])], 1)];
    },
  },
  {
    name: 'strided unslice and padding',
    inputs: [f32([2, 3], 6)],
    build: (o, [x]) => [o.unslice(x!, [5, 7], [1, 0], [5, 7], [2, 3]), o.padPrim(o.exp(x!), [0, 2, 1, 0], 0.5)],
  },
  {
    name: 'reductions over some and all axes',
    inputs: [f32([3, 4, 5], 7)],
    build: (o, [x]) => [o.sumKeep(o.mul(x!, x!), [1]), o.sumKeep(x!, [0, 2]), o.maxKeep(x!, [2]), o.minKeep(x!, [0]), o.prodKeep(x!, [1, 2]), o.sumKeep(x!, [0, 1, 2])],
  },
  {
    name: 'reductions propagate NaN',
    inputs: [f32([2, 4], 8, [NaN, Infinity, -Infinity])],
    build: (o, [x]) => [o.maxKeep(x!, [1]), o.minKeep(x!, [1]), o.sumKeep(x!, [1]), o.prodKeep(x!, [0])],
  },
  {
    name: 'matmul: batched, broadcast, transposed',
    inputs: [f32([2, 3, 4], 9), f32([4, 5], 10), f32([2, 1, 3, 4], 11), f32([3, 4, 2], 12), f32([6, 4], 13)],
    build: (o, [a, b, c, d, e]) => [
      o.matmulPrim(a!, b!),
      o.matmulPrim(c!, d!),
      o.matmulPrim(a!, o.permute(e!, [1, 0])),
      o.matmulPrim(o.permute(b!, [1, 0]), o.permute(a!, [0, 2, 1])),
    ],
  },
  {
    name: 'gather and scatter_add with negative indices',
    inputs: [f32([3, 4], 14), ints([2, 4], [0, 2, -1, 1, 2, -3, 0, 0]), f32([2, 4], 15)],
    build: (o, [x, i, s]) => [
      op(o, 'gather', [x!, i!], { axis: 0 }),
      op(o, 'scatter_add', [x!, i!, s!], { axis: 0 }),
      op(o, 'scatter_add', [o.exp(x!), o.slicePrim(i!, [0, 0], [2, 3], [1, 1]), s!], { axis: 1 }),
    ],
  },
  {
    name: 'unfold and fold (conv as im2col)',
    inputs: [f32([2, 3, 6, 5], 16)],
    build: (o, [x]) => {
      const w = { kernel: [3, 2], stride: [2, 1], padding: [1, 0], dilation: [1, 2] };
      const cols = op(o, 'unfold', [x!], w);
      return [cols, op(o, 'fold', [o.mul(cols, 3)], { ...w, outputSize: [6, 5] })];
    },
  },
  {
    name: 'cumsum, argmax and argmin (ties, NaN)',
    inputs: [{ dtype: 'f32', shape: [3, 4], data: Float32Array.from([1, 3, 3, 0, NaN, 2, NaN, 5, -1, -1, -2, -2]) }],
    build: (o, [x]) => [
      op(o, 'cumsum', [x!], { axis: 1 }),
      op(o, 'cumsum', [x!], { axis: 0 }),
      op(o, 'argmax', [x!], { axis: 1 }),
      op(o, 'argmin', [x!], { axis: 1 }),
      op(o, 'argmax', [x!], { axis: 0 }),
    ],
  },
  {
    name: 'i32 and bool arithmetic and casts',
    inputs: [ints([6], [7, -7, 9, -9, 0, 5]), ints([6], [2, 2, -4, 3, 1, 5]), f32([6], 17, [-2.7, 2.7, NaN])],
    build: (o, [a, b, x]) => [
      o.add(o.mul(a!, b!), a!),
      op(o, 'div', [a!, b!]),
      op(o, 'pow', [b!, o.cast(o.abs(b!), 'i32')]),
      o.cast(x!, 'i32'),
      o.cast(x!, 'bool'),
      o.logicalAnd(o.gt(a!, b!), o.logicalNot(o.eq(a!, 0))),
      o.cast(o.le(a!, b!), 'f32'),
    ],
  },
  {
    name: 'special values through the math functions',
    inputs: [{ dtype: 'f32', shape: [12], data: Float32Array.from([NaN, Infinity, -Infinity, 0, -0, 1e-7, -1e-7, 100, -100, 0.5, -3, 1e30]) }],
    build: (o, [x]) => [
      o.exp(x!), o.log(x!), o.sqrt(x!), o.rsqrt(x!), o.tanh(x!), o.sigmoid(x!), o.erf(x!), o.expm1(x!), o.log1p(x!), o.sign(x!),
      o.reciprocal(x!), o.floor(x!), o.pow(x!, 3), o.pow(x!, 0.5), o.pow(x!, -2), o.pow(2, x!), o.maximum(x!, 0), o.minimum(x!, 0), o.eq(x!, x!), o.ne(x!, x!),
    ],
  },
  {
    name: 'empty tensors',
    inputs: [f32([0, 3], 18), f32([2, 3], 19)],
    build: (o, [e, x]) => [o.add(e!, 1), o.sumKeep(e!, [0]), o.concat([e!, x!], 0)],
  },
  {
    name: 'a kernel reading more textures than gpu.js binds (packed inputs)',
    inputs: Array.from({ length: 20 }, (_, i) => f32([i % 3 + 1, 2], 20 + i)),
    build: (o, xs) => [o.exp(o.concat(xs, 0))],
  },
  {
    // Software GL stops a shader's loops after 65535 iterations: these run in parts.
    name: 'long loops split into parts (sum, max, matmul, scatter_add, cumsum, argmax)',
    inputs: [f32([300, 300], 80), f32([70000], 81, [NaN]), f32([2, 70000], 82), ints([69999], Array.from({ length: 69999 }, (_, i) => (i * 7) % 3 - 1)), f32([3], 83)],
    build: (o, [sq, v, w, idx, base]) => {
      const big = o.add(v!, o.mul(o.cast(o.iota([70000], 0, 'i32'), 'f32'), 1e-4)); // increasing, NaN at 0
      const clean = o.slicePrim(big, [1], [70000], [1]);
      return [
        o.sumKeep(sq!, [0, 1]),
        o.sumKeep(clean, [0]),
        o.maxKeep(big, [0]),
        o.minKeep(clean, [0]),
        o.matmulPrim(w!, o.permute(w!, [1, 0])),
        op(o, 'scatter_add', [base!, idx!, o.slicePrim(v!, [1], [70000], [1])], { axis: 0 }),
        o.slicePrim(op(o, 'cumsum', [clean], { axis: 0 }), [69990], [69999], [1]),
        op(o, 'argmax', [clean], { axis: 0 }),
        op(o, 'argmin', [big], { axis: 0 }),
      ];
    },
  },
];

describe.skipIf(reason !== null && !required)('gpu backend', () => {
  it('is available (KILN_REQUIRE_GPU=1 makes this a requirement)', () => {
    expect(reason).toBeNull();
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s: matches the js backend', (_n, c) => {
    const g = graphOf(c);
    const want = jsBackend.compile(g).run(c.inputs);
    const got = openGpuBackend().compile(g).run(c.inputs);
    expect(got.length).toBe(want.length);
    got.forEach((x, i) => expectClose(x, want[i]!, `${c.name} output ${i}`));
  });

  it('keeps intermediates on the GPU: one upload per argument, one readback per output', () => {
    const c: Case = {
      name: 'mlp',
      inputs: [f32([8, 16], 40), f32([16, 12], 41), f32([12], 42), f32([12, 4], 43)],
      build: (o, [x, w1, b1, w2]) => [o.sumKeep(o.matmulPrim(o.relu(o.add(o.matmulPrim(x!, w1!), b1!)), w2!), [1])],
    };
    const g = graphOf(c);
    const kernels = fuse(runPasses(g, pipelines.O2)).kernels.length;
    const exe = openGpuBackend().compile(g);
    exe.run(c.inputs); // compiles the shaders
    const before = gpuStats();
    const [out] = exe.run(c.inputs);
    const after = gpuStats();
    expect(kernels).toBeGreaterThanOrEqual(3);
    expect({ uploads: after.uploads - before.uploads, readbacks: after.readbacks - before.readbacks, launches: after.launches - before.launches }).toEqual({
      uploads: 4,
      readbacks: 1,
      launches: kernels,
    });
    expectClose(out!, jsBackend.compile(g).run(c.inputs)[0]!, 'mlp');
  });

  it('keeps kernels apart that differ only in their input sizes', () => {
    // Both take x[0:3]: the same GLSL, but gpu.js bakes the input texture's size into the shader.
    for (const n of [10, 40, 5]) {
      const c: Case = { name: `slice_${n}`, inputs: [f32([n], 60 + n)], build: (o, [x]) => [o.exp(o.slicePrim(x!, [0], [3], [1]))] };
      expectClose(openGpuBackend().compile(graphOf(c)).run(c.inputs)[0]!, jsBackend.compile(graphOf(c)).run(c.inputs)[0]!, c.name);
    }
  });

  it('runs one kernel twice in a row on its own output', () => {
    const c: Case = { name: 'chain', inputs: [f32([4, 4], 70), f32([4, 4], 71)], build: (o, [a, b]) => [o.matmulPrim(o.matmulPrim(o.matmulPrim(a!, b!), b!), b!)] };
    const g = graphOf(c);
    const exe = openGpuBackend().compile(g);
    const want = jsBackend.compile(g).run(c.inputs)[0]!;
    for (let i = 0; i < 3; i++) expectClose(exe.run(c.inputs)[0]!, want, `chain run ${i}`);
  });

  it('checks gather indices like the CPU kernels (arguments and computed indices)', () => {
    const bad: Case = { name: 'gather_bad', inputs: [f32([3, 2], 50), ints([2, 2], [0, 5, 1, 2])], build: (o, [x, i]) => [op(o, 'gather', [x!, i!], { axis: 0 })] };
    expect(() => openGpuBackend().compile(graphOf(bad)).run(bad.inputs)).toThrow(new IndexError('gather: index 5 is out of bounds for dim 0 with size 3'));
    const computed: Case = {
      name: 'gather_computed',
      inputs: [f32([3, 2], 51), ints([2, 2], [0, 1, 1, 2])],
      build: (o, [x, i]) => [op(o, 'scatter_add', [x!, o.sub(i!, 5), x!], { axis: 0 })],
    };
    expect(() => openGpuBackend().compile(graphOf(computed)).run(computed.inputs)).toThrow(
      new IndexError('scatter_add: index -5 is out of bounds for dim 0 with size 3'),
    );
  });
});

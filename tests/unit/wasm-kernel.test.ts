/**
 * The fused-kernel wasm code generator against the JS kernels (its semantic reference): every
 * elementwise op on special values, broadcasting, movement index math, reductions, softmax-like
 * chains and the W2 gelu chain, each run vectorized and forced scalar; accuracy sweeps of the
 * f32x4 math against Math.* in float64; golden `.wat` snapshots of tiny kernels.
 */
import { wasmApi } from '../../src/codegen-js/wasm-js-api.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileJsKernel, loopNestSource } from '../../src/codegen-js/js-kernel.js';
import { jsHelpers } from '../../src/codegen-js/js-templates.js';
import type { IExpr } from '../../src/ir/index-expr.js';
import { type LoopNest, lowerKernel } from '../../src/ir/loop-nest.js';
import { compileLoopNest, getBinaryen, newKernelModule, emitLoopNest, type WasmKernelOptions } from '../../src/codegen-js/wasm-kernel.js';
import { planLoopNest } from '../../src/codegen-js/wasm-plan.js';
import { TWO_OVER_PI_CHUNKS } from '../../src/codegen-js/wasm-math.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Value } from '../../src/ir/graph.js';
import { Ops } from '../../src/ir/lang/index.js';
import type { Storage } from '../../src/ir/ndarray.js';
import type { OpName } from '../../src/ir/ops/index.js';
import type { Kernel, Schedule } from '../../src/ir/schedule.js';
import { type DType, numel, tensorType } from '../../src/ir/types.js';
import { fuse, pipelines, runPasses } from '../../src/passes/index.js';
import { interpret } from '../../src/ir/interpret.js';
import { optimizingWasmCompiler } from '../../src/runtime/threads.js';

// ---- a tiny WebAssembly host ----------------------------------------------------------------

const WA = wasmApi();
const memory = new WA.Memory({ initial: 256, maximum: 65536, shared: true });

const typed = (dtype: DType, buf: ArrayBufferLike, offset: number, n: number): Storage =>
  dtype === 'f32' ? new Float32Array(buf, offset, n) : dtype === 'i32' ? new Int32Array(buf, offset, n) : new Uint8Array(buf, offset, n);
const alloc = (dtype: DType, n: number): Storage => (dtype === 'f32' ? new Float32Array(n) : dtype === 'i32' ? new Int32Array(n) : new Uint8Array(n));

type Runner = (out: Storage, inputs: readonly Storage[]) => void;

/**
 * Instantiates a kernel over the shared memory. Each call copies the inputs in at 16-byte
 * aligned offsets at the very end of the memory, the last input ending at its last byte when
 * its size is a multiple of 16: a read past an input's end traps.
 */
function instantiate(bytes: Uint8Array, name: string, outDtype: DType): Runner {
  const instance = new WA.Instance(new WA.Module(bytes), { env: { memory } });
  const fn = instance.exports[name] as (...ptrs: number[]) => void;
  return (out, inputs) => {
    const buffers = [out, ...inputs];
    const total = buffers.reduce((acc, b) => acc + b.byteLength + 32, 64);
    const need = Math.ceil(total / 65536) + 1 - memory.buffer.byteLength / 65536;
    if (need > 0) memory.grow(need);
    const ptrs = new Array<number>(buffers.length);
    let end = memory.buffer.byteLength;
    for (let i = buffers.length - 1; i >= 0; i--) {
      ptrs[i] = Math.floor((end - buffers[i]!.byteLength) / 16) * 16;
      end = ptrs[i]! - 16;
    }
    inputs.forEach((x, i) => new Uint8Array(memory.buffer, ptrs[i + 1]!, x.byteLength).set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)));
    fn(...ptrs);
    out.set(typed(outDtype, memory.buffer, ptrs[0]!, out.length) as never);
  };
}

// ---- graphs → schedules → both backends ---------------------------------------------------

interface Param {
  dtype: DType;
  shape: number[];
  data: ArrayLike<number>;
}

function schedule(params: readonly Param[], build: (o: Ops<Value>, xs: Value[]) => Value | Value[]): Schedule {
  const b = new GraphBuilder('t');
  const o = new Ops(b);
  const xs = params.map((p, i) => b.param(`x${i}`, tensorType(p.dtype, p.shape)));
  const outs = build(o, xs);
  return fuse(runPasses(b.build(Array.isArray(outs) ? outs : [outs]), pipelines.O2));
}

interface Tolerance {
  rtol: number;
  atol: number;
}

/** Max |wasm - js| / (atol + rtol·|js|) (≤ 1 passes); NaN must match NaN, infinities exactly. */
function badness(wasm: Storage, js: Storage, tol: Tolerance): { worst: number; at: number } {
  let worst = 0;
  let at = -1;
  for (let i = 0; i < js.length; i++) {
    const a = wasm[i]!;
    const b = js[i]!;
    let r: number;
    if (Number.isNaN(b) || Number.isNaN(a)) r = Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
    else if (!Number.isFinite(b) || !Number.isFinite(a)) r = a === b ? 0 : Infinity;
    else r = Math.abs(a - b) / (tol.atol + tol.rtol * Math.abs(b));
    if (r > worst) {
      worst = r;
      at = i;
    }
  }
  return { worst, at };
}

async function wasmRunner(k: Kernel, options: WasmKernelOptions): Promise<{ run: Runner; nest: LoopNest }> {
  const nest = lowerKernel(k);
  const dtypes = k.inputs.map((v) => v.type.dtype);
  const r = await compileLoopNest(nest, dtypes, { ...options, name: 'k' });
  return { run: instantiate(r.bytes, 'k', nest.outDtype), nest };
}

/**
 * Runs every pointwise/reduce kernel of the schedule on wasm (vectorized and forced scalar) and
 * on JS, feeding both the JS results, and checks each output within `tol`.
 */
async function check(params: readonly Param[], build: (o: Ops<Value>, xs: Value[]) => Value | Value[], tol: Tolerance = { rtol: 2e-6, atol: 1e-30 }): Promise<Storage[]> {
  const s = schedule(params, build);
  const buffers = new Map<Value, Storage>();
  s.graph.params.forEach((v, i) => {
    const st = alloc(v.type.dtype, numel(v.type.shape));
    st.set(params[i]!.data as never);
    buffers.set(v, st);
  });
  let wasmKernels = 0;
  for (const k of s.kernels) {
    const inputs = k.inputs.map((v) => buffers.get(v)!);
    const t = k.node.out.type;
    const js = alloc(t.dtype, numel(t.shape));
    compileJsKernel(k).fn(js, inputs);
    if (k.kind === 'pointwise' || k.kind === 'reduce') {
      wasmKernels++;
      for (const vectorize of [true, false]) {
        const { run, nest } = await wasmRunner(k, { vectorize });
        const out = alloc(t.dtype, numel(t.shape));
        run(out, inputs);
        const { worst, at } = badness(out, js, tol);
        if (worst > 1) {
          const inAt = inputs.map((x) => x[at]);
          throw new Error(
            `kernel ${k.node.op} (${vectorize ? 'vector' : 'scalar'}, extents ${JSON.stringify(nest.extents)}): ` +
              `element ${at}: wasm ${out[at]} vs js ${js[at]} (inputs there: ${inAt.join(', ')}), ${worst.toFixed(2)}× tolerance`,
          );
        }
      }
    }
    buffers.set(k.node.out, js);
  }
  expect(wasmKernels).toBeGreaterThan(0);
  return s.graph.outputs.map((v) => buffers.get(v)!);
}

// ---- data -----------------------------------------------------------------------------------

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

const SPECIAL = [
  0, -0, 1, -1, 0.5, -0.5, 2, -2, 3, -3, 1e-7, -1e-7, 1e-30, -1e-30, 1e-40, -1e-40, 1e30, -1e30, 3e38, -3e38, 88.7, 88.8, 89, -87.3, -88,
  -103.9, -104, -110, 20, -20, 9, 9.5, -9.5, 15, -15, Math.PI, -Math.PI, 1e4, 8191, 8193, 1e5, -1e5, 1e10, 1e20, 0.35, -0.35, 0.49, 0.51,
  -0.51, 3.9, 4.1, -4.1, Infinity, -Infinity, NaN,
];

/** Special values, then random values of every magnitude; `n` need not be a multiple of 4. */
function floats(n: number, seed = 1, spread = 30): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (i < SPECIAL.length) out[i] = SPECIAL[i]!;
    else {
      const mag = 10 ** ((r() * 2 - 1) * spread * 0.1);
      out[i] = (r() < 0.5 ? -1 : 1) * mag * r();
    }
  }
  return out;
}

function uniform(n: number, seed = 2, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

const ints = (n: number, seed = 3, lo = -50, hi = 50): Int32Array => {
  const r = rng(seed);
  const specials = [0, 1, -1, 2, -2, 0x7fffffff, -0x80000000, 7, -7];
  return Int32Array.from({ length: n }, (_, i) => (i < specials.length ? specials[i]! : Math.floor(lo + (hi - lo + 1) * r())));
};
const bools = (n: number, seed = 4): Uint8Array => {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0));
};

// ---- tests ------------------------------------------------------------------------------------

const N = 1003;

describe('wasm kernels: elementwise ops', () => {
  const unary: OpName[] = ['neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'sin', 'cos', 'tanh', 'sigmoid', 'erf', 'floor'];
  it.each(unary)('%s on special values and every magnitude (f32)', async (op) => {
    const tol = op === 'sin' || op === 'cos' ? { rtol: 2e-6, atol: 1e-6 } : op === 'erf' ? { rtol: 2e-6, atol: 1e-7 } : { rtol: 2e-6, atol: 1e-37 };
    await check([{ dtype: 'f32', shape: [N], data: floats(N) }], (o, [x]) => o.emit(op, [x!]), tol);
  });
});

describe('wasm kernels: binary, integer and bool ops', () => {
  const f32Binary: OpName[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'];
  it.each(f32Binary)('%s on special values (f32)', async (op) => {
    const x = floats(N, 1);
    const y = floats(N, 7);
    // Every special value against every other, then random pairs.
    for (let i = 0; i < SPECIAL.length; i++) for (let j = 0; j < 12 && i * 12 + j < N; j++) y[i * 12 + j] = SPECIAL[(i + j * 5) % SPECIAL.length]!;
    await check(
      [
        { dtype: 'f32', shape: [N], data: x },
        { dtype: 'f32', shape: [N], data: y },
      ],
      (o, [a, b]) => o.emit(op, [a!, b!]),
    );
  });

  it('pow with positive bases, and constant exponents as products', async () => {
    const x = uniform(N, 5, 0, 10);
    const y = uniform(N, 6, -8, 8);
    await check(
      [
        { dtype: 'f32', shape: [N], data: x },
        { dtype: 'f32', shape: [N], data: y },
      ],
      (o, [a, b]) => o.emit('pow', [a!, b!]),
      { rtol: 3e-6, atol: 1e-37 },
    );
    for (const k of [0, 1, 2, 3, 4, -1, -2, 0.5, 2.5, -3]) {
      await check([{ dtype: 'f32', shape: [N], data: floats(N, 9, 5) }], (o, [a]) => o.emit('pow', [a!, o.scalar(k)]));
    }
  });

  const intOps: [OpName, number][] = [
    ['add', 2], ['sub', 2], ['mul', 2], ['div', 2], ['maximum', 2], ['minimum', 2], ['pow', 2],
    ['eq', 2], ['ne', 2], ['lt', 2], ['le', 2], ['gt', 2], ['ge', 2], ['neg', 1], ['abs', 1], ['sign', 1],
  ];
  it.each(intOps)('%s on i32 (wrapping, division by 0 and INT_MIN / -1)', async (op, arity) => {
    const a = ints(N, 3);
    const b = op === 'pow' ? ints(N, 4, -3, 9) : ints(N, 4, -9, 9);
    if (op === 'pow') for (let i = 0; i < N; i++) a[i] = Math.max(-40, Math.min(40, a[i]!));
    if (op === 'div') b[5] = -1; // INT_MIN / -1 (a[6] is INT_MIN)
    b[6] = -1;
    const both: Param[] = [
      { dtype: 'i32', shape: [N], data: a },
      { dtype: 'i32', shape: [N], data: b },
    ];
    const params = both.slice(0, arity);
    await check(params, (o, xs) => o.emit(op, xs));
  });

  it('bool logic, comparisons of bools, where and casts between every dtype', async () => {
    const p: Param[] = [
      { dtype: 'bool', shape: [N], data: bools(N, 1) },
      { dtype: 'bool', shape: [N], data: bools(N, 2) },
      { dtype: 'f32', shape: [N], data: floats(N, 3) },
      { dtype: 'i32', shape: [N], data: ints(N, 4, -1000, 1000) },
    ];
    await check(p, (o, [a, b]) => o.emit('logical_and', [a!, b!]));
    await check(p, (o, [a, b]) => o.emit('logical_or', [a!, b!]));
    await check(p, (o, [a]) => o.emit('logical_not', [a!]));
    await check(p, (o, [a, b]) => [o.emit('lt', [a!, b!]), o.emit('ge', [a!, b!]), o.emit('eq', [a!, b!])]);
    await check(p, (o, [a, , x]) => o.where(a!, x!, o.neg(x!)));
    await check(p, (o, [a, , , i]) => o.where(a!, i!, o.scalar(7, 'i32')));
    await check(p, (o, [a, b, x]) => o.where(o.emit('logical_and', [a!, o.gt(x!, 0)]), b!, a!));
    await check(p, (o, [a]) => [o.cast(a!, 'f32'), o.cast(a!, 'i32')]);
    await check(p, (o, [, , x]) => [o.cast(x!, 'i32'), o.cast(x!, 'bool')]);
    await check(p, (o, [, , , i]) => [o.cast(i!, 'f32'), o.cast(i!, 'bool')]);
    // f32 → i32 beyond ±2^31 wraps like `| 0`, in vector lanes too.
    const big = Float32Array.from({ length: 64 }, (_, i) => [3e9, -3e9, 1e10, -1e10, 2 ** 31, -(2 ** 31), 4.5e18, 1e19, 3e38, NaN, Infinity, -Infinity, -2.7, 2.7, 0, -0][i % 16]!);
    await check([{ dtype: 'f32', shape: [64], data: big }], (o, [x]) => o.add(o.cast(x!, 'i32'), o.scalar(1, 'i32')));
  });

  it('relu, leaky relu, clamp, where chains (bool masks inside vector loops)', async () => {
    const p: Param[] = [{ dtype: 'f32', shape: [64, 33], data: floats(64 * 33, 11, 10) }];
    await check(p, (o, [x]) => o.relu(x!));
    await check(p, (o, [x]) => o.leakyRelu(x!, 0.1));
    await check(p, (o, [x]) => o.clamp(x!, -1, 2));
    await check(p, (o, [x]) => o.elu(x!));
    await check(p, (o, [x]) => o.softplus(x!));
    await check(p, (o, [x]) => o.silu(x!));
    // NOTE: 1 + tanh(x) near x = -5 carries tanh's ~3e-7 error near -1 (float32 ulp there: 6e-8).
    await check(p, (o, [x]) => o.gelu(x!), { rtol: 1e-5, atol: 1e-7 });
    await check(p, (o, [x]) => o.gelu(x!, { approximate: 'tanh' }), { rtol: 1e-5, atol: 1e-6 });
  });
});

describe('wasm kernels: broadcasting and movement index math', () => {
  it('broadcasts rows, columns, scalars and middle axes', async () => {
    const x = floats(128 * 256, 21, 5);
    await check(
      [
        { dtype: 'f32', shape: [128, 256], data: x },
        { dtype: 'f32', shape: [256], data: uniform(256, 22) },
      ],
      (o, [a, b]) => o.relu(o.add(a!, b!)),
    );
    await check(
      [
        { dtype: 'f32', shape: [4, 1, 5], data: uniform(20, 23) },
        { dtype: 'f32', shape: [3, 1], data: uniform(3, 24) },
      ],
      (o, [a, b]) => o.mul(o.add(a!, b!), o.exp(b!)),
    );
    await check(
      [
        { dtype: 'f32', shape: [9, 1], data: uniform(9, 25) },
        { dtype: 'f32', shape: [1, 13], data: uniform(13, 26) },
      ],
      (o, [a, b]) => o.tanh(o.sub(a!, b!)),
    );
    await check([{ dtype: 'f32', shape: [7, 9], data: uniform(63, 27) }], (o, [a]) => o.add(o.mul(a!, 3), o.scalar(-1)));
    await check(
      [
        { dtype: 'f32', shape: [6, 5, 8], data: uniform(240, 28) },
        { dtype: 'f32', shape: [6, 1, 8], data: uniform(48, 29) },
      ],
      (o, [a, b]) => o.div(a!, o.add(o.abs(b!), 1)),
    );
  });

  it('permute, slice with steps, flip, reshape and expand', async () => {
    const p: Param[] = [{ dtype: 'f32', shape: [6, 10, 12], data: uniform(720, 31) }];
    await check(p, (o, [x]) => o.exp(o.permute(x!, [2, 0, 1])));
    await check(p, (o, [x]) => o.mul(o.permute(x!, [1, 0, 2]), 2));
    await check(p, (o, [x]) => o.sigmoid(o.slicePrim(x!, [1, 0, 2], [6, 10, 12], [2, 3, 1])));
    await check(p, (o, [x]) => o.neg(o.flip(x!, [2])));
    await check(p, (o, [x]) => o.neg(o.flip(x!, [0, 1])));
    await check(p, (o, [x]) => o.add(o.reshape(x!, [10, 72]), o.reshape(o.permute(x!, [1, 0, 2]), [10, 72])));
    await check(p, (o, [x]) => o.log1p(o.abs(o.reshape(o.permute(x!, [0, 2, 1]), [60, 12]))));
    await check([{ dtype: 'f32', shape: [5, 1, 7], data: uniform(35, 32) }], (o, [x]) => o.sqrt(o.abs(o.expandTo(x!, [3, 5, 4, 7]))));
  });

  it('pad, unslice and concat on every axis read only inside their inputs', async () => {
    // Input sizes are multiples of 16 bytes, so the last input ends at the memory's last byte.
    const p: Param[] = [
      { dtype: 'f32', shape: [4, 8], data: uniform(32, 41) },
      { dtype: 'f32', shape: [4, 4], data: uniform(16, 42) },
    ];
    await check(p, (o, [x]) => o.exp(o.padPrim(x!, [1, 2, 3, 5], -1)));
    await check(p, (o, [x]) => o.exp(o.padPrim(x!, [0, 0, 0, 9])));
    await check(p, (o, [x]) => o.exp(o.padPrim(x!, [2, 3, 0, 0])));
    await check(p, (o, [, y]) => o.mul(o.unslice(y!, [9, 12], [1, 0], [9, 12], [2, 3]), 3));
    await check(p, (o, [x, y]) => o.tanh(o.concat([x!, y!], 1)));
    await check(p, (o, [x, y]) => o.tanh(o.concat([y!, x!, y!], 1)));
    await check(p, (o, [x, y]) => o.tanh(o.concat([o.permute(x!, [1, 0]), y!], 0)));
    await check(p, (o, [x, y]) => o.add(o.concat([y!, o.slicePrim(x!, [0, 2], [4, 6], [1, 1])], 1), o.flip(x!, [1])));
    // A pad feeding a broadcast and a reduction.
    await check(p, (o, [x]) => o.sum(o.padPrim(x!, [1, 1, 2, 2], 0.5), 1));
  });
});

describe('wasm kernels: unfold and fold as loop nests', () => {
  type Geometry = { kernel: [number, number]; stride: [number, number]; padding: [number, number]; dilation: [number, number] };
  const geometries: [string, number[], Geometry][] = [
    ['3x3 pad 1 (a conv layer)', [2, 3, 9, 10], { kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] }],
    ['strided, padded, dilated', [1, 2, 11, 9], { kernel: [3, 2], stride: [2, 3], padding: [2, 1], dilation: [2, 1] }],
    ['no padding, 1 channel', [3, 1, 8, 8], { kernel: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1] }],
    ['5x5 pad 2, rows narrower than 4', [1, 2, 6, 3], { kernel: [5, 5], stride: [1, 1], padding: [2, 2], dilation: [1, 1] }],
  ];

  /** The schedule's outputs against the float64 interpreter (the ops' own definitions). */
  async function againstInterpreter(params: Param[], build: (o: Ops<Value>, xs: Value[]) => Value, expectFused: string[]): Promise<void> {
    const s = schedule(params, build);
    expect(s.kernels.map((k) => `${k.kind} ${k.node.op}`)).toEqual(expectFused);
    const [got] = await check(params, build, { rtol: 1e-5, atol: 1e-6 });
    const [want] = interpret(s.graph, params.map((p) => ({ dtype: p.dtype, shape: p.shape, data: Float32Array.from(p.data) })));
    const { worst, at } = badness(got!, want!.data, { rtol: 1e-5, atol: 1e-6 });
    expect(worst, `element ${at}: ${got![at]} vs ${want!.data[at]}`).toBeLessThanOrEqual(1);
  }

  for (const [name, shape, w] of geometries) {
    it(`unfold, ${name}: one pointwise kernel reading the input through window offsets`, async () => {
      const x = uniform(numel(shape), 31);
      await againstInterpreter([{ dtype: 'f32', shape, data: x }], (o, [a]) => o.relu(o.emit('unfold', [o.add(a!, 0.25)], w)), ['pointwise where']); // relu is where(x > 0, x, 0)
    });

    it(`fold, ${name}: the sum over window taps, fused with what it reads`, async () => {
      const [n, c, h, wd] = shape as [number, number, number, number];
      const oh = Math.floor((h + 2 * w.padding[0] - w.dilation[0] * (w.kernel[0] - 1) - 1) / w.stride[0]) + 1;
      const ow = Math.floor((wd + 2 * w.padding[1] - w.dilation[1] * (w.kernel[1] - 1) - 1) / w.stride[1]) + 1;
      const cols = [n, c * w.kernel[0] * w.kernel[1], oh * ow];
      await againstInterpreter(
        [{ dtype: 'f32', shape: cols, data: uniform(numel(cols), 32) }],
        (o, [a]) => o.emit('fold', [o.mul(a!, 2)], { ...w, outputSize: [h, wd] }),
        ['pointwise fold'],
      );
    });
  }

  it('unfold runs its rows 4 lanes at a time between the padding (loops per window position)', async () => {
    const shape = [2, 3, 9, 13];
    const w = geometries[0]![2];
    await againstInterpreter([{ dtype: 'f32', shape, data: uniform(numel(shape), 34) }], (o, [a]) => o.emit('unfold', [a!], w), ['pointwise unfold']);
    const s = schedule([{ dtype: 'f32', shape, data: [] }], (o, [a]) => o.relu(o.emit('unfold', [a!], w)));
    const plan = planLoopNest(lowerKernel(s.kernels[0]!));
    // [N·C, kh, kw, OH, OW]: N and C merge, the window loops stay, OW is the vector loop
    expect(plan.extents).toEqual([6, 3, 3, 9, 13]);
    expect(plan.vectorLoop).toBe(4);
  });

  it('a fold with more than 64 window taps stays its own kernel, with the same values', async () => {
    const w = { kernel: [9, 8], stride: [1, 1], padding: [4, 4], dilation: [1, 1], outputSize: [10, 9] };
    const cols = [1, 2 * 72, 10 * 10];
    const params: Param[] = [{ dtype: 'f32', shape: cols, data: uniform(numel(cols), 33) }];
    const s = schedule(params, (o, [a]) => o.emit('fold', [a!], w));
    expect(s.kernels.map((k) => `${k.kind} ${k.node.op}`)).toEqual(['opaque fold']);
    const k = s.kernels[0]!;
    const out = new Float32Array(numel(k.node.out.type.shape));
    compileJsKernel(k).fn(out, [Float32Array.from(params[0]!.data)]);
    const [want] = interpret(s.graph, [{ dtype: 'f32', shape: cols, data: Float32Array.from(params[0]!.data) }]);
    expect(badness(out, want!.data, { rtol: 1e-6, atol: 1e-6 }).worst).toBeLessThanOrEqual(1);
  });
});

describe('wasm kernels: reductions', () => {
  const withNaN = (n: number, seed: number): Float32Array => {
    const d = uniform(n, seed, -3, 3);
    d[7] = NaN;
    d[n - 2] = Infinity;
    return d;
  };
  const ops = ['sum', 'amax', 'min', 'prod'] as const;
  const shapes: [number[], number[]][] = [
    [[37, 23], [1]],
    [[37, 23], [0]],
    [[6, 11, 9], [1]],
    [[6, 11, 9], [0, 2]],
    [[6, 11, 9], [0, 1, 2]],
    [[128, 10], [1]],
    [[3, 1, 40], [2]],
    [[64, 3], [0]],
  ];
  it.each(ops)('%s over first, last, middle and several axes (f32, NaN propagating)', async (op) => {
    for (const [shape, axes] of shapes) {
      const n = numel(shape);
      const data = op === 'prod' ? uniform(n, 50, 0.8, 1.25) : op === 'sum' ? uniform(n, 51, -1, 1) : withNaN(n, 52);
      const tol = op === 'sum' || op === 'prod' ? { rtol: 1e-5, atol: 1e-5 } : { rtol: 0, atol: 0 };
      await check(
        [{ dtype: 'f32', shape, data }],
        (o, [x]) => (op === 'sum' ? o.sum(x!, axes, true) : op === 'amax' ? o.amax(x!, axes, true) : op === 'min' ? o.emit('min', [x!], { axes }) : o.emit('prod', [x!], { axes })),
        tol,
      );
    }
  });

  it('i32 sums, products and extremes', async () => {
    const p: Param[] = [
      { dtype: 'i32', shape: [33, 17], data: ints(33 * 17, 60, -1000, 1000) },
      { dtype: 'i32', shape: [33, 17], data: ints(33 * 17, 61, -2, 2) },
    ];
    for (const axes of [[0], [1], [0, 1]]) {
      await check(p, (o, [x]) => [o.emit('sum', [x!], { axes }), o.emit('max', [x!], { axes }), o.emit('min', [x!], { axes })]);
      await check(p, (o, [, y]) => o.emit('prod', [o.slicePrim(y!, [0, 0], [10, 17], [1, 1])], { axes }));
    }
  });

  it('a reduction whose reduced loops all have size 1 (hand-built: the passes fold it away)', async () => {
    const aff = (terms: [number, number][], c = 0): IExpr => ({ t: 'aff', terms: new Map(terms), c });
    const x = floats(35, 5);
    for (const reduce of ['sum', 'max', 'min', 'prod'] as const) {
      const nest: LoopNest = {
        extents: [5, 7, 1],
        body: { t: 'op', op: 'exp', args: [{ t: 'load', input: 0, index: aff([[0, 7], [1, 1], [2, 7]]), dtype: 'f32' }], dtype: 'f32' },
        out: aff([[0, 7], [1, 1]]),
        outSize: 35,
        outDtype: 'f32',
        reduce,
        outerLoops: 2,
      };
      expect(planLoopNest(nest)).toMatchObject({ extents: [35], outerLoops: 1, vectorLoop: 0 });
      const js = new Float32Array(35);
      (new Function('h', loopNestSource(nest, 1))(jsHelpers) as (o: Storage, x: Storage) => void)(js, x);
      for (const vectorize of [true, false]) {
        const out = new Float32Array(35);
        instantiate((await compileLoopNest(nest, ['f32'], { vectorize })).bytes, 'kernel', 'f32')(out, [x]);
        expect(badness(out, js, { rtol: 2e-6, atol: 1e-37 }).worst).toBeLessThanOrEqual(1);
      }
    }
  });

  it('reductions over an empty axis store the init value', async () => {
    await check([{ dtype: 'f32', shape: [3, 0], data: [] }], (o, [x]) => [o.sum(x!, [1], true), o.amax(x!, [1], true), o.emit('prod', [x!], { axes: [1] })], { rtol: 0, atol: 0 });
    await check([{ dtype: 'i32', shape: [0, 5], data: [] }], (o, [x]) => [o.emit('sum', [x!], { axes: [0] }), o.emit('max', [x!], { axes: [0] })], { rtol: 0, atol: 0 });
  });

  it('softmax, log-softmax and a layer norm over rows', async () => {
    const p: Param[] = [{ dtype: 'f32', shape: [128, 10], data: uniform(1280, 70, -5, 5) }];
    const tol = { rtol: 1e-5, atol: 1e-6 };
    await check(p, (o, [x]) => o.softmax(x!, 1), tol);
    await check(p, (o, [x]) => o.logSoftmax(x!, 1), tol);
    await check(p, (o, [x]) => o.softmax(x!, 0), tol);
    await check(p, (o, [x]) => {
      const mu = o.mean(x!, [1], true);
      const d = o.sub(x!, mu);
      return o.mul(d, o.rsqrt(o.add(o.mean(o.mul(d, d), [1], true), 1e-5)));
    }, tol);
  });

  it('a 10,000-element sum matches float64 within 1e-5', async () => {
    const data = uniform(10_000, 80, 0, 1);
    const [out] = await check([{ dtype: 'f32', shape: [10_000], data }], (o, [x]) => o.sum(x!), { rtol: 1e-5, atol: 0 });
    let exact = 0;
    for (const v of data) exact += v;
    const s = await compileLoopNest(lowerKernel(schedule([{ dtype: 'f32', shape: [10_000], data }], (o, [x]) => o.sum(x!)).kernels[0]!), ['f32']);
    const got = new Float32Array(1);
    instantiate(s.bytes, 'kernel', 'f32')(got, [data]);
    expect(Math.abs(got[0]! - exact) / exact).toBeLessThan(1e-5);
    expect(out!.length).toBe(1);
  });
});

describe('wasm kernels: plans', () => {
  const planOf = (params: Param[], build: (o: Ops<Value>, xs: Value[]) => Value) => planLoopNest(lowerKernel(schedule(params, build).kernels.at(-1)!));
  const f = (...shape: number[]): Param => ({ dtype: 'f32', shape, data: new Float32Array(numel(shape)) });

  it('collapses contiguous loops and keeps broadcast ones apart', () => {
    expect(planOf([f(128, 256), f(128, 256)], (o, [a, b]) => o.add(a!, b!))).toMatchObject({ extents: [32768], vectorLoop: 0, gathers: 0 });
    expect(planOf([f(128, 256), f(256)], (o, [a, b]) => o.relu(o.add(a!, b!)))).toMatchObject({ extents: [128, 256], vectorLoop: 1, gathers: 0 });
    expect(planOf([f(2, 3, 4, 5), f(4, 5)], (o, [a, b]) => o.mul(a!, b!))).toMatchObject({ extents: [6, 20], vectorLoop: 1 });
  });

  it('picks the contiguous loop of a reduction', () => {
    expect(planOf([f(128, 10)], (o, [x]) => o.sum(x!, [1], true))).toMatchObject({ extents: [128, 10], vectorLoop: 1, outerLoops: 1 });
    expect(planOf([f(128, 256)], (o, [x]) => o.sum(x!, [0], true))).toMatchObject({ extents: [256, 128], vectorLoop: 0, gathers: 0 });
    expect(planOf([f(4, 5, 6)], (o, [x]) => o.sum(x!, [0, 1, 2], true))).toMatchObject({ extents: [120], vectorLoop: 0, outerLoops: 0 });
  });

  it('cuts the vector loop at pad/concat guards, falls back to scalar for strided ones', () => {
    expect(planOf([f(4, 8), f(4, 4)], (o, [x, y]) => o.concat([x!, y!], 1)).vectorLoop).toBe(1);
    expect(planOf([f(4, 8)], (o, [x]) => o.padPrim(x!, [1, 1, 0, 0])).vectorLoop).toBe(1);
    expect(planOf([f(4, 8)], (o, [x]) => o.padPrim(x!, [0, 0, 3, 1])).vectorLoop).toBe(1);
    expect(planOf([f(4, 4)], (o, [y]) => o.unslice(y!, [4, 12], [0, 0], [4, 12], [1, 3])).vectorLoop).toBeNull();
    expect(planOf([f(1000)], (o, [x]) => o.gelu(x!, { approximate: 'tanh' }))).toMatchObject({ vectorLoop: 0, gathers: 0 });
  });

  it('turns pow with a constant exponent 3 into products inside the vector loop', async () => {
    const p = [{ dtype: 'f32' as const, shape: [1000], data: floats(1000, 3, 3) }];
    const build = (o: Ops<Value>, [x]: Value[]) => o.tanh(o.mul(o.add(x!, o.mul(o.emit('pow', [x!, o.scalar(3)]), 0.044715)), 0.79788456));
    const k = schedule(p, build).kernels[0]!;
    const c = await compileLoopNest(lowerKernel(k), ['f32']);
    expect(c.plan.vectorLoop).toBe(0);
    expect(c.text).not.toContain('kiln.pow');
    await check(p, build, { rtol: 1e-5, atol: 1e-6 });
  });
});

describe('wasm kernels: the W2 gelu chain', () => {
  it('runs the 11-op chain on 1e6 elements as one vectorized loop', async () => {
    const n = 1_000_000;
    const x = uniform(n, 90, -4, 4);
    const chain = (o: Ops<Value>, [v]: Value[]) => {
      const z = o.add(o.mul(v!, 0.5), 0.1);
      const u = o.mul(o.mul(o.mul(z, z), z), 0.044715);
      const inner = o.mul(o.add(z, u), Math.sqrt(2 / Math.PI));
      return o.mul(o.mul(z, 0.5), o.add(o.tanh(inner), 1));
    };
    const s = schedule([{ dtype: 'f32', shape: [n], data: x }], chain);
    expect(s.kernels).toHaveLength(1);
    expect(planLoopNest(lowerKernel(s.kernels[0]!))).toMatchObject({ extents: [n], vectorLoop: 0, gathers: 0 });
    const [y] = await check([{ dtype: 'f32', shape: [n], data: x }], chain, { rtol: 1e-5, atol: 1e-6 });
    expect(y!.length).toBe(n);
  });
});

describe('wasm kernels: split over threads', () => {
  /** Runs a `split` kernel in `parts` ranges of its outermost loop and checks it against one call. */
  async function checkSplit(params: readonly Param[], build: (o: Ops<Value>, xs: Value[]) => Value, parts: number[]): Promise<void> {
    const s = schedule(params, build);
    const k = s.kernels.at(-1)!;
    const nest = lowerKernel(k);
    const dtypes = k.inputs.map((v) => v.type.dtype);
    const inputs = k.inputs.map((v) => {
      const st = alloc(v.type.dtype, numel(v.type.shape));
      st.set(params[s.graph.params.indexOf(v)]!.data as never);
      return st;
    });
    const whole = alloc(nest.outDtype, nest.outSize);
    instantiate((await compileLoopNest(nest, dtypes)).bytes, 'kernel', nest.outDtype)(whole, inputs);
    const c = await compileLoopNest(nest, dtypes, { split: true });
    expect(c.plan.splitExtent).toBe(parts.at(-1));
    const pieces = alloc(nest.outDtype, nest.outSize);
    const instance = new WA.Instance(new WA.Module(c.bytes), { env: { memory } });
    const fn = instance.exports.kernel as (...p: number[]) => void;
    // Lay out once, run each range into the same output.
    const bufs = [pieces, ...inputs];
    const ptrs: number[] = [];
    let at = 1024;
    for (const b of bufs) {
      ptrs.push(at);
      at += Math.ceil(b.byteLength / 16) * 16 + 16;
    }
    inputs.forEach((x, i) => new Uint8Array(memory.buffer, ptrs[i + 1]!, x.byteLength).set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)));
    new Uint8Array(memory.buffer, ptrs[0]!, pieces.byteLength).fill(0xff);
    for (let p = 0; p + 1 < parts.length; p++) fn(...ptrs, parts[p]!, parts[p + 1]!);
    pieces.set(typed(nest.outDtype, memory.buffer, ptrs[0]!, pieces.length) as never);
    expect(Array.from(pieces)).toEqual(Array.from(whole));
  }

  it('computes the same output in pieces of the outermost loop', async () => {
    const n = 1_001;
    await checkSplit([{ dtype: 'f32', shape: [n], data: floats(n, 3) }], (o, [x]) => o.tanh(o.mul(x!, 0.3)), [0, 500, 501, 1001]);
    await checkSplit(
      [
        { dtype: 'f32', shape: [30, 17], data: uniform(510, 4) },
        { dtype: 'f32', shape: [17], data: uniform(17, 5) },
      ],
      (o, [x, b]) => o.relu(o.add(x!, b!)),
      [0, 7, 8, 30],
    );
    await checkSplit([{ dtype: 'f32', shape: [30, 17], data: uniform(510, 6) }], (o, [x]) => o.sum(x!, [1], true), [0, 16, 30]);
    await checkSplit([{ dtype: 'f32', shape: [30, 17], data: uniform(510, 7) }], (o, [x]) => o.sum(x!, [0], true), [0, 8, 12, 17]);
  });
});

// ---- accuracy of the vector math against Math.* in float64 ---------------------------------

/** erf in float64 to ~1e-15: its Taylor series below 2.5, the continued fraction of erfc above. */
function erf64(x: number): number {
  const ax = Math.abs(x);
  if (Number.isNaN(x)) return NaN;
  if (ax < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 80 && Math.abs(term) > 1e-18 * Math.abs(sum); n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = ax;
  for (let k = 80; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * f);
  return Math.sign(x) * (1 - erfc);
}

const MIN_NORMAL = 2 ** -126;
const ulpOf = (v: number): number => 2 ** (Math.max(Math.floor(Math.log2(Math.abs(v))), -126) - 23);

/** Random float32 bit patterns with |x| in [lo, hi], both signs unless `positive`. */
function floatBits(n: number, seed: number, lo: number, hi: number, positive = false): Float32Array {
  const r = rng(seed);
  const b = new Float32Array(1);
  const u = new Uint32Array(b.buffer);
  b[0] = lo;
  const a = u[0]!;
  b[0] = hi;
  const z = u[0]!;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    u[0] = a + Math.floor(r() * (z - a + 1));
    out[i] = positive || r() < 0.5 ? b[0] : -b[0];
  }
  return out;
}

interface Accuracy {
  maxUlp: number;
  maxRel: number;
  maxAbs: number;
}

/** Runs `op` elementwise on `xs` (n a multiple of 4: the vector path) and measures it against `ref`. */
async function accuracy(op: OpName, xs: Float32Array, ref: (x: number) => number, relFloor = MIN_NORMAL, fma = false): Promise<Accuracy> {
  const s = schedule([{ dtype: 'f32', shape: [xs.length], data: xs }], (o, [x]) => o.emit(op, [x!]));
  const k = s.kernels[0]!;
  const out = new Float32Array(xs.length);
  instantiate((await compileLoopNest(lowerKernel(k), ['f32'], { fma })).bytes, 'kernel', 'f32')(out, [xs]);
  const acc: Accuracy = { maxUlp: 0, maxRel: 0, maxAbs: 0 };
  for (let i = 0; i < xs.length; i++) {
    const r = ref(xs[i]!);
    const g = out[i]!;
    const r32 = Math.fround(r);
    if (!Number.isFinite(r32) || Number.isNaN(r)) {
      if (!Object.is(g, r32) && !(Number.isNaN(g) && Number.isNaN(r32))) acc.maxUlp = Infinity;
      continue;
    }
    acc.maxAbs = Math.max(acc.maxAbs, Math.abs(g - r));
    if (Math.abs(r) >= relFloor) {
      acc.maxRel = Math.max(acc.maxRel, Math.abs(g - r) / Math.abs(r));
      acc.maxUlp = Math.max(acc.maxUlp, Math.abs(g - r) / ulpOf(r));
    }
  }
  return acc;
}

describe.each([false, true])('wasm kernels: f32x4 math accuracy vs float64 Math (fused multiply-add: %s)', (fma) => {
  // relaxed SIMD (the fused multiply-add) is behind a V8 flag in Node 20, turned on here
  beforeAll(async () => {
    await optimizingWasmCompiler();
  });
  const M = 1 << 16;
  const sigmoid64 = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
  const table: [OpName, string, () => Float32Array, (x: number) => number, number, number][] = [
    // op, domain, inputs, reference, max ulp, max relative error
    ['exp', '[-104, 89]', () => floatBits(M, 1, 1e-8, 104), Math.exp, 2, 2e-7],
    ['log', '(0, 3.4e38], subnormals too', () => floatBits(M, 2, 1e-45, 3.4e38, true), Math.log, 2, 2e-7],
    ['tanh', 'all floats', () => floatBits(M, 3, 1e-30, 3e38), Math.tanh, 8, 4e-7],
    ['sigmoid', '[-110, 110]', () => floatBits(M, 4, 1e-10, 110), sigmoid64, 4, 4e-7],
    ['erf', '[-8, 8]', () => floatBits(M, 5, 1e-20, 8), erf64, 8, 4e-7],
    ['expm1', '[-30, 89]', () => floatBits(M, 6, 1e-30, 88.7), Math.expm1, 4, 4e-7],
    ['log1p', '(-1, 3e38]', () => Float32Array.from(floatBits(M, 7, 1e-30, 3e38, true), (v, i) => (i % 2 ? v : -Math.min(v, 0.9999999))), Math.log1p, 4, 4e-7],
    ['sin', '[-8192, 8192]', () => floatBits(M, 8, 1e-10, 8192), Math.sin, 8, 1e-6],
    ['cos', '[-8192, 8192]', () => floatBits(M, 9, 1e-10, 8192), Math.cos, 8, 1e-6],
    ['sin', 'beyond 8192 (f64 reduction)', () => floatBits(M, 10, 8192, 3.4e38), Math.sin, 4, 1e-6],
    ['cos', 'beyond 8192 (f64 reduction)', () => floatBits(M, 11, 8192, 3.4e38), Math.cos, 4, 1e-6],
  ];
  const report: string[] = [];
  it.each(table)('%s over %s', async (op, domain, inputs, ref, ulps, rel) => {
    // sin/cos: relative error only where |result| ≥ 1e-3 (near zeros the error is absolute, ≤ 1e-10).
    const floor = op === 'sin' || op === 'cos' ? 1e-3 : MIN_NORMAL;
    const a = await accuracy(op, inputs(), ref, floor, fma);
    report.push(`${fma ? 'fma ' : ''}${op.padEnd(8)} ${domain.padEnd(28)} max ${a.maxUlp.toFixed(2)} ulp, rel ${a.maxRel.toExponential(2)}, abs ${a.maxAbs.toExponential(2)}`);
    expect(a.maxUlp).toBeLessThanOrEqual(ulps);
    expect(a.maxRel).toBeLessThanOrEqual(rel);
    if (op === 'sin' || op === 'cos') expect(a.maxAbs).toBeLessThan(op === 'sin' && domain.startsWith('[') ? 2e-7 : 2e-7);
  });

  it('pow against Math.pow on positive bases', async () => {
    const n = M;
    const x = floatBits(n, 12, 1e-6, 1e6, true);
    const y = uniform(n, 13, -6, 6);
    const s = schedule(
      [
        { dtype: 'f32', shape: [n], data: x },
        { dtype: 'f32', shape: [n], data: y },
      ],
      (o, [a, b]) => o.emit('pow', [a!, b!]),
    );
    const out = new Float32Array(n);
    instantiate((await compileLoopNest(lowerKernel(s.kernels[0]!), ['f32', 'f32'], { fma })).bytes, 'kernel', 'f32')(out, [x, y]);
    let maxUlp = 0;
    for (let i = 0; i < n; i++) {
      const r = Math.pow(x[i]!, y[i]!);
      if (Math.fround(r) === 0 || !Number.isFinite(Math.fround(r)) || Math.abs(r) < MIN_NORMAL) continue;
      maxUlp = Math.max(maxUlp, Math.abs(out[i]! - r) / ulpOf(r));
    }
    report.push(`pow      x in [1e-6, 1e6], y in [-6, 6]  max ${maxUlp.toFixed(2)} ulp`);
    expect(maxUlp).toBeLessThanOrEqual(1);
  });

  it('tanh saturates to exactly ±1, so gelu-tanh tails are exact zeros', async () => {
    const xs = Float32Array.from([9, -9, 9.5, -20, 1e10, -Infinity, Infinity, 8.9]);
    const out = new Float32Array(xs.length);
    const k = schedule([{ dtype: 'f32', shape: [xs.length], data: xs }], (o, [x]) => o.add(o.tanh(x!), 1)).kernels[0]!;
    instantiate((await compileLoopNest(lowerKernel(k), ['f32'], { fma })).bytes, 'kernel', 'f32')(out, [xs]);
    expect(Array.from(out.slice(0, 7))).toEqual([2, 0, 2, 0, 2, 0, 2]);
    expect(out[7]).toBeCloseTo(1 + Math.tanh(8.9), 6);
  });

  it('2/π chunks match a BigInt Machin series', () => {
    const bits = 400n;
    const S = 1n << (bits + 16n);
    const atanInv = (n: bigint): bigint => {
      let sum = 0n;
      let term = S / n;
      let sign = 1n;
      for (let k = 1n; term !== 0n; k += 2n, term /= n * n, sign = -sign) sum += (sign * term) / k;
      return sum;
    };
    const pi = 16n * atanInv(5n) - 4n * atanInv(239n);
    const twoOverPi = (2n * S * (1n << bits)) / pi;
    const chunks = TWO_OVER_PI_CHUNKS.map((_, i) => Number((twoOverPi >> (bits - 24n * BigInt(i + 1))) & 0xffffffn));
    expect(chunks).toEqual(TWO_OVER_PI_CHUNKS);
  });

  it('reports', () => {
    console.log(`f32x4 math vs float64 Math (vector path):\n  ${report.join('\n  ')}`);
  });
});

// ---- out-of-bounds safety and golden snapshots ----------------------------------------------

describe('wasm kernels: memory safety and snapshots', () => {
  it('the harness traps on a read past the last input (so guarded-load tests mean something)', async () => {
    const nest: LoopNest = {
      extents: [8],
      body: { t: 'load', input: 0, index: { t: 'aff', terms: new Map([[0, 1]]), c: 4 }, dtype: 'f32' },
      out: { t: 'aff', terms: new Map([[0, 1]]), c: 0 },
      outSize: 8,
      outDtype: 'f32',
      reduce: null,
      outerLoops: 1,
    };
    const run = instantiate((await compileLoopNest(nest, ['f32'])).bytes, 'kernel', 'f32');
    expect(() => run(new Float32Array(8), [new Float32Array(8)])).toThrow(/out of bounds/);
  });

  it('emitLoopNest validates, and rejects a body reading a missing input', async () => {
    const bin = await getBinaryen();
    const mod = newKernelModule(bin);
    const k = schedule([{ dtype: 'f32', shape: [5], data: uniform(5, 1) }], (o, [x]) => o.exp(x!)).kernels[0]!;
    emitLoopNest(bin, mod, 'a', lowerKernel(k), ['f32']);
    emitLoopNest(bin, mod, 'b', lowerKernel(k), ['f32'], { vectorize: false });
    expect(mod.validate()).toBeTruthy();
    expect(() => emitLoopNest(bin, mod, 'c', lowerKernel(k), [])).toThrow(/emitLoopNest\(c\): the body reads input 0 but 0 input dtypes were given/);
    expect(() => emitLoopNest(bin, mod, 'd', lowerKernel(k), ['i32'])).toThrow(/emitLoopNest\(d\): input 0 is loaded as f32 but declared i32/);
    mod.dispose();
  });

  const SNAPSHOTS = resolve(import.meta.dirname, '../filetests/wat');
  const snapshots: [string, Param[], (o: Ops<Value>, xs: Value[]) => Value][] = [
    ['bias-relu', [{ dtype: 'f32', shape: [2, 8], data: [] }, { dtype: 'f32', shape: [8], data: [] }], (o, [x, b]) => o.relu(o.add(x!, b!))],
    ['row-sum', [{ dtype: 'f32', shape: [3, 6], data: [] }], (o, [x]) => o.sum(x!, [1], true)],
    ['pad-segments', [{ dtype: 'f32', shape: [6], data: [] }], (o, [x]) => o.neg(o.padPrim(x!, [1, 1], 0))],
    ['unslice-guard', [{ dtype: 'f32', shape: [3], data: [] }], (o, [x]) => o.neg(o.unslice(x!, [6], [0], [6], [2]))],
  ];
  it.each(snapshots)('%s.wat', async (name, params, build) => {
    const k = schedule(params, build).kernels.at(-1)!;
    const { text } = await compileLoopNest(lowerKernel(k), k.inputs.map((v) => v.type.dtype), { name });
    const file = join(SNAPSHOTS, `${name}.wat`);
    if (!existsSync(file)) writeFileSync(file, text);
    expect(text).toBe(readFileSync(file, 'utf8'));
  });
});

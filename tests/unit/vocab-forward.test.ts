import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { ArgumentError, DTypeError, IndexError, ShapeError } from '../../src/ir/errors.js';
import type { Value } from '../../src/ir/graph.js';
import { interpret } from '../../src/ir/interpret.js';
import { Ops } from '../../src/ir/lang/index.js';
import type { EmitterHooks } from '../../src/ir/lang/index.js';
import type { NDArray } from '../../src/ir/ndarray.js';
import type { DType } from '../../src/ir/types.js';
import { formatType, shapesEqual, tensorType } from '../../src/ir/types.js';
import { applyOp, type OpArg } from '../conformance/vocab.js';

// Forward values and error cases of the PyTorch conformance op cases, run through the op
// vocabulary into an IR graph and the float64 reference interpreter. Gradients and HVPs
// are checked by the autodiff tests.

type Num = number | boolean | 'inf' | '-inf' | 'nan';
interface JsonTensor {
  dtype: 'float32' | 'int64' | 'bool';
  shape: number[];
  data: Num[] | null;
}
interface OpCase {
  name: string;
  inputs: Record<string, JsonTensor>;
  program: { out: string; op: string; args: (string | number | string[])[]; kwargs?: Record<string, unknown> }[];
  expected?: { values: Record<string, JsonTensor> };
  expected_error?: { kind: 'shape' | 'index' | 'value' | 'dtype' };
  tolerance: { rtol: number; atol: number };
}

const DIR = new URL('../conformance/cases/ops/', import.meta.url);
// A backward() error, not an op error: tests/unit/conformance.test.ts covers it.
const BACKWARD_ERRORS = new Set(['err_backward_nonscalar_no_grad_output']);

const DTYPES: Record<JsonTensor['dtype'], DType> = { float32: 'f32', int64: 'i32', bool: 'bool' };
const ERRORS = { shape: ShapeError, index: IndexError, value: ArgumentError, dtype: DTypeError };

const num = (v: Num): number => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === 'nan' ? NaN : Number(v));

function toNDArray(t: JsonTensor): NDArray {
  const dtype = DTYPES[t.dtype];
  const values = (t.data ?? []).map(num);
  const data = dtype === 'f32' ? Float64Array.from(values) : dtype === 'i32' ? Int32Array.from(values) : Uint8Array.from(values);
  return { dtype, shape: t.shape, data };
}

/** Builds the case's program; returns the graph inputs and the named values. */
function build(c: OpCase): { b: GraphBuilder; args: NDArray[]; env: Map<string, Value> } {
  const b = new GraphBuilder(c.name);
  const o = new Ops(b);
  const env = new Map<string, Value>();
  const args: NDArray[] = [];
  for (const [name, t] of Object.entries(c.inputs)) {
    const arr = toNDArray(t);
    // Every input is static here, as eager values are (for one_hot's num_classes=-1).
    const v = b.param(name, tensorType(arr.dtype, arr.shape), arr.data);
    env.set(name, v);
    args.push(arr);
  }
  const lookup = (name: string): Value => {
    const v = env.get(name);
    if (!v) throw new Error(`case ${c.name}: unknown value '${name}'`);
    return v;
  };
  for (const step of c.program) {
    const stepArgs: OpArg<Value>[] = step.args.map((a) => (typeof a === 'number' ? a : typeof a === 'string' ? lookup(a) : a.map(lookup)));
    env.set(step.out, applyOp(o, step.op, stepArgs, step.kwargs ?? {}));
  }
  return { b, args, env };
}

/** The first mismatch between `got` and `want`, or null. */
function mismatch(got: NDArray, want: JsonTensor, tol: OpCase['tolerance']): string | null {
  if (got.dtype !== DTYPES[want.dtype]) return `dtype ${got.dtype}, want ${DTYPES[want.dtype]}`;
  if (!shapesEqual(got.shape, want.shape)) return `shape ${formatType(got)}, want [${want.shape.join(',')}]`;
  const exact = got.dtype !== 'f32';
  const data = want.data ?? [];
  for (let i = 0; i < data.length; i++) {
    const w = num(data[i]!);
    const g = got.data[i]!;
    const ok = Number.isNaN(w)
      ? Number.isNaN(g)
      : !Number.isFinite(w) || exact
        ? g === w
        : Math.abs(g - w) <= tol.atol + tol.rtol * Math.abs(w);
    if (!ok) return `element ${i}: got ${g}, want ${w}`;
  }
  return null;
}

function runValues(c: OpCase): void {
  const { b, args, env } = build(c);
  const names = Object.keys(c.expected!.values);
  const graph = b.build(names.map((n) => env.get(n)!));
  const out = interpret(graph, args, 'f64');
  names.forEach((n, i) => {
    const bad = mismatch(out[i]!, c.expected!.values[n]!, c.tolerance);
    expect(bad, `${c.name}: value '${n}'`).toBeNull();
  });
}

function runError(c: OpCase): void {
  const kind = c.expected_error!.kind;
  let thrown: unknown;
  let phase = 'build';
  try {
    const { b, args, env } = build(c);
    phase = 'run';
    const last = c.program[c.program.length - 1]!;
    interpret(b.build([env.get(last.out)!]), args, 'f64');
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `${c.name}: expected a ${kind} error`).toBeInstanceOf(ERRORS[kind]);
  const msg = (thrown as Error).message;
  // Build-time errors name the vocabulary op; run-time index errors may name the primitive.
  const names = [...c.program.map((s) => s.op), ...(phase === 'run' ? ['gather', 'scatter_add'] : [])];
  expect(names.some((n) => msg.startsWith(`${n}:`)), `${c.name}: message names the op: ${msg}`).toBe(true);
}

const cases = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(new URL(f, DIR), 'utf8')) as OpCase);

describe('op vocabulary: forward values of the conformance op cases', () => {
  for (const c of cases.filter((c) => c.expected)) {
    it(c.name, () => runValues(c));
  }
});

describe('op vocabulary: error cases', () => {
  for (const c of cases.filter((c) => c.expected_error && !BACKWARD_ERRORS.has(c.name))) {
    it(`${c.name} (${c.expected_error!.kind})`, () => runError(c));
  }
});

// ---- semantics the conformance cases do not reach (references worked out from PyTorch's kernels) ----

/** Builds `fn` over the given f32/i32 inputs and runs it in the reference interpreter. */
function run(inputs: NDArray[], fn: (o: Ops<Value>, ...xs: Value[]) => Value, hooks: Partial<EmitterHooks<Value>> = {}): NDArray {
  const b = Object.assign(new GraphBuilder('t'), hooks);
  const o = new Ops<Value>(b);
  const xs = inputs.map((a, i) => b.param(`x${i}`, tensorType(a.dtype, a.shape)));
  return interpret(b.build([fn(o, ...xs)]), inputs, 'f64')[0]!;
}

const f32 = (shape: number[], values: number[]): NDArray => ({ dtype: 'f32', shape, data: Float64Array.from(values) });
const i32 = (shape: number[], values: number[]): NDArray => ({ dtype: 'i32', shape, data: Int32Array.from(values) });
const arange = (shape: number[]): NDArray => f32(shape, Array.from({ length: shape.reduce((a, d) => a * d, 1) }, (_, i) => i));

function expectClose(got: NDArray, shape: number[], values: number[]): void {
  expect([...got.shape]).toEqual(shape);
  values.forEach((v, i) => expect(got.data[i]).toBeCloseTo(v, 9));
}

describe('op vocabulary: semantics beyond the conformance cases', () => {
  it('max_pool2d and avg_pool2d with ceil_mode (and count_include_pad=False)', () => {
    const x = arange([1, 1, 6, 6]);
    expectClose(run([x], (o, a) => o.maxPool2d(a, 3, 2, 1, 1, true)), [1, 1, 4, 4], [7, 9, 11, 11, 19, 21, 23, 23, 31, 33, 35, 35, 31, 33, 35, 35]);
    const inc = [1.5555555555555556, 3.3333333333333335, 4.666666666666667, 2.6666666666666665, 8.333333333333334, 14, 16, 8.5, 16.333333333333332, 26, 28, 14.5, 10.166666666666666, 16, 17, 8.75];
    expectClose(run([x], (o, a) => o.avgPool2d(a, 3, 2, 1, true, true)), [1, 1, 4, 4], inc);
    const exc = [3.5, 5, 7, 8, 12.5, 14, 16, 17, 24.5, 26, 28, 29, 30.5, 32, 34, 35];
    expectClose(run([x], (o, a) => o.avgPool2d(a, 3, 2, 1, true, false)), [1, 1, 4, 4], exc);
    expectClose(run([arange([1, 5, 5])], (o, a) => o.avgPool2d(a, 2, null, 0, true)), [1, 3, 3], [3, 5, 6.5, 13, 15, 16.5, 20.5, 22.5, 24]);
  });

  it("conv1d padding='same' pads an even kernel on the right, as PyTorch", () => {
    const y = run([f32([1, 1, 5], [1, 2, 3, 4, 5]), f32([1, 1, 2], [10, 1])], (o, x, w) => o.conv1d(x, w, null, 1, 'same'));
    expectClose(y, [1, 1, 5], [12, 23, 34, 45, 50]);
  });

  it('cross_entropy with probability targets, label smoothing and ignore_index', () => {
    const x = f32([2, 3], [1, 2, 3, 0.5, -1, 2]);
    const t = f32([2, 3], [0.2, 0.3, 0.5, 1, 0, 0]);
    expectClose(run([x, t], (o, a, b) => o.crossEntropy(a, b)), [], [1.424458630550769]);
    expectClose(run([x, t], (o, a, b) => o.crossEntropy(a, b, { labelSmoothing: 0.1 })), [], [1.4394586305507688]);
    const x3 = f32([3, 3], [1, 2, 3, 0.5, -1, 2, 0, 0, 1]);
    expectClose(run([x3, i32([3], [0, -100, 2])], (o, a, b) => o.crossEntropy(a, b, { ignoreIndex: -100 })), [], [1.479525339188216]);
  });

  it('div rounding modes keep integer dtypes; true division of integers is f32', () => {
    const a = i32([4], [-7, 7, -8, 5]);
    const trunc = run([a], (o, x) => o.div(x, 2, { roundingMode: 'trunc' }));
    expect([trunc.dtype, ...trunc.data]).toEqual(['i32', -3, 3, -4, 2]);
    const floor = run([a], (o, x) => o.div(x, 2, { roundingMode: 'floor' }));
    expect([floor.dtype, ...floor.data]).toEqual(['i32', -4, 3, -4, 2]);
    const trueDiv = run([a], (o, x) => o.div(x, 2));
    expect([trueDiv.dtype, ...trueDiv.data]).toEqual(['f32', -3.5, 3.5, -4, 2.5]);
  });

  it('argmax with dim=None and keepdim=True keeps every dim as size 1', () => {
    const y = run([f32([2, 3], [0, 5, 1, 7, 2, 3])], (o, x) => o.argmax(x, null, true));
    expect([y.dtype, [...y.shape], ...y.data]).toEqual(['i32', [1, 1], 3]);
  });

  it('dropout draws its mask from the emitter hook, and refuses without one', () => {
    const x = f32([4], [1, 2, 3, 4]);
    expectClose(run([x], (o, a) => o.dropout(a, 0.5, false)), [4], [1, 2, 3, 4]);
    const rand = function (this: GraphBuilder, shape: readonly number[]): Value {
      return this.emit('const', [], { dtype: 'f32', shape: [...shape], value: 0.25 });
    };
    expectClose(run([x], (o, a) => o.dropout(a, 0.5), { rand }), [4], [2, 4, 6, 8]);
    expect(() => run([x], (o, a) => o.dropout(a, 0.5))).toThrow(/^dropout: this emitter has no random source/);
  });

  it('one_hot with num_classes=-1 needs concrete values', () => {
    expect(() => run([i32([2], [0, 1])], (o, a) => o.oneHot(a))).toThrow(ArgumentError);
    const y = run([i32([2], [0, 2])], (o, a) => o.oneHot(a, 3));
    expect([y.dtype, [...y.shape], ...y.data]).toEqual(['i32', [2, 3], 1, 0, 0, 0, 0, 1]);
  });

  it('adaptive_avg_pool2d with None keeps that dim', () => {
    const y = run([arange([1, 1, 4, 3])], (o, x) => o.adaptiveAvgPool2d(x, [2, null]));
    expectClose(y, [1, 1, 2, 3], [1.5, 2.5, 3.5, 7.5, 8.5, 9.5]);
  });

  it('invalid calls throw the right class, naming the op and the types, before emitting anything', () => {
    const bad: [string, (o: Ops<Value>, b: GraphBuilder) => Value, new (m: string) => Error, RegExp][] = [
      ['matmul', (o, b) => o.matmul(b.param('a', tensorType('f32', [2, 4])), b.param('b', tensorType('f32', [5, 4]))), ShapeError,
        /^matmul: contracting dimensions differ: f32\[2,4\] \(dim 1 = 4\) vs f32\[5,4\] \(dim 0 = 5\)$/],
      ['conv2d', (o, b) => o.conv2d(b.param('x', tensorType('f32', [1, 3, 5, 5])), b.param('w', tensorType('f32', [2, 4, 3, 3]))), ShapeError,
        /^conv2d: input f32\[1,3,5,5\] has 3 channels, but weight f32\[2,4,3,3\]/],
      ['conv2d', (o, b) => o.conv2d(b.param('x', tensorType('f32', [1, 1, 5, 5])), b.param('w', tensorType('f32', [1, 1, 3, 3])), null, 0), ArgumentError,
        /^conv2d: stride must be 2 positive integers, got 0$/],
      ['cross_entropy', (o, b) => o.crossEntropy(b.param('x', tensorType('f32', [4, 3])), b.param('t', tensorType('i32', [5]))), ShapeError,
        /^cross_entropy: expected target of shape \[4\] for input f32\[4,3\], got i32\[5\]$/],
      ['cross_entropy', (o, b) => o.crossEntropy(b.param('x', tensorType('f32', [4, 3])), b.param('t', tensorType('i32', [4])), { reduction: 'avg' as 'mean' }), ArgumentError,
        /^cross_entropy: reduction must be/],
      ['sum', (o, b) => o.sum(b.param('x', tensorType('f32', [4, 3])), 2), IndexError, /^sum: dimension out of range .* but got 2\) for f32\[4,3\]$/],
      ['embedding', (o, b) => o.embedding(b.param('i', tensorType('f32', [2])), b.param('w', tensorType('f32', [3, 2]))), DTypeError,
        /^embedding: index must be an integer tensor, got f32\[2\]$/],
      ['cat', (o, b) => o.cat([b.param('a', tensorType('f32', [2, 4])), b.param('b', tensorType('i32', [2, 5]))]), ShapeError, /^cat: sizes of tensors must match/],
      ['pad', (o, b) => o.pad(b.param('x', tensorType('f32', [3])), [1, 2, 3]), ArgumentError, /^pad: /],
      ['max_pool2d', (o, b) => o.maxPool2d(b.param('x', tensorType('f32', [1, 1, 4, 4])), 2, 2, 2), ArgumentError, /^max_pool2d: pad should be at most half/],
    ];
    for (const [op, call, cls, msg] of bad) {
      const b = new GraphBuilder(op);
      let err: unknown;
      try {
        call(new Ops(b), b);
      } catch (e) {
        err = e;
      }
      expect(err, op).toBeInstanceOf(cls);
      expect((err as Error).message).toMatch(msg);
      expect(b.build([]).nodes.length, `${op} emitted nodes before failing`).toBe(0);
    }
  });
});

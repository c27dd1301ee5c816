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
const SKIP = new Set(['err_backward_nonscalar_no_grad_output']); // a backward() error: autodiff's

const DTYPES: Record<JsonTensor['dtype'], DType> = { float32: 'f32', int64: 'i32', bool: 'bool' };
const ERRORS = { shape: ShapeError, index: IndexError, value: ArgumentError, dtype: DTypeError };

const num = (v: Num): number => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === 'nan' ? NaN : Number(v));

function toNDArray(t: JsonTensor): NDArray {
  const dtype = DTYPES[t.dtype];
  const values = (t.data ?? []).map(num);
  const data = dtype === 'f32' ? Float64Array.from(values) : dtype === 'i32' ? Int32Array.from(values) : Uint8Array.from(values);
  return { dtype, shape: t.shape, data };
}

/** A graph builder that knows its inputs' values, as an eager emitter would (for one_hot's num_classes=-1). */
class KnownInputsBuilder extends GraphBuilder implements EmitterHooks<Value> {
  readonly known = new Map<Value, NDArray>();
  peek(x: Value): ArrayLike<number> | undefined {
    return this.known.get(x)?.data;
  }
}

/** Builds the case's program; returns the graph inputs and the named values. */
function build(c: OpCase): { b: KnownInputsBuilder; args: NDArray[]; env: Map<string, Value> } {
  const b = new KnownInputsBuilder(c.name);
  const o = new Ops(b);
  const env = new Map<string, Value>();
  const args: NDArray[] = [];
  for (const [name, t] of Object.entries(c.inputs)) {
    const arr = toNDArray(t);
    const v = b.param(name, tensorType(arr.dtype, arr.shape));
    b.known.set(v, arr);
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
  for (const c of cases.filter((c) => c.expected_error)) {
    (SKIP.has(c.name) ? it.skip : it)(`${c.name} (${c.expected_error!.kind})`, () => runError(c));
  }
});

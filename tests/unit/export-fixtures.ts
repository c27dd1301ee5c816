/**
 * The models the export tests share: an MLP, a CNN and a transformer block, built with the
 * op vocabulary over a GraphBuilder, with deterministic weights and inputs, and kiln's
 * own outputs to compare exports against.
 */
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Graph, Value } from '../../src/ir/graph.js';
import type { OpName } from '../../src/ir/ops/index.js';
import { Ops } from '../../src/ir/lang/index.js';
import type { NDArray } from '../../src/ir/ndarray.js';
import { type DType, numel, tensorType } from '../../src/ir/types.js';
import { getBackend } from '../../src/runtime/backend.js';

export interface Model {
  readonly graph: Graph;
  /** Weights bound by parameter name. */
  readonly weights: Map<string, NDArray>;
  /** The values of the other parameters (the model inputs), by name. */
  readonly inputs: Map<string, NDArray>;
}

/** Uniform values on [-scale, scale) from a Park–Miller generator. */
export function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed % 2147483647 || 1;
  return Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647 * 2 - 1) * scale);
}

export function array(dtype: DType, shape: number[], data: ArrayLike<number>): NDArray {
  const n = numel(shape);
  const storage = dtype === 'f32' ? Float32Array.from(data) : dtype === 'i32' ? Int32Array.from(data) : Uint8Array.from(data);
  if (storage.length !== n) throw new Error(`fixture: ${storage.length} values for shape [${shape.join(',')}]`);
  return { dtype, shape, data: storage };
}

/** Builds a model: `params` declares weights (w: …) and inputs (in: …) in order. */
class ModelBuilder {
  readonly b: GraphBuilder;
  readonly o: Ops<Value>;
  readonly weights = new Map<string, NDArray>();
  readonly inputs = new Map<string, NDArray>();
  private seed = 1;

  constructor(name: string) {
    this.b = new GraphBuilder(name);
    this.o = new Ops(this.b);
  }

  input(name: string, shape: number[], data?: ArrayLike<number>, dtype: DType = 'f32'): Value {
    this.inputs.set(name, array(dtype, shape, data ?? values(numel(shape), 1000 + this.seed++)));
    return this.b.param(name, tensorType(dtype, shape));
  }

  /** A weight with fan-in scaling, like PyTorch's default init. */
  weight(name: string, shape: number[], scale = 1 / Math.sqrt(shape[shape.length - 1] ?? 1)): Value {
    this.weights.set(name, array('f32', shape, values(numel(shape), this.seed++ * 7919, scale)));
    return this.b.param(name, tensorType('f32', shape));
  }

  build(outputs: Value[]): Model {
    return { graph: this.b.build(outputs), weights: this.weights, inputs: this.inputs };
  }
}

/** linear → relu → linear → (softmax, argmax): two outputs, f32 and i32. */
export function mlp(batch = 4): Model {
  const m = new ModelBuilder('mlp');
  const { o } = m;
  const x = m.input('x', [batch, 16]);
  const w1 = m.weight('fc1.weight', [32, 16]);
  const b1 = m.weight('fc1.bias', [32]);
  const w2 = m.weight('fc2.weight', [10, 32]);
  const b2 = m.weight('fc2.bias', [10]);
  const logits = o.linear(o.relu(o.linear(x, w1, b1)), w2, b2);
  return m.build([o.softmax(logits, -1), o.argmax(logits, -1)]);
}

/**
 * conv(pad 1) → relu → maxpool 2 (tiled) → conv(stride 2, pad 1) → relu → maxpool 3/2/1
 * (-inf padding, im2col) → avgpool → flatten → linear → log_softmax.
 */
export function cnn(batch = 2): Model {
  const m = new ModelBuilder('cnn');
  const { o } = m;
  const x = m.input('x', [batch, 1, 12, 12]);
  const c1w = m.weight('conv1.weight', [4, 1, 3, 3], 1 / 3);
  const c1b = m.weight('conv1.bias', [4]);
  const c2w = m.weight('conv2.weight', [8, 4, 3, 3], 1 / 6);
  const c2b = m.weight('conv2.bias', [8]);
  const fw = m.weight('fc.weight', [10, 8]);
  const fb = m.weight('fc.bias', [10]);
  let h = o.maxPool2d(o.relu(o.conv2d(x, c1w, c1b, 1, 1)), 2); // [N,4,6,6]
  h = o.relu(o.conv2d(h, c2w, c2b, 2, 1)); // [N,8,3,3]
  h = o.maxPool2d(h, 3, 2, 1); // [N,8,2,2]
  h = o.avgPool2d(h, 2); // [N,8,1,1]
  return m.build([o.logSoftmax(o.linear(o.flatten(h, 1), fw, fb), -1)]);
}

/**
 * A pre-norm transformer block: causal multi-head attention and a GELU MLP, each with a
 * residual connection.
 */
export function transformerBlock(approximate: 'none' | 'tanh', batch = 2, seq = 6, dim = 16, heads = 2): Model {
  const m = new ModelBuilder(`block_${approximate}`);
  const { o } = m;
  const hd = dim / heads;
  const x = m.input('x', [batch, seq, dim]);
  const ln1w = m.weight('ln1.weight', [dim], 1);
  const ln1b = m.weight('ln1.bias', [dim], 0.1);
  const wqkv = m.weight('attn.qkv.weight', [3 * dim, dim]);
  const bqkv = m.weight('attn.qkv.bias', [3 * dim], 0.1);
  const wo = m.weight('attn.out.weight', [dim, dim]);
  const bo = m.weight('attn.out.bias', [dim], 0.1);
  const ln2w = m.weight('ln2.weight', [dim], 1);
  const ln2b = m.weight('ln2.bias', [dim], 0.1);
  const w1 = m.weight('mlp.fc1.weight', [4 * dim, dim]);
  const b1 = m.weight('mlp.fc1.bias', [4 * dim], 0.1);
  const w2 = m.weight('mlp.fc2.weight', [dim, 4 * dim]);
  const b2 = m.weight('mlp.fc2.bias', [dim], 0.1);

  const qkv = o.linear(o.layerNorm(x, [dim], ln1w, ln1b), wqkv, bqkv); // [B,T,3D]
  const heads4 = o.permute(o.reshape(qkv, [batch, seq, 3, heads, hd]), [2, 0, 3, 1, 4]); // [3,B,H,T,hd]
  const part = (i: number) => o.reshape(o.slice(heads4, 0, i, i + 1), [batch, heads, seq, hd]);
  const [q, k, v] = [part(0), part(1), part(2)];
  const scores = o.div(o.matmul(q, o.transpose(k, -2, -1)), Math.sqrt(hd)); // [B,H,T,T]
  const causal = o.ge(o.iota([seq, seq], 0), o.iota([seq, seq], 1));
  const att = o.softmax(o.where(causal, scores, -Infinity), -1);
  const ctx = o.reshape(o.permute(o.matmul(att, v), [0, 2, 1, 3]), [batch, seq, dim]);
  const h = o.add(x, o.linear(ctx, wo, bo));
  const mlpOut = o.linear(o.gelu(o.linear(o.layerNorm(h, [dim], ln2w, ln2b), w1, b1), { approximate }), w2, b2);
  return m.build([o.add(h, mlpOut)]);
}

/** Runs a model on kiln's current backend: parameters in order, from inputs and weights. */
export function runKiln(model: Model): NDArray[] {
  const args = model.graph.params.map((p) => {
    const a = model.inputs.get(p.name!) ?? model.weights.get(p.name!);
    if (!a) throw new Error(`fixture: no value for parameter ${p.name}`);
    return a;
  });
  return getBackend().compile(model.graph).run(args);
}

/** max |a - b| over two arrays of one length (NaN when lengths differ or a value is NaN on one side only). */
export function maxDiff(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): number {
  if (a.length !== b.length) return NaN;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Number(a[i]!);
    const y = Number(b[i]!);
    if (x === y) continue;
    m = Math.max(m, Math.abs(x - y));
  }
  return m;
}

// ---- one small graph per primitive (or a few) ----

export interface InputSpec {
  dtype: DType;
  shape: number[];
  /** Values, or a range to draw them from. */
  data?: number[];
  range?: [number, number];
}

export interface OpCase {
  name: string;
  inputs: Record<string, InputSpec>;
  build: (o: Ops<Value>, b: GraphBuilder, x: Record<string, Value>) => Value[];
  /** Allowed |diff| / (1 + |kiln|); 0 for exact. */
  tol?: number;
}

const f32 = (shape: number[], range: [number, number] = [-2, 2]): InputSpec => ({ dtype: 'f32', shape, range });
const i32 = (shape: number[], data: number[]): InputSpec => ({ dtype: 'i32', shape, data });
const bool = (shape: number[], data: number[]): InputSpec => ({ dtype: 'bool', shape, data });

/** The graph of an op case, with its inputs drawn from a seed of its index. */
export function opModel(c: OpCase, index: number): Model {
  let seed = 100 + 17 * index;
  const b = new GraphBuilder(c.name.replace(/\W+/g, '_'));
  const o = new Ops(b);
  const params: Record<string, Value> = {};
  const inputs = new Map<string, NDArray>();
  for (const [name, s] of Object.entries(c.inputs)) {
    const [lo, hi] = s.range ?? [-1, 1];
    const data = s.data ?? Array.from(values(numel(s.shape), seed++), (v) => lo + ((v + 1) / 2) * (hi - lo));
    inputs.set(name, array(s.dtype, s.shape, data));
    params[name] = b.param(name, tensorType(s.dtype, s.shape));
  }
  return { graph: b.build(c.build(o, b, params)), weights: new Map(), inputs };
}

const unary = (op: OpName, range: [number, number] = [-2, 2]): OpCase => ({
  name: op,
  inputs: { x: f32([2, 3, 4], range) },
  build: (_o, b, { x }) => [b.emit(op, [x!], {})],
});

const binary = (op: OpName, dtype: 'f32' | 'i32' = 'f32'): OpCase => ({
  name: `${op} ${dtype} (broadcast)`,
  inputs:
    dtype === 'f32'
      ? { a: f32([2, 3], [0.5, 2]), b: { dtype: 'f32', shape: [3], data: [0.5, 1, 1.5] } }
      : { a: i32([2, 3], [7, -7, 3, 0, -5, 9]), b: i32([3], [2, -3, 4]) },
  build: (_o, b, { a, b: c }) => [b.emit(op, [a!, c!], {})],
});

/** Every primitive, on f32 and (where kiln allows) i32 and bool operands. */
export const opCases: OpCase[] = [
  ...(['neg', 'abs', 'sign', 'exp', 'sin', 'cos', 'tanh', 'sigmoid', 'erf', 'floor', 'expm1'] as const).map((op) => unary(op)),
  ...(['log', 'log1p', 'sqrt', 'rsqrt', 'reciprocal'] as const).map((op) => unary(op, [0.1, 3])),
  ...(['neg', 'abs', 'sign'] as const).map((op) => ({
    name: `${op} i32`,
    inputs: { x: i32([4], [-3, 0, 5, -1]) },
    build: (_o: Ops<Value>, b: GraphBuilder, { x }: Record<string, Value>) => [b.emit(op, [x!], {})],
  })),
  ...(['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const).map((op) => binary(op)),
  ...(['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'lt', 'ge', 'eq'] as const).map((op) => binary(op, 'i32')),
  {
    name: 'logical ops on bool and on f32',
    inputs: { p: bool([4], [1, 0, 1, 0]), q: bool([4], [1, 1, 0, 0]), x: { dtype: 'f32', shape: [4], data: [0, 2, -1, 0] } },
    build: (o, b, { p, q, x }) => [
      b.emit('logical_not', [p!], {}),
      b.emit('logical_and', [p!, q!], {}),
      b.emit('logical_or', [p!, q!], {}),
      b.emit('logical_or', [x!, o.cast(p!, 'f32')], {}),
      b.emit('eq', [p!, q!], {}),
      b.emit('lt', [p!, q!], {}),
    ],
  },
  {
    name: 'where and casts',
    inputs: { c: bool([2, 3], [1, 0, 1, 1, 0, 0]), x: f32([2, 3], [-3, 3]), n: i32([3], [1, -2, 0]) },
    build: (o, b, { c, x, n }) => [
      b.emit('where', [c!, x!, b.emit('cast', [n!], { dtype: 'f32' })], {}),
      b.emit('cast', [x!], { dtype: 'i32' }),
      b.emit('cast', [b.emit('floor', [x!], {})], { dtype: 'bool' }),
      b.emit('cast', [c!], { dtype: 'f32' }),
      b.emit('cast', [n!], { dtype: 'bool' }),
      o.full([2, 2], 2.5),
    ],
  },
  {
    name: 'reductions keep dims',
    inputs: { x: f32([2, 3, 4], [0.5, 1.5]), n: i32([2, 3], [1, 2, 3, 4, 5, 6]) },
    build: (_o, b, { x, n }) => [
      b.emit('sum', [x!], { axes: [1] }),
      b.emit('sum', [x!], { axes: [0, 2] }),
      b.emit('prod', [x!], { axes: [2] }),
      b.emit('max', [x!], { axes: [0, 1] }),
      b.emit('min', [x!], { axes: [2] }),
      b.emit('sum', [n!], { axes: [1] }),
      b.emit('max', [n!], { axes: [0] }),
    ],
  },
  {
    name: 'argmax, argmin, cumsum',
    inputs: { x: f32([3, 5]), n: i32([2, 3], [4, 1, 4, -2, 7, 7]) },
    build: (_o, b, { x, n }) => [
      b.emit('argmax', [x!], { axis: 1 }),
      b.emit('argmin', [x!], { axis: 0 }),
      b.emit('argmax', [n!], { axis: 1 }),
      b.emit('cumsum', [x!], { axis: 1 }),
      b.emit('cumsum', [n!], { axis: 0 }),
    ],
  },
  {
    name: 'movement: reshape, permute, expand, slice, pad, flip, concat',
    inputs: { x: f32([2, 3, 4]), y: f32([2, 1, 4]) },
    build: (_o, b, { x, y }) => [
      b.emit('reshape', [x!], { shape: [6, 4] }),
      b.emit('permute', [x!], { perm: [2, 0, 1] }),
      b.emit('expand', [y!], { shape: [3, 2, 5, 4] }),
      b.emit('slice', [x!], { starts: [1, 0, 1], ends: [2, 3, 4], steps: [1, 2, 2] }),
      b.emit('pad', [x!], { pads: [0, 1, 2, 0, 1, 1], value: 1.5 }),
      b.emit('pad', [x!], { pads: [1, 0, 0, 0, 0, 2], value: -Infinity }),
      b.emit('flip', [x!], { axes: [0, 2] }),
      b.emit('concat', [x!, y!, x!], { axis: 1 }),
    ],
  },
  {
    name: 'unslice (contiguous and strided)',
    inputs: { x: f32([2, 3]), z: i32([2, 2], [1, 2, 3, 4]) },
    build: (_o, b, { x, z }) => [
      b.emit('unslice', [x!], { shape: [4, 5], starts: [1, 2], ends: [3, 5], steps: [1, 1] }),
      b.emit('unslice', [x!], { shape: [5, 8], starts: [0, 1], ends: [4, 8], steps: [3, 3] }),
      b.emit('unslice', [z!], { shape: [4, 3], starts: [1, 0], ends: [4, 3], steps: [2, 2] }),
    ],
  },
  {
    name: 'gather and scatter_add (negative indices, smaller index)',
    inputs: {
      x: f32([3, 4]),
      g: i32([3, 2], [0, 3, -1, 2, 1, 1]),
      s: i32([2, 3], [2, 0, 1, 2, -3, 1]),
      src: f32([3, 4]),
    },
    build: (_o, b, { x, g, s, src }) => [b.emit('gather', [x!, g!], { axis: 1 }), b.emit('scatter_add', [x!, s!, src!], { axis: 0 })],
  },
  {
    name: 'matmul with broadcast batch dims',
    inputs: { a: f32([2, 1, 3, 4]), b: f32([3, 4, 5]) },
    build: (_o, b, { a, b: c }) => [b.emit('matmul', [a!, c!], {})],
  },
  {
    name: 'matmul of transposed operands',
    inputs: { a: f32([2, 4, 3]), b: f32([2, 5, 4]) },
    build: (o, _b, { a, b }) => [o.matmulPrim(o.transpose(a!, -2, -1), o.transpose(b!, -2, -1))],
  },
  {
    name: 'scalar results, parameters and repeated values as outputs',
    inputs: { x: f32([3, 4]) },
    build: (o, _b, { x }) => [o.mean(x!), x!, o.exp(x!), o.exp(x!), x!],
  },
  {
    name: 'iota and constants',
    inputs: { x: f32([3, 4]) },
    build: (o, b, { x }) => [
      b.emit('add', [x!, b.emit('iota', [], { dtype: 'f32', shape: [3, 4], axis: 0 })], {}),
      b.emit('iota', [], { dtype: 'i32', shape: [2, 3, 2], axis: 1 }),
      o.mul(x!, o.full([3, 4], -0.5)),
    ],
  },
  {
    name: 'unfold (padding, stride, dilation) and fold',
    inputs: { x: f32([2, 3, 7, 6]), c: f32([1, 2 * 2 * 2, 8]) },
    build: (_o, b, { x, c }) => [
      b.emit('unfold', [x!], { kernel: [3, 2], stride: [2, 1], padding: [1, 0], dilation: [1, 2] }),
      b.emit('unfold', [x!], { kernel: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1] }),
      b.emit('fold', [c!], { kernel: [2, 2], stride: [1, 2], padding: [1, 0], dilation: [2, 1], outputSize: [4, 5] }),
    ],
  },
];


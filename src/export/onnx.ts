/**
 * ONNX export: the optimized graph (O2), one ONNX subgraph per kiln primitive, written as
 * an ONNX ModelProto (IR version 8, opset 17) with a small hand-written protobuf encoder.
 *
 * ```ts
 * const bytes = toOnnx(graph, new Map([['w1', w1], ['b1', b1]]));   // x stays an input
 * const session = await ort.InferenceSession.create(bytes);
 * const { out0 } = await session.run({ x: new ort.Tensor('float32', xs, [32, 784]) });
 * ```
 */
import { ArgumentError } from '../ir/errors.js';
import { formatLoc, type Graph, type Node, type Value } from '../ir/graph.js';
import { windowAttrs, windowOut } from '../ir/ops/conv.js';
import { isOpName, type OpName } from '../ir/ops/index.js';
import type { DType, Shape } from '../ir/types.js';
import { formatType, numel, stridesOf } from '../ir/types.js';
import { pipelines, runPasses } from '../passes/index.js';
import { encodeModel, type OnnxAttr, type OnnxElemType, type OnnxNode, type OnnxTensor, OnnxType, type OnnxValueInfo } from './onnx-proto.js';
import { bindParams, type ExportStorage, littleEndianBytes, type Weights } from './weights.js';

export interface OnnxOptions {
  /** The ONNX opset to target; 17 is the one implemented. */
  opset?: 17;
  /** `producer_name` in the model (default 'kiln'). */
  producer?: string;
  /** Names of the graph outputs (default `out0`, `out1`, ...). */
  outputNames?: readonly string[];
}

const ELEM: Record<DType, OnnxElemType> = { f32: OnnxType.FLOAT, i32: OnnxType.INT32, bool: OnnxType.BOOL };

/** The ONNX graph under construction: nodes, initializers (shared by content), fresh names. */
class OnnxEmitter {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly used = new Set<string>();
  private readonly constants = new Map<string, string>();

  /** A name not used before: `hint`, or `hint_1`, `hint_2`, ... */
  fresh(hint: string): string {
    let name = hint;
    for (let i = 1; this.used.has(name); i++) name = `${hint}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Appends a node with one output and returns the output's name. */
  node(opType: string, inputs: readonly string[], attrs: readonly OnnxAttr[] = [], hint = opType): string {
    const out = this.fresh(hint);
    this.nodes.push({ opType, inputs, outputs: [out], name: this.fresh(`${opType}_${this.nodes.length}`), attrs });
    return out;
  }

  initializer(name: string, elemType: OnnxElemType, dims: Shape, raw: Uint8Array): string {
    this.initializers.push({ name, elemType, dims: [...dims], raw });
    return name;
  }

  /** A constant tensor as an initializer, shared between identical uses. */
  constant(dtype: DType | 'i64', dims: Shape, values: ArrayLike<number>, hint = 'const'): string {
    const key = `${dtype}[${dims.join(',')}]:${Array.from(values, (x) => (Object.is(x, -0) ? '-0' : String(x))).join(',')}`;
    const hit = this.constants.get(key);
    if (hit) return hit;
    const name = this.fresh(hint);
    if (dtype === 'i64') this.initializer(name, OnnxType.INT64, dims, int64Bytes(values));
    else this.initializer(name, ELEM[dtype], dims, littleEndianBytes(storageOf(dtype, values)));
    this.constants.set(key, name);
    return name;
  }

  /** A 1-D int64 initializer (shapes, axes, starts, pads, ...). */
  ints(values: readonly number[], hint = 'ints'): string {
    return this.constant('i64', [values.length], values, hint);
  }

  scalar(value: number, dtype: DType | 'i64'): string {
    return this.constant(dtype, [], [value], 'scalar');
  }

  cast(x: string, to: DType | 'i64'): string {
    return this.node('Cast', [x], [{ name: 'to', int: to === 'i64' ? OnnxType.INT64 : ELEM[to] }]);
  }
}

function storageOf(dtype: DType, values: ArrayLike<number>): ExportStorage {
  return dtype === 'f32' ? Float32Array.from(values) : dtype === 'i32' ? Int32Array.from(values) : Uint8Array.from(values, (x) => (x ? 1 : 0));
}

function int64Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(8 * values.length);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setBigInt64(8 * i, BigInt(values[i]!), true);
  return out;
}

/** Lowers one kiln node, given the ONNX names of its inputs; returns the name of its value. */
type Lowering = (e: OnnxEmitter, n: Node, x: readonly string[]) => string;

const ints = (n: Node, key: string): number[] => n.attrs[key] as number[];
const int = (n: Node, key: string): number => n.attrs[key] as number;
const shapeOf = (v: Value | undefined): Shape => v!.type.shape;
const dtypeOf = (v: Value | undefined): DType => v!.type.dtype;

/** Runs `body` on int32 copies of bool operands (ONNX arithmetic has no bool), casting back. */
function viaInt(e: OnnxEmitter, n: Node, x: readonly string[], body: (xs: readonly string[]) => string): string {
  const bools = n.inputs.some((v) => v.type.dtype === 'bool');
  if (!bools) return body(x);
  const r = body(x.map((s, i) => (n.inputs[i]!.type.dtype === 'bool' ? e.cast(s, 'i32') : s)));
  return n.out.type.dtype === 'bool' && !isPredicate(n.op) ? e.cast(r, 'bool') : r;
}

const isPredicate = (op: OpName): boolean => ['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op);

/** An ONNX op on the same operands (float-only ops: kiln's dtype rules guarantee f32). */
const same =
  (opType: string): Lowering =>
  (e, n, x) =>
    viaInt(e, n, x, (xs) => e.node(opType, xs));

const logical =
  (opType: string): Lowering =>
  (e, n, x) =>
    e.node(
      opType,
      x.map((s, i) => (dtypeOf(n.inputs[i]) === 'bool' ? s : e.cast(s, 'bool'))),
    );

/** Reductions keep reduced dims (keepdims=1); no axes is the identity, not "reduce all". */
function reduce(opType: string, axesAsInput: boolean): Lowering {
  return (e, n, x) =>
    viaInt(e, n, x, ([a]) => {
      const axes = ints(n, 'axes');
      if (axes.length === 0) return e.node('Identity', [a!]);
      const keep = { name: 'keepdims', int: 1 };
      return axesAsInput ? e.node(opType, [a!, e.ints(axes, 'axes')], [keep]) : e.node(opType, [a!], [keep, { name: 'axes', ints: axes }]);
    });
}

function argReduce(opType: string): Lowering {
  return (e, n, x) => {
    const v = n.inputs[0]!;
    if (v.type.shape.length === 0) return e.constant('i32', [], [0]);
    const a = v.type.dtype === 'bool' ? e.cast(x[0]!, 'i32') : x[0]!;
    const r = e.node(opType, [a], [
      { name: 'axis', int: int(n, 'axis') },
      { name: 'keepdims', int: 1 },
      { name: 'select_last_index', int: 0 },
    ]);
    return e.cast(r, 'i32');
  };
}

function reshape(e: OnnxEmitter, x: string, shape: Shape): string {
  const attrs: OnnxAttr[] = shape.includes(0) ? [{ name: 'allowzero', int: 1 }] : [];
  return e.node('Reshape', [x, e.ints([...shape], 'shape')], attrs);
}

/** Constant padding: kiln's [b0, a0, b1, a1, ...] → ONNX's [b0, b1, ..., a0, a1, ...]. */
function pad(e: OnnxEmitter, x: string, dtype: DType, pads: readonly number[], value: number): string {
  if (pads.every((p) => p === 0)) return x;
  const r = pads.length / 2;
  const onnxPads = [...Array.from({ length: r }, (_, i) => pads[2 * i]!), ...Array.from({ length: r }, (_, i) => pads[2 * i + 1]!)];
  return e.node('Pad', [x, e.ints(onnxPads, 'pads'), e.scalar(value, dtype)], [{ name: 'mode', str: 'constant' }]);
}

function slice(e: OnnxEmitter, x: string, axes: number[], starts: number[], ends: number[], steps: number[]): string {
  if (axes.length === 0) return x;
  return e.node('Slice', [x, e.ints(starts, 'starts'), e.ints(ends, 'ends'), e.ints(axes, 'axes'), e.ints(steps, 'steps')]);
}

/** For a window sweep, each (ki, kj, oi, oj)'s flat position in the padded [Hp, Wp] image. */
function windowPositions(n: Node, image: Shape): { index: number[]; hp: number; wp: number; kk: number; l: number } {
  const w = windowAttrs(n.op, n.attrs);
  const [oh, ow] = windowOut(n.op, n.out.type, image, w);
  const hp = image[0]! + 2 * w.padding[0];
  const wp = image[1]! + 2 * w.padding[1];
  const index: number[] = [];
  for (let ki = 0; ki < w.kernel[0]; ki++) {
    for (let kj = 0; kj < w.kernel[1]; kj++) {
      for (let oi = 0; oi < oh; oi++) {
        for (let oj = 0; oj < ow; oj++) {
          index.push((oi * w.stride[0] + ki * w.dilation[0]) * wp + oj * w.stride[1] + kj * w.dilation[1]);
        }
      }
    }
  }
  return { index, hp, wp, kk: w.kernel[0] * w.kernel[1], l: oh * ow };
}

/** im2col, exactly: pad, flatten the image, gather every window position, regroup. */
const unfold: Lowering = (e, n, [x]) => {
  const [N, C, H, W] = shapeOf(n.inputs[0]) as [number, number, number, number];
  const w = windowAttrs('unfold', n.attrs);
  const { index, hp, wp, kk, l } = windowPositions(n, [H, W]);
  const padded = pad(e, x!, 'f32', [0, 0, 0, 0, w.padding[0], w.padding[0], w.padding[1], w.padding[1]], 0);
  const flat = reshape(e, padded, [N, C, hp * wp]);
  const cols = e.node('Gather', [flat, e.constant('i64', [kk, l], index, 'unfold_index')], [{ name: 'axis', int: 2 }]);
  return reshape(e, cols, [N, C * kk, l]);
};

/** col2im: scatter-add every window column into a zero padded image, then crop the padding. */
const fold: Lowering = (e, n, [x]) => {
  const [N, C, H, W] = n.out.type.shape as [number, number, number, number];
  const w = windowAttrs('fold', n.attrs);
  const { index, hp, wp, kk, l } = windowPositions(n, [H, W]);
  const cols = reshape(e, x!, [N, C, kk * l]);
  const idx = e.node('Expand', [e.constant('i64', [1, 1, kk * l], index, 'fold_index'), e.ints([N, C, kk * l], 'shape')]);
  const zeros = e.node('ConstantOfShape', [e.ints([N, C, hp * wp], 'shape')]);
  const summed = e.node('ScatterElements', [zeros, idx, cols], [
    { name: 'axis', int: 2 },
    { name: 'reduction', str: 'add' },
  ]);
  const image = reshape(e, summed, [N, C, hp, wp]);
  const [ph, pw] = w.padding;
  return ph || pw ? slice(e, image, [2, 3], [ph, pw], [ph + H, pw + W], [1, 1]) : image;
};

/**
 * unslice (slice's adjoint): strided dims spread their elements `step` apart (append step-1
 * zeros to each element, then drop the trailing ones), then one Pad places the block.
 */
const unslice: Lowering = (e, n, [x]) => {
  const out = n.out.type;
  const src = n.inputs[0]!.type;
  if (numel(src.shape) === 0) return e.node('ConstantOfShape', [e.ints([...out.shape], 'shape')], [{ name: 'value', tensor: splat(e, out.dtype, 0) }]);
  const starts = ints(n, 'starts');
  const steps = ints(n, 'steps');
  let cur = x!;
  const shape = [...src.shape];
  shape.forEach((len, d) => {
    const s = steps[d]!;
    if (s === 1 || len === 1) return;
    const withAxis = [...shape.slice(0, d + 1), 1, ...shape.slice(d + 1)];
    const pads = withAxis.flatMap((_, i) => (i === d + 1 ? [0, s - 1] : [0, 0]));
    const spread = pad(e, reshape(e, cur, withAxis), out.dtype, pads, 0);
    const merged = [...shape];
    merged[d] = len * s;
    cur = slice(e, reshape(e, spread, merged), [d], [0], [(len - 1) * s + 1], [1]);
    shape[d] = (len - 1) * s + 1;
  });
  return pad(e, cur, out.dtype, shape.flatMap((len, d) => [starts[d]!, out.shape[d]! - starts[d]! - len]), 0);
};

function splat(e: OnnxEmitter, dtype: DType, value: number): OnnxTensor {
  return { name: e.fresh('value'), elemType: ELEM[dtype], dims: [1], raw: littleEndianBytes(storageOf(dtype, [value])) };
}

function iotaValues(shape: Shape, axis: number): number[] {
  const st = stridesOf(shape);
  return Array.from({ length: numel(shape) }, (_, i) => Math.floor(i / st[axis]!) % shape[axis]!);
}

/** One lowering per primitive (a missing entry fails tsc). */
const lowerings = {
  const: (e, n) => {
    const t = n.out.type;
    const value = n.attrs.value as number;
    if (numel(t.shape) <= 1) return e.constant(t.dtype, t.shape, new Array<number>(numel(t.shape)).fill(value));
    return e.node('ConstantOfShape', [e.ints([...t.shape], 'shape')], [{ name: 'value', tensor: splat(e, t.dtype, value) }]);
  },
  // Shapes are static, so an iota is a precomputed initializer.
  iota: (e, n) => e.constant(n.out.type.dtype, n.out.type.shape, iotaValues(n.out.type.shape, int(n, 'axis')), 'iota'),

  neg: same('Neg'),
  abs: same('Abs'),
  sign: same('Sign'),
  exp: same('Exp'),
  log: same('Log'),
  log1p: (e, _n, [x]) => e.node('Log', [e.node('Add', [x!, e.scalar(1, 'f32')])]),
  expm1: (e, _n, [x]) => e.node('Sub', [e.node('Exp', [x!]), e.scalar(1, 'f32')]),
  sqrt: same('Sqrt'),
  rsqrt: (e, _n, [x]) => e.node('Reciprocal', [e.node('Sqrt', [x!])]),
  reciprocal: same('Reciprocal'),
  sin: same('Sin'),
  cos: same('Cos'),
  tanh: same('Tanh'),
  sigmoid: same('Sigmoid'),
  erf: same('Erf'),
  floor: same('Floor'),
  logical_not: (e, _n, x) => e.node('Not', x),

  add: same('Add'),
  sub: same('Sub'),
  mul: same('Mul'),
  div: same('Div'),
  pow: same('Pow'),
  maximum: same('Max'),
  minimum: same('Min'),
  eq: (e, _n, x) => e.node('Equal', x),
  ne: (e, _n, x) => e.node('Not', [e.node('Equal', x)]),
  lt: same('Less'),
  le: same('LessOrEqual'),
  gt: same('Greater'),
  ge: same('GreaterOrEqual'),
  logical_and: logical('And'),
  logical_or: logical('Or'),
  where: (e, _n, x) => e.node('Where', x),
  cast: (e, n, [x]) => e.cast(x!, n.out.type.dtype),

  // opset 13+: ReduceSum takes axes as an input; ReduceMax/Min/Prod only from opset 18.
  sum: reduce('ReduceSum', true),
  prod: reduce('ReduceProd', false),
  max: reduce('ReduceMax', false),
  min: reduce('ReduceMin', false),
  argmax: argReduce('ArgMax'),
  argmin: argReduce('ArgMin'),
  cumsum: (e, n, x) =>
    viaInt(e, n, x, ([a]) => (shapeOf(n.inputs[0]).length === 0 ? a! : e.node('CumSum', [a!, e.scalar(int(n, 'axis'), 'i64')]))),

  reshape: (e, n, [x]) => reshape(e, x!, n.out.type.shape),
  permute: (e, n, [x]) => e.node('Transpose', [x!], [{ name: 'perm', ints: ints(n, 'perm') }]),
  expand: (e, n, [x]) => e.node('Expand', [x!, e.ints([...n.out.type.shape], 'shape')]),
  slice: (e, n, [x]) => {
    const dims = shapeOf(n.inputs[0]);
    const [starts, ends, steps] = [ints(n, 'starts'), ints(n, 'ends'), ints(n, 'steps')];
    const axes = dims.map((_, d) => d).filter((d) => starts[d] !== 0 || ends[d] !== dims[d] || steps[d] !== 1);
    return slice(e, x!, axes, axes.map((d) => starts[d]!), axes.map((d) => ends[d]!), axes.map((d) => steps[d]!));
  },
  unslice,
  pad: (e, n, [x]) => pad(e, x!, n.out.type.dtype, ints(n, 'pads'), n.attrs.value as number),
  // A reversed Slice: from the last element down past the first (end -dim-1 clamps to "before 0").
  flip: (e, n, [x]) => {
    const dims = shapeOf(n.inputs[0]);
    const axes = ints(n, 'axes')
      .map((a) => (a < 0 ? a + dims.length : a))
      .filter((a) => dims[a]! > 1);
    return slice(e, x!, axes, axes.map((a) => dims[a]! - 1), axes.map((a) => -dims[a]! - 1), axes.map(() => -1));
  },
  concat: (e, n, x) => e.node('Concat', x, [{ name: 'axis', int: int(n, 'axis') }]),

  // ONNX accepts int32 indices for GatherElements / ScatterElements; negative ones count from the end, as in kiln.
  gather: (e, n, x) => e.node('GatherElements', x, [{ name: 'axis', int: int(n, 'axis') }]),
  scatter_add: (e, n, x) =>
    viaInt(e, n, x, ([base, index, src]) => {
      const it = n.inputs[1]!.type.shape;
      const st = n.inputs[2]!.type.shape;
      // ONNX wants updates shaped like the indices; torch reads the leading corner of src.
      const axes = st.map((_, d) => d).filter((d) => st[d] !== it[d]);
      const updates = slice(e, src!, axes, axes.map(() => 0), axes.map((d) => it[d]!), axes.map(() => 1));
      return e.node('ScatterElements', [base!, index!, updates], [
        { name: 'axis', int: int(n, 'axis') },
        { name: 'reduction', str: 'add' },
      ]);
    }),
  matmul: (e, _n, x) => e.node('MatMul', x),
  unfold,
  fold,
} satisfies Record<OpName, Lowering>;

/**
 * Exports `graph` as an ONNX model (bytes of a ModelProto). The graph is optimized first
 * (the O2 pipeline), so the export is the graph kiln runs. Parameters named in `weights`
 * become initializers; the others become the model's inputs, in parameter order. Outputs
 * are named `out0`, `out1`, ... (or `opts.outputNames`).
 * NOTE: bool arithmetic runs on int32 copies (ONNX arithmetic has no bool), then casts back.
 */
export function toOnnx(graph: Graph, weights: Weights, opts: OnnxOptions = {}): Uint8Array {
  const opset = opts.opset ?? 17;
  if (opset !== 17) throw new ArgumentError(`toOnnx: opset ${String(opset)} is not supported (supported: 17)`);
  for (const n of graph.nodes) {
    if (!isOpName(n.op)) {
      throw new ArgumentError(`toOnnx: op '${String(n.op)}' has no ONNX mapping (it computes %${n.out.id} : ${formatType(n.out.type)})`);
    }
  }
  const g = runPasses(graph, pipelines.O2);
  const bound = bindParams('toOnnx', g, weights, opts.outputNames);
  const e = new OnnxEmitter();
  const names = new Map<Value, string>();
  const inputs: OnnxValueInfo[] = [];
  for (const p of g.params) names.set(p, e.fresh(bound.paramNames.get(p)!));
  for (const [p, data] of bound.weights) e.initializer(names.get(p)!, ELEM[p.type.dtype], p.type.shape, littleEndianBytes(data));
  for (const p of bound.inputs) inputs.push({ name: names.get(p)!, elemType: ELEM[p.type.dtype], shape: p.type.shape });
  for (const o of bound.outputNames) e.fresh(o); // reserved for the outputs
  for (const n of g.nodes) {
    const lower: Lowering | undefined = (lowerings as Record<string, Lowering>)[n.op];
    if (!lower) throw new ArgumentError(`toOnnx: op '${n.op}' has no ONNX mapping`);
    const first = e.nodes.length;
    names.set(n.out, lower(e, n, n.inputs.map((v) => names.get(v)!)));
    const doc = `kiln: %${n.out.id} = ${n.op}${n.origin ? ` in ${n.origin}` : ''}${n.loc ? ` at ${formatLoc(n.loc)}` : ''}`;
    for (const node of e.nodes.slice(first)) node.doc = doc;
  }
  const outputs = g.outputs.map((v, i): OnnxValueInfo => {
    const name = bound.outputNames[i]!;
    e.nodes.push({ opType: 'Identity', inputs: [names.get(v)!], outputs: [name], name: e.fresh(`Identity_${name}`), attrs: [] });
    return { name, elemType: ELEM[v.type.dtype], shape: v.type.shape };
  });
  return encodeModel({
    irVersion: 8,
    opset,
    producerName: opts.producer ?? 'kiln',
    producerVersion: '0.1.0',
    graph: { name: g.name, nodes: e.nodes, initializers: e.initializers, inputs, outputs },
  });
}


/**
 * What model files can use of kiln, and how forward code lowers it onto `Ops<Value>`:
 * the op vocabulary (`F.softmax`, `relu`, `cat`), the tensor factories (`zeros`, `arange`,
 * `tensor` of literal numbers), and the library layers (`nn.Linear`, `nn.Conv2d`, ...).
 */
import type { Node } from 'ts-morph';
import * as eager from '../frontend-eager/index.js';
import { F, type Tensor } from '../frontend-eager/index.js';
import * as errors from '../ir/errors.js';
import { Value } from '../ir/graph.js';
import type { Ops } from '../ir/lang/index.js';
import type { DType, Shape } from '../ir/types.js';
import { DTYPES, formatType } from '../ir/types.js';
import * as stdlib from '../stdlib-nn/index.js';
import { nn } from '../stdlib-nn/index.js';
import { fail } from './diagnostics.js';
import { ArgReader, fromOps } from './tensor-methods.js';
import { describe, Lib, Obj, type SVal } from './values.js';

/** The names `import { ... } from 'kiln'` can bring into a model file. */
export const KILN: Readonly<Record<string, unknown>> = { ...errors, ...eager, ...stdlib };

/** `import { name } from 'kiln'` as a compile-time value. */
export function kilnExport(name: string): Lib | undefined {
  return Object.hasOwn(KILN, name) ? new Lib(name, KILN[name], 'kiln') : undefined;
}

/** The op vocabulary by function identity: `F.relu` and the free `relu` are both 'relu'. */
const VOCABULARY: ReadonlyMap<unknown, string> = new Map(
  Object.entries(F).flatMap(([k, v]) => (typeof v === 'function' ? [[v, k] as const] : [])),
);

/** Whether `v` is a function of the op vocabulary. */
export function isVocabulary(v: unknown): boolean {
  return VOCABULARY.has(v);
}

// ---- factories in forward code ----

type FactoryRule = (o: Ops<Value>, a: ArgReader) => Value;

function dtypeOpt(a: ArgReader, i: number, dflt: DType): DType {
  const v = a.vals[i];
  if (v === undefined) return dflt;
  const d = v instanceof Obj ? v.props.get('dtype') : undefined;
  if (!(v instanceof Obj)) return fail(a.site, `${a.what}: argument ${i + 1} must be an options object ({ dtype: 'i32' }), got ${describe(v)}`);
  if (d === undefined) return dflt;
  if (typeof d === 'string' && (DTYPES as readonly string[]).includes(d)) return d as DType;
  return fail(a.site, `${a.what}: dtype must be one of ${DTYPES.join(', ')}, got ${describe(d)}`);
}

function shapeArg(a: ArgReader, i: number): number[] {
  const v = a.vals[i];
  if (Array.isArray(v) && v.every((d) => typeof d === 'number')) return v as number[];
  return fail(a.site, `${a.what}: argument ${i + 1} must be a shape (an array of numbers), got ${describe(v)}`);
}

/** Largest literal tensor forward code may spell out element by element. */
const MAX_LITERAL = 4096;

/** A constant tensor of given values: one fill when they agree, else concatenated scalars. */
function literal(o: Ops<Value>, values: readonly number[], shape: Shape, dtype: DType, a: ArgReader): Value {
  if (values.every((v) => v === values[0])) return o.full(shape, values[0] ?? 0, dtype);
  if (values.length > MAX_LITERAL) {
    return fail(a.site, `${a.what}: a literal of ${values.length} elements is too large for model code (at most ${MAX_LITERAL}): register it as a buffer in the constructor`);
  }
  return o.reshape(o.concat(values.map((v) => o.full([1], v, dtype)), 0), shape);
}

/** `tensor([[1, 2], [3, 4]])` with literal (compile-time) numbers. */
function literalTensor(o: Ops<Value>, a: ArgReader): Value {
  const shape: number[] = [];
  const flat: number[] = [];
  let sawBool = false;
  const walk = (v: SVal, depth: number): void => {
    if (Array.isArray(v)) {
      if (depth === shape.length) shape.push(v.length);
      else if (shape[depth] !== v.length) fail(a.site, `${a.what}: ragged nested array (expected length ${shape[depth]} at depth ${depth})`);
      for (const x of v) walk(x, depth + 1);
      return;
    }
    if (typeof v === 'number' || typeof v === 'boolean') {
      if (depth !== shape.length) fail(a.site, `${a.what}: ragged nested array (a number at depth ${depth})`);
      sawBool ||= typeof v === 'boolean';
      flat.push(Number(v));
      return;
    }
    fail(
      a.site,
      `${a.what}: in model code tensor() takes literal numbers (compile-time values), got ${describe(v)}: to combine tensors use stack([...]) or cat([...]); run-time data must come in as a model input`,
    );
  };
  walk(a.vals[0], 0);
  return literal(o, flat, shape, dtypeOpt(a, 1, sawBool ? 'bool' : 'f32'), a);
}

const FACTORIES: ReadonlyMap<unknown, FactoryRule> = new Map<unknown, FactoryRule>([
  [eager.zeros, (o, a) => o.full(shapeArg(a, 0), 0, dtypeOpt(a, 1, 'f32'))],
  [eager.ones, (o, a) => o.full(shapeArg(a, 0), 1, dtypeOpt(a, 1, 'f32'))],
  [eager.full, (o, a) => o.full(shapeArg(a, 0), a.number(1), dtypeOpt(a, 2, 'f32'))],
  [eager.zerosLike, (o, a) => o.full(a.tensor(0).type.shape, 0, dtypeOpt(a, 1, a.tensor(0).type.dtype))],
  [eager.onesLike, (o, a) => o.full(a.tensor(0).type.shape, 1, dtypeOpt(a, 1, a.tensor(0).type.dtype))],
  [eager.fullLike, (o, a) => o.full(a.tensor(0).type.shape, a.number(1), dtypeOpt(a, 2, a.tensor(0).type.dtype))],
  [
    eager.arange,
    (o, a) => {
      let [start, end] = [a.number(0), a.optNumber(1)];
      if (end === undefined) [start, end] = [0, start];
      const step = a.optNumber(2) ?? 1;
      if (step === 0) return fail(a.site, 'arange: step must be nonzero');
      const n = Math.max(0, Math.ceil((end - start) / step));
      return literal(o, Array.from({ length: n }, (_, i) => start + i * step), [n], dtypeOpt(a, 3, 'f32'), a);
    },
  ],
  [
    eager.linspace,
    (o, a) => {
      const [start, end, steps] = [a.number(0), a.number(1), a.number(2)];
      const step = steps > 1 ? (end - start) / (steps - 1) : 0;
      const vals = Array.from({ length: steps }, (_, i) => (i < steps / 2 ? start + i * step : end - (steps - 1 - i) * step));
      return literal(o, vals, [steps], dtypeOpt(a, 3, 'f32'), a);
    },
  ],
  [
    eager.eye,
    (o, a) => {
      const n = a.number(0);
      const m = a.optNumber(1) ?? n;
      return o.cast(o.eq(o.iota([n, m], 0), o.iota([n, m], 1)), dtypeOpt(a, 2, 'f32'));
    },
  ],
  [eager.tensor, literalTensor],
]);

const RANDOM = 'random tensors are not supported in model code (a compiled graph has no random source): pass the noise in as a model input, or create it in the constructor as a buffer';
const GRAD_MODE = 'autograd switches are not part of model code (a compiled forward graph records nothing): remove it; gradients of the compiled graph come from the VJP transform';
const TRANSFORM = 'function transforms run at run time, not inside model code: compile the model, then transform the compiled graph';
const FILES = 'file I/O is not supported in model code: load weights outside the model (loadStateDict / instantiate)';

/** kiln functions that forward code must not call, and why. */
const NOT_IN_MODEL: ReadonlyMap<unknown, string> = new Map<unknown, string>([
  [eager.rand, RANDOM],
  [eager.randn, RANDOM],
  [eager.randLike, RANDOM],
  [eager.randnLike, RANDOM],
  [eager.manualSeed, RANDOM],
  [eager.noGrad, GRAD_MODE],
  [eager.enableGrad, GRAD_MODE],
  [eager.setGradEnabled, GRAD_MODE],
  [eager.grad, TRANSFORM],
  [eager.valueAndGrad, TRANSFORM],
  [eager.vjp, TRANSFORM],
  [eager.jvp, TRANSFORM],
  [eager.jit, TRANSFORM],
  [eager.trace, TRANSFORM],
  [eager.fromStorage, 'fromStorage wraps run-time data: run-time data must come in as a model input; constants can be tensor() of literal numbers'],
  [stdlib.loadFile, FILES],
  [stdlib.saveFile, FILES],
]);

/** A call of something of kiln's in forward code. */
export function callKilnForward(o: Ops<Value>, lib: Lib, args: readonly SVal[], site: Node): SVal {
  const a = new ArgReader(lib.path, args, site);
  const op = VOCABULARY.get(lib.value);
  if (op !== undefined) {
    const fn = o[op as keyof Ops<Value>] as (...xs: unknown[]) => unknown;
    return fromOps(fn(...a.all()));
  }
  const factory = FACTORIES.get(lib.value);
  if (factory) return factory(o, a);
  const why = NOT_IN_MODEL.get(lib.value);
  if (why) return fail(site, `${lib.path}(...): ${why}`);
  return fail(
    site,
    `${lib.path}(...) is not supported in model code: forward code can call tensor methods, F.* (the op functions), the factories zeros/ones/full/arange/linspace/eye/tensor, layers, and functions of model files`,
  );
}

// ---- library layers in forward code ----

/** What a layer's lowering gets besides the layer and its inputs. */
export interface LayerCtx {
  readonly o: Ops<Value>;
  readonly training: boolean;
  /** The graph value of one of the layer's parameters or buffers (null stays null). */
  p(t: Tensor | null): Value | null;
  fail(message: string): never;
}

interface LayerRule<M> {
  /** Number of tensor arguments of forward. */
  arity: number;
  lower(c: LayerCtx, m: M, xs: readonly Value[]): Value;
}

type LayerName =
  | 'Identity' | 'Linear' | 'Conv1d' | 'Conv2d' | 'LayerNorm' | 'BatchNorm1d' | 'BatchNorm2d' | 'Dropout' | 'Embedding'
  | 'Flatten' | 'Unflatten' | 'ReLU' | 'Tanh' | 'Sigmoid' | 'GELU' | 'SiLU' | 'LeakyReLU' | 'ELU' | 'Softplus' | 'Softmax'
  | 'LogSoftmax' | 'MaxPool2d' | 'AvgPool2d' | 'AdaptiveAvgPool2d' | 'CrossEntropyLoss' | 'NLLLoss' | 'MSELoss' | 'L1Loss'
  | 'SmoothL1Loss' | 'BCELoss' | 'BCEWithLogitsLoss';

const unary = <M>(lower: (o: Ops<Value>, m: M, x: Value) => Value): LayerRule<M> => ({ arity: 1, lower: (c, m, [x]) => lower(c.o, m, x!) });
const loss = <M>(lower: (o: Ops<Value>, m: M, x: Value, y: Value) => Value): LayerRule<M> => ({ arity: 2, lower: (c, m, [x, y]) => lower(c.o, m, x!, y!) });

function batchNorm(c: LayerCtx, m: stdlib.BatchNorm1d | stdlib.BatchNorm2d, x: Value, ranks: readonly number[]): Value {
  const r = x.type.shape.length;
  if (!ranks.includes(r)) {
    c.fail(`${m.moduleName()}: expected ${ranks.map((d) => `${d}D`).join(' or ')} input (got ${r}D input ${formatType(x.type)})`);
  }
  const rm = m.runningMean;
  const rv = m.runningVar;
  // NOTE: in training mode the eager layer also updates its running statistics; a forward graph cannot.
  const batchStats = c.training || rm === null || rv === null;
  return c.o.batchNorm(x, c.p(rm), c.p(rv), c.p(m.weight), c.p(m.bias), batchStats, m.momentum ?? 0, m.eps);
}

/** Each supported layer's forward over the vocabulary, with the layer's own settings. */
const LAYERS: { readonly [K in LayerName]: LayerRule<InstanceType<(typeof nn)[K]>> } = {
  Identity: unary((_o, _m, x) => x),
  Linear: { arity: 1, lower: (c, m, [x]) => c.o.linear(x!, c.p(m.weight)!, c.p(m.bias)) },
  Conv1d: { arity: 1, lower: (c, m, [x]) => c.o.conv1d(x!, c.p(m.weight)!, c.p(m.bias), m.stride, m.padding, m.dilation, m.groups) },
  Conv2d: { arity: 1, lower: (c, m, [x]) => c.o.conv2d(x!, c.p(m.weight)!, c.p(m.bias), m.stride, m.padding, m.dilation, m.groups) },
  LayerNorm: { arity: 1, lower: (c, m, [x]) => c.o.layerNorm(x!, m.normalizedShape, c.p(m.weight), c.p(m.bias), m.eps) },
  BatchNorm1d: { arity: 1, lower: (c, m, [x]) => batchNorm(c, m, x!, [2, 3]) },
  BatchNorm2d: { arity: 1, lower: (c, m, [x]) => batchNorm(c, m, x!, [4]) },
  Dropout: {
    arity: 1,
    lower: (c, m, [x]) =>
      c.training && m.p > 0
        ? c.fail(`Dropout(p=${m.p}) in training mode needs random numbers, which a compiled model graph does not have: compile in eval mode (training: false), where dropout is the identity`)
        : x!,
  },
  Embedding: { arity: 1, lower: (c, m, [x]) => c.o.embedding(x!, c.p(m.weight)!) },
  Flatten: unary((o, m, x) => o.flatten(x, m.startDim, m.endDim)),
  Unflatten: {
    arity: 1,
    lower: (c, m, [x]) => {
      const s = x!.type.shape;
      const d = m.dim < 0 ? m.dim + s.length : m.dim;
      if (!(d >= 0 && d < s.length)) c.fail(`Unflatten: dim ${m.dim} is out of range for ${formatType(x!.type)}`);
      return c.o.reshape(x!, [...s.slice(0, d), ...m.unflattenedSize, ...s.slice(d + 1)]);
    },
  },
  ReLU: unary((o, _m, x) => o.relu(x)),
  Tanh: unary((o, _m, x) => o.tanh(x)),
  Sigmoid: unary((o, _m, x) => o.sigmoid(x)),
  GELU: unary((o, m, x) => o.gelu(x, { approximate: m.approximate })),
  SiLU: unary((o, _m, x) => o.silu(x)),
  LeakyReLU: unary((o, m, x) => o.leakyRelu(x, m.negativeSlope)),
  ELU: unary((o, m, x) => o.elu(x, m.alpha)),
  Softplus: unary((o, m, x) => o.softplus(x, m.beta, m.threshold)),
  Softmax: unary((o, m, x) => o.softmax(x, m.dim)),
  LogSoftmax: unary((o, m, x) => o.logSoftmax(x, m.dim)),
  MaxPool2d: unary((o, m, x) => o.maxPool2d(x, m.kernelSize, m.stride, m.padding, m.dilation, m.ceilMode)),
  AvgPool2d: unary((o, m, x) => o.avgPool2d(x, m.kernelSize, m.stride, m.padding, m.ceilMode, m.countIncludePad, m.divisorOverride)),
  AdaptiveAvgPool2d: unary((o, m, x) => o.adaptiveAvgPool2d(x, m.outputSize)),
  CrossEntropyLoss: loss((o, m, x, y) => o.crossEntropy(x, y, { reduction: m.reduction, labelSmoothing: m.labelSmoothing, ignoreIndex: m.ignoreIndex })),
  NLLLoss: loss((o, m, x, y) => o.nllLoss(x, y, { reduction: m.reduction, ignoreIndex: m.ignoreIndex })),
  MSELoss: loss((o, m, x, y) => o.mseLoss(x, y, { reduction: m.reduction })),
  L1Loss: loss((o, m, x, y) => o.l1Loss(x, y, { reduction: m.reduction })),
  SmoothL1Loss: loss((o, m, x, y) => o.smoothL1Loss(x, y, { reduction: m.reduction, beta: m.beta })),
  BCELoss: loss((o, m, x, y) => o.binaryCrossEntropy(x, y, { reduction: m.reduction })),
  BCEWithLogitsLoss: loss((o, m, x, y) => o.binaryCrossEntropyWithLogits(x, y, { reduction: m.reduction })),
};

/** The names of the supported layers, for messages and the README. */
export const SUPPORTED_LAYERS: readonly string[] = [...Object.keys(LAYERS), 'Sequential', 'ModuleList'];

/** A layer rule over `Module`, for lookup by class. */
function erase<K extends LayerName>(name: K): [unknown, { name: string; rule: LayerRule<stdlib.Module> }] {
  const r: LayerRule<InstanceType<(typeof nn)[K]>> = LAYERS[name];
  // NOTE: the lookup below is by exact constructor, so `m` is an instance of nn[name].
  return [nn[name], { name, rule: { arity: r.arity, lower: (c, m, xs) => r.lower(c, m as InstanceType<(typeof nn)[K]>, xs) } }];
}

const RULES = new Map((Object.keys(LAYERS) as LayerName[]).map(erase));

/** The lowering of a library layer, by its exact class (subclasses of layers are not layers here). */
export function layerRule(m: stdlib.Module): { name: string; rule: LayerRule<stdlib.Module> } | undefined {
  return RULES.get(m.constructor);
}

/** Whether `ctor` is a class of `nn` (a layer, container or loss) or Module itself. */
export function isKilnModuleClass(ctor: unknown): boolean {
  return typeof ctor === 'function' && (ctor === stdlib.Module || ctor.prototype instanceof stdlib.Module);
}

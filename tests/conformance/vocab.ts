import { ArgumentError } from '../../src/ir/errors.js';
import type { Ops } from '../../src/ir/lang/index.js';
import type { ConvPadding, Reduction, Size2 } from '../../src/ir/lang/index.js';

/** One positional argument of a conformance program step: a tensor, a number or a tensor list. */
export type OpArg<T> = T | number | T[];

/**
 * Binds a step's positional `args` and PyTorch `kwargs` to PyTorch's parameter names, so each
 * op reads its parameters by name wherever they came from.
 */
class Params<T> {
  constructor(
    readonly op: string,
    private readonly names: readonly string[],
    private readonly args: readonly OpArg<T>[],
    private readonly kwargs: Record<string, unknown>,
  ) {
    if (args.length > names.length) {
      throw new ArgumentError(`${op}: takes at most ${names.length} positional arguments (${names.join(', ')}), got ${args.length}`);
    }
    for (const k of Object.keys(kwargs)) {
      const i = names.indexOf(k);
      if (i < 0) throw new ArgumentError(`${op}: unexpected keyword argument '${k}'`);
      if (i < args.length) throw new ArgumentError(`${op}: got multiple values for argument '${k}'`);
    }
  }

  /** The raw value of a parameter (undefined when absent). */
  value(name: string): unknown {
    return this.raw(name);
  }

  private raw(name: string): unknown {
    const i = this.names.indexOf(name);
    if (i < 0) throw new Error(`vocab: ${this.op} has no parameter '${name}'`); // a bug in this table
    return i < this.args.length ? this.args[i] : this.kwargs[name];
  }

  private fail(name: string, want: string, got: unknown): never {
    throw new ArgumentError(`${this.op}: argument '${name}' must be ${want}, got ${describe(got)}`);
  }

  has(name: string): boolean {
    const v = this.raw(name);
    return v !== undefined && v !== null;
  }

  tensor(name: string): T {
    const v = this.raw(name);
    if (!isTensor<T>(v)) this.fail(name, 'a tensor', v);
    return v;
  }

  optTensor(name: string): T | null {
    return this.has(name) ? this.tensor(name) : null;
  }

  operand(name: string): T | number {
    const v = this.raw(name);
    if (typeof v === 'number' || typeof v === 'string') return this.num(name, NaN);
    if (!isTensor<T>(v)) this.fail(name, 'a tensor or a number', v);
    return v;
  }

  tensors(name: string): T[] {
    const v = this.raw(name);
    if (!Array.isArray(v) || !v.every((x) => isTensor<T>(x))) this.fail(name, 'a list of tensors', v);
    return v as T[];
  }

  num(name: string, dflt: number): number {
    const v = this.raw(name);
    if (v === undefined || v === null) return dflt;
    const n = toNumber(v);
    if (n === undefined) this.fail(name, 'a number', v);
    return n;
  }

  optNum(name: string): number | null {
    return this.has(name) ? this.num(name, NaN) : null;
  }

  ints(name: string, dflt?: number[]): number[] {
    const v = this.raw(name);
    if ((v === undefined || v === null) && dflt) return dflt;
    if (typeof v === 'number') return [v];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) this.fail(name, 'a list of integers', v);
    return v as number[];
  }

  /** An int, a list of ints, or null/absent (→ null). */
  dims(name: string): number | number[] | null {
    if (!this.has(name)) return null;
    const v = this.raw(name);
    return typeof v === 'number' ? v : this.ints(name);
  }

  size2(name: string, dflt: Size2): Size2 {
    return this.has(name) ? (typeof this.raw(name) === 'number' ? this.num(name, 0) : this.ints(name)) : dflt;
  }

  bool(name: string, dflt: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') this.fail(name, 'a boolean', v);
    return v;
  }

  str<S extends string>(name: string, dflt: S): S {
    const v = this.raw(name);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'string') this.fail(name, 'a string', v);
    return v as S;
  }

  reduction(): Reduction {
    this.unsupported('size_average', 'reduce');
    return this.str<Reduction>('reduction', 'mean');
  }

  /** Parameters kiln does not implement must be absent or null. */
  unsupported(...names: string[]): void {
    for (const n of names) {
      if (this.names.includes(n) && this.has(n)) throw new ArgumentError(`${this.op}: argument '${n}' is not supported`);
    }
  }
}

function isTensor<T>(v: unknown): v is T {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  if (v === 'nan') return NaN;
  return undefined;
}

function describe(v: unknown): string {
  if (isTensor(v)) return 'a tensor';
  return JSON.stringify(v) ?? String(v);
}

type Handler = <T>(o: Ops<T>, p: Params<T>) => T;
interface Entry {
  params: readonly string[];
  run: Handler;
}

const IN = ['input'];
const BIN = ['input', 'other'];
const REDUCE = ['input', 'dim', 'keepdim'];
const LOSS = ['input', 'target', 'size_average', 'reduce', 'reduction'];

function unary(name: 'neg' | 'abs' | 'exp' | 'log' | 'log1p' | 'expm1' | 'sqrt' | 'rsqrt' | 'reciprocal' | 'square' | 'sin' | 'cos' | 'tanh' | 'sigmoid' | 'relu' | 'silu' | 'floor' | 'sign' | 'erf' | 'contiguous' | 'clone'): Entry {
  return { params: IN, run: (o, p) => o[name](p.tensor('input')) };
}

function binary(name: 'add' | 'sub' | 'mul' | 'pow' | 'maximum' | 'minimum' | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', second = 'other'): Entry {
  return { params: ['input', second], run: (o, p) => o[name](p.operand('input'), p.operand(second)) };
}

function reduce(name: 'sum' | 'mean' | 'amax' | 'amin' | 'logsumexp'): Entry {
  return { params: REDUCE, run: (o, p) => o[name](p.tensor('input'), p.dims('dim'), p.bool('keepdim', false)) };
}

/** `max(x, dim)` values, or `max(a, b)` = maximum when the second argument is a tensor. */
function extreme(name: 'max' | 'min'): Entry {
  return {
    params: REDUCE,
    run: (o, p) => {
      if (isTensor(p.value('dim'))) {
        return o[name === 'max' ? 'maximum' : 'minimum'](p.tensor('input'), p.tensor('dim'));
      }
      const d = p.dims('dim');
      if (Array.isArray(d)) throw new ArgumentError(`${name}: dim must be an int, got ${JSON.stringify(d)}`);
      return o[name](p.tensor('input'), d, p.bool('keepdim', false));
    },
  };
}

function arg(name: 'argmax' | 'argmin'): Entry {
  return {
    params: REDUCE,
    run: (o, p) => {
      const d = p.dims('dim');
      if (Array.isArray(d)) throw new ArgumentError(`${name}: dim must be an int, got ${JSON.stringify(d)}`);
      return o[name](p.tensor('input'), d, p.bool('keepdim', false));
    },
  };
}

function variance(name: 'var' | 'std'): Entry {
  return {
    params: ['input', 'dim', 'unbiased', 'keepdim', 'correction'],
    run: (o, p) => {
      const correction = p.has('correction') ? p.num('correction', 1) : p.bool('unbiased', true) ? 1 : 0;
      return o[name](p.tensor('input'), p.dims('dim'), { correction, keepdim: p.bool('keepdim', false) });
    },
  };
}

function loss(name: 'mseLoss' | 'l1Loss'): Entry {
  return { params: [...LOSS, 'weight'], run: (o, p) => (p.unsupported('weight'), o[name](p.tensor('input'), p.tensor('target'), { reduction: p.reduction() })) };
}

/** `f(x, dim, index)` in PyTorch; conformance programs pass `x, index` with `dim` as a keyword. */
function indexed(name: 'indexSelect' | 'gather'): Entry {
  return {
    params: ['input', 'index', 'dim', 'sparse_grad'],
    run: (o, p) => (p.unsupported('sparse_grad'), o[name](p.tensor('input'), p.num('dim', NaN), p.tensor('index'))),
  };
}

function pool(name: 'max_pool2d' | 'avg_pool2d'): Entry {
  return name === 'max_pool2d'
    ? {
        params: ['input', 'kernel_size', 'stride', 'padding', 'dilation', 'ceil_mode', 'return_indices'],
        run: (o, p) => {
          if (p.bool('return_indices', false)) throw new ArgumentError('max_pool2d: return_indices=True is not supported');
          const stride = p.has('stride') ? p.size2('stride', 1) : null;
          return o.maxPool2d(p.tensor('input'), p.size2('kernel_size', 1), stride, p.size2('padding', 0), p.size2('dilation', 1), p.bool('ceil_mode', false));
        },
      }
    : {
        params: ['input', 'kernel_size', 'stride', 'padding', 'ceil_mode', 'count_include_pad', 'divisor_override'],
        run: (o, p) => {
          const stride = p.has('stride') ? p.size2('stride', 1) : null;
          return o.avgPool2d(
            p.tensor('input'),
            p.size2('kernel_size', 1),
            stride,
            p.size2('padding', 0),
            p.bool('ceil_mode', false),
            p.bool('count_include_pad', true),
            p.optNum('divisor_override'),
          );
        },
      };
}

function conv(name: 'conv1d' | 'conv2d'): Entry {
  return {
    params: ['input', 'weight', 'bias', 'stride', 'padding', 'dilation', 'groups'],
    run: (o, p) => {
      const padding = paddingOf(p);
      return o[name](p.tensor('input'), p.tensor('weight'), p.optTensor('bias'), p.size2('stride', 1), padding, p.size2('dilation', 1), p.num('groups', 1));
    },
  };
}

function paddingOf<T>(p: Params<T>): ConvPadding {
  const v = p.value('padding');
  return v === 'valid' || v === 'same' ? v : p.size2('padding', 0);
}

/** Every op of FORMAT.md's vocabulary, by its conformance name. */
const VOCAB: Record<string, Entry> = {
  // unary
  neg: unary('neg'),
  abs: unary('abs'),
  exp: unary('exp'),
  log: unary('log'),
  log1p: unary('log1p'),
  expm1: unary('expm1'),
  sqrt: unary('sqrt'),
  rsqrt: unary('rsqrt'),
  reciprocal: unary('reciprocal'),
  square: unary('square'),
  sin: unary('sin'),
  cos: unary('cos'),
  tanh: unary('tanh'),
  sigmoid: unary('sigmoid'),
  relu: unary('relu'),
  silu: unary('silu'),
  floor: unary('floor'),
  sign: unary('sign'),
  erf: unary('erf'),
  gelu: { params: ['input', 'approximate'], run: (o, p) => o.gelu(p.tensor('input'), { approximate: p.str('approximate', 'none') }) },
  softplus: { params: ['input', 'beta', 'threshold'], run: (o, p) => o.softplus(p.tensor('input'), p.num('beta', 1), p.num('threshold', 20)) },
  elu: { params: ['input', 'alpha', 'inplace'], run: (o, p) => o.elu(p.tensor('input'), p.num('alpha', 1)) },
  leaky_relu: { params: ['input', 'negative_slope', 'inplace'], run: (o, p) => o.leakyRelu(p.tensor('input'), p.num('negative_slope', 0.01)) },
  clamp: {
    params: ['input', 'min', 'max'],
    run: (o, p) => o.clamp(p.tensor('input'), p.has('min') ? p.operand('min') : null, p.has('max') ? p.operand('max') : null),
  },

  // binary
  add: binary('add'),
  sub: binary('sub'),
  mul: binary('mul'),
  div: {
    params: ['input', 'other', 'rounding_mode'],
    run: (o, p) => o.div(p.operand('input'), p.operand('other'), { roundingMode: p.has('rounding_mode') ? p.str<'trunc' | 'floor'>('rounding_mode', 'trunc') : null }),
  },
  pow: binary('pow', 'exponent'),
  maximum: binary('maximum'),
  minimum: binary('minimum'),
  eq: binary('eq'),
  ne: binary('ne'),
  lt: binary('lt'),
  le: binary('le'),
  gt: binary('gt'),
  ge: binary('ge'),
  where: {
    params: ['condition', 'input', 'other'],
    run: (o, p) => o.where(p.tensor('condition'), p.operand('input'), p.operand('other')),
  },

  // reductions
  sum: reduce('sum'),
  mean: reduce('mean'),
  amax: reduce('amax'),
  amin: reduce('amin'),
  logsumexp: reduce('logsumexp'),
  prod: {
    params: REDUCE,
    run: (o, p) => {
      const d = p.dims('dim');
      if (Array.isArray(d)) throw new ArgumentError(`prod: dim must be an int or None, got ${JSON.stringify(d)}`);
      return o.prod(p.tensor('input'), d, p.bool('keepdim', false));
    },
  },
  var: variance('var'),
  std: variance('std'),
  max: extreme('max'),
  min: extreme('min'),
  argmax: arg('argmax'),
  argmin: arg('argmin'),
  cumsum: { params: ['input', 'dim'], run: (o, p) => o.cumsum(p.tensor('input'), p.num('dim', NaN)) },
  norm: {
    params: ['input', 'p', 'dim', 'keepdim'],
    run: (o, p) => o.norm(p.tensor('input'), p.value('p') === 'fro' ? 'fro' : p.num('p', 2), p.dims('dim'), p.bool('keepdim', false)),
  },

  // shape
  reshape: { params: ['input', 'shape'], run: (o, p) => o.reshape(p.tensor('input'), p.ints('shape')) },
  view: { params: ['input', 'shape'], run: (o, p) => o.view(p.tensor('input'), p.ints('shape')) },
  flatten: { params: ['input', 'start_dim', 'end_dim'], run: (o, p) => o.flatten(p.tensor('input'), p.num('start_dim', 0), p.num('end_dim', -1)) },
  squeeze: { params: ['input', 'dim'], run: (o, p) => o.squeeze(p.tensor('input'), p.dims('dim')) },
  unsqueeze: { params: ['input', 'dim'], run: (o, p) => o.unsqueeze(p.tensor('input'), p.num('dim', NaN)) },
  transpose: { params: ['input', 'dim0', 'dim1'], run: (o, p) => o.transpose(p.tensor('input'), p.num('dim0', NaN), p.num('dim1', NaN)) },
  permute: { params: ['input', 'dims'], run: (o, p) => o.permute(p.tensor('input'), p.ints('dims')) },
  expand: { params: ['input', 'size'], run: (o, p) => o.expand(p.tensor('input'), p.ints('size')) },
  broadcast_to: { params: ['input', 'size'], run: (o, p) => o.broadcastTo(p.tensor('input'), p.ints('size')) },
  narrow: {
    params: ['input', 'dim', 'start', 'length'],
    run: (o, p) => o.narrow(p.tensor('input'), p.num('dim', NaN), p.num('start', NaN), p.num('length', NaN)),
  },
  slice: {
    params: ['input', 'dim', 'start', 'end', 'step'],
    run: (o, p) => o.slice(p.tensor('input'), p.num('dim', 0), p.optNum('start'), p.optNum('end'), p.num('step', 1)),
  },
  flip: { params: ['input', 'dims'], run: (o, p) => o.flip(p.tensor('input'), p.ints('dims')) },
  cat: { params: ['tensors', 'dim'], run: (o, p) => o.cat(p.tensors('tensors'), p.num('dim', 0)) },
  stack: { params: ['tensors', 'dim'], run: (o, p) => o.stack(p.tensors('tensors'), p.num('dim', 0)) },
  pad: {
    params: ['input', 'pad', 'mode', 'value'],
    run: (o, p) => {
      const mode = p.str('mode', 'constant');
      if (mode !== 'constant') throw new ArgumentError(`pad: only mode='constant' is supported, got ${JSON.stringify(mode)}`);
      return o.pad(p.tensor('input'), p.ints('pad'), p.num('value', 0));
    },
  },
  tril: { params: ['input', 'diagonal'], run: (o, p) => o.tril(p.tensor('input'), p.num('diagonal', 0)) },
  triu: { params: ['input', 'diagonal'], run: (o, p) => o.triu(p.tensor('input'), p.num('diagonal', 0)) },
  index_select: indexed('indexSelect'),
  gather: indexed('gather'),
  contiguous: unary('contiguous'),
  clone: { params: ['input', 'memory_format'], run: (o, p) => o.clone(p.tensor('input')) },

  // linear algebra
  matmul: { params: BIN, run: (o, p) => o.matmul(p.tensor('input'), p.tensor('other')) },
  mm: { params: ['input', 'mat2'], run: (o, p) => o.mm(p.tensor('input'), p.tensor('mat2')) },
  bmm: { params: ['input', 'mat2'], run: (o, p) => o.bmm(p.tensor('input'), p.tensor('mat2')) },
  outer: { params: ['input', 'vec2'], run: (o, p) => o.outer(p.tensor('input'), p.tensor('vec2')) },
  linear: { params: ['input', 'weight', 'bias'], run: (o, p) => o.linear(p.tensor('input'), p.tensor('weight'), p.optTensor('bias')) },

  // nn
  softmax: { params: ['input', 'dim', '_stacklevel', 'dtype'], run: (o, p) => (p.unsupported('dtype'), o.softmax(p.tensor('input'), p.num('dim', NaN))) },
  log_softmax: { params: ['input', 'dim', '_stacklevel', 'dtype'], run: (o, p) => (p.unsupported('dtype'), o.logSoftmax(p.tensor('input'), p.num('dim', NaN))) },
  cross_entropy: {
    params: ['input', 'target', 'weight', 'size_average', 'ignore_index', 'reduce', 'reduction', 'label_smoothing'],
    run: (o, p) => {
      p.unsupported('weight');
      const reduction = p.reduction();
      const ignore = p.optNum('ignore_index');
      return o.crossEntropy(p.tensor('input'), p.tensor('target'), {
        reduction,
        labelSmoothing: p.num('label_smoothing', 0),
        ...(ignore === null ? {} : { ignoreIndex: ignore }),
      });
    },
  },
  nll_loss: {
    params: ['input', 'target', 'weight', 'size_average', 'ignore_index', 'reduce', 'reduction'],
    run: (o, p) => {
      p.unsupported('weight');
      const reduction = p.reduction();
      const ignore = p.optNum('ignore_index');
      return o.nllLoss(p.tensor('input'), p.tensor('target'), { reduction, ...(ignore === null ? {} : { ignoreIndex: ignore }) });
    },
  },
  mse_loss: loss('mseLoss'),
  l1_loss: loss('l1Loss'),
  smooth_l1_loss: {
    params: [...LOSS, 'beta'],
    run: (o, p) => o.smoothL1Loss(p.tensor('input'), p.tensor('target'), { reduction: p.reduction(), beta: p.num('beta', 1) }),
  },
  binary_cross_entropy: {
    params: ['input', 'target', 'weight', 'size_average', 'reduce', 'reduction'],
    run: (o, p) => (p.unsupported('weight'), o.binaryCrossEntropy(p.tensor('input'), p.tensor('target'), { reduction: p.reduction() })),
  },
  binary_cross_entropy_with_logits: {
    params: ['input', 'target', 'weight', 'size_average', 'reduce', 'reduction', 'pos_weight'],
    run: (o, p) => (p.unsupported('weight', 'pos_weight'), o.binaryCrossEntropyWithLogits(p.tensor('input'), p.tensor('target'), { reduction: p.reduction() })),
  },
  layer_norm: {
    // Conformance programs pass `x, weight?, bias?` with normalized_shape and eps as keywords.
    params: ['input', 'weight', 'bias', 'normalized_shape', 'eps'],
    run: (o, p) => o.layerNorm(p.tensor('input'), p.ints('normalized_shape'), p.optTensor('weight'), p.optTensor('bias'), p.num('eps', 1e-5)),
  },
  batch_norm: {
    // Conformance programs pass `x, weight, bias` and mean training mode (batch statistics).
    params: ['input', 'weight', 'bias', 'running_mean', 'running_var', 'training', 'momentum', 'eps'],
    run: (o, p) =>
      o.batchNorm(
        p.tensor('input'),
        p.optTensor('running_mean'),
        p.optTensor('running_var'),
        p.optTensor('weight'),
        p.optTensor('bias'),
        p.bool('training', true),
        p.num('momentum', 0.1),
        p.num('eps', 1e-5),
      ),
  },
  conv1d: conv('conv1d'),
  conv2d: conv('conv2d'),
  max_pool2d: pool('max_pool2d'),
  avg_pool2d: pool('avg_pool2d'),
  adaptive_avg_pool2d: {
    params: ['input', 'output_size'],
    run: (o, p) => {
      const v = p.value('output_size');
      const ok = typeof v === 'number' || (Array.isArray(v) && v.every((d) => d === null || typeof d === 'number'));
      if (!ok) throw new ArgumentError(`adaptive_avg_pool2d: output_size must be an int or a list of ints/None, got ${describe(v)}`);
      return o.adaptiveAvgPool2d(p.tensor('input'), v as number | (number | null)[]);
    },
  },
  embedding: {
    params: ['input', 'weight', 'padding_idx', 'max_norm', 'norm_type', 'scale_grad_by_freq', 'sparse'],
    run: (o, p) => (p.unsupported('padding_idx', 'max_norm'), o.embedding(p.tensor('input'), p.tensor('weight'))),
  },
  dropout: {
    params: ['input', 'p', 'training', 'inplace'],
    run: (o, p) => o.dropout(p.tensor('input'), p.num('p', 0.5), p.bool('training', true)),
  },
  one_hot: { params: ['tensor', 'num_classes'], run: (o, p) => o.oneHot(p.tensor('tensor'), p.num('num_classes', -1)) },
};

/** Conformance op names with PyTorch-order positional `dim` (`f(x, dim, index)`): reordered to `x, index`. */
const DIM_BEFORE_INDEX = new Set(['index_select', 'gather']);

/** The names of every op `applyOp` knows. */
export const vocabOps: readonly string[] = Object.keys(VOCAB);

/**
 * Runs one conformance program step: `op` is FORMAT.md's name (PyTorch's), `args` the
 * positional arguments (tensors, numbers, tensor lists), `kwargs` PyTorch's keyword arguments
 * by PyTorch's names. Generic over the emitter, so the same table drives eager tensors and
 * IR graphs. Unknown ops and arguments throw ArgumentError.
 */
export function applyOp<T>(o: Ops<T>, op: string, args: ReadonlyArray<OpArg<T>>, kwargs: Record<string, unknown> = {}): T {
  const entry = Object.hasOwn(VOCAB, op) ? VOCAB[op] : undefined;
  if (!entry) throw new ArgumentError(`${op}: unknown op (not in the conformance vocabulary)`);
  let positional = args;
  if (DIM_BEFORE_INDEX.has(op) && typeof args[1] === 'number') positional = [args[0]!, args[2]!, args[1], ...args.slice(3)];
  return entry.run(o, new Params<T>(op, entry.params, positional, kwargs));
}

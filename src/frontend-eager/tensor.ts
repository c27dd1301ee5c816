import type { Emitter } from '../ir/emitter.js';
import { ArgumentError, AutogradError, DTypeError, inOp, ShapeError } from '../ir/errors.js';
import type { Attrs } from '../ir/graph.js';
import { Ops } from '../ir/lang/index.js';
import type { Operand } from '../ir/lang/prim.js';
import type { Storage } from '../ir/ndarray.js';
import type { OpName } from '../ir/ops/index.js';
import { inferType } from '../ir/ops/index.js';
import type { DType, Shape, TensorType } from '../ir/types.js';
import { formatType, numel, shapesEqual } from '../ir/types.js';
import { vjpRule } from '../autodiff/rules.js';
import {
  type AccumulateGrad,
  backward,
  type BackwardOptions,
  grad as gradEngine,
  type GradOptions,
  backwardName,
  gradEdge,
  type GradHook,
  type GradNode,
  OpNode,
  peekSeq,
} from './autograd.js';
import { formatTensor } from './format.js';
import { isGradEnabled, isReplaying } from './grad-mode.js';
import { keepState, LazyBuffer, realize } from './lazy.js';
import { defaultGenerator } from './random.js';

/** Shared by a tensor and its detached views and snapshots: bumped by every in-place op. */
export interface VersionCounter {
  value: number;
}

let warn: (message: string) => void = (m) => console.warn(`kiln: ${m}`);
/** Where kiln's warnings go (default: console.warn). */
export function setWarningHandler(handler: (message: string) => void): void {
  warn = handler;
}

/**
 * An n-dimensional array with PyTorch's autograd semantics. Ops return at once; values
 * are computed (compiled as one graph) when read: `item()`, `toArray()`, `data()`, printing.
 *
 * ```ts
 * const x = tensor([1, 2, 3], { requiresGrad: true });
 * const y = x.mul(x).sum();
 * y.backward();
 * x.grad!.toArray(); // [2, 4, 6]
 * ```
 */
export class Tensor {
  /** @internal */ _buf: LazyBuffer;
  /** @internal */ _version: VersionCounter;
  /** @internal */ _accumulator: AccumulateGrad | undefined;
  private _requiresGrad = false;
  private _grad: Tensor | null = null;
  /** The node that computed this tensor (null for leaves). */
  gradFn: GradNode | null = null;

  /** @internal Use the factories (`tensor`, `zeros`, ...) to make tensors. */
  constructor(buf: LazyBuffer, version: VersionCounter = { value: 0 }) {
    this._buf = buf;
    this._version = version;
    buf.addHandle(this);
  }

  // ---- metadata ----

  get shape(): number[] {
    return [...this._buf.type.shape];
  }
  get dtype(): DType {
    return this._buf.type.dtype;
  }
  get ndim(): number {
    return this._buf.type.shape.length;
  }
  /** The IR type, e.g. `f32[2,3]`. */
  get type(): TensorType {
    return this._buf.type;
  }
  dim(): number {
    return this.ndim;
  }
  numel(): number {
    return numel(this._buf.type.shape);
  }
  size(dim?: number): number | number[] {
    if (dim === undefined) return this.shape;
    return this.shape[dim < 0 ? dim + this.ndim : dim] ?? (() => {
      throw new ArgumentError(`size: dim ${dim} out of range for ${formatType(this.type)}`);
    })();
  }
  /** In-place modification count (PyTorch's `_version`). */
  get version(): number {
    return this._version.value;
  }

  // ---- autograd surface ----

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(on: boolean) {
    this.requiresGrad_(on);
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** The accumulated gradient of a leaf (or of a non-leaf after `retainGrad()`). */
  get grad(): Tensor | null {
    if (!this.isLeaf && !this.gradFn!.retained && this._grad === null) {
      warn(
        'The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute ' +
          "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated " +
          'for a non-leaf Tensor, use .retainGrad() on the non-leaf Tensor.',
      );
    }
    return this._grad;
  }
  set grad(g: Tensor | null) {
    if (g && !shapesEqual(g.shape, this.shape)) {
      throw new ShapeError(`grad: assigned grad ${formatType(g.type)} does not match the tensor ${formatType(this.type)}`);
    }
    this._grad = g;
  }

  /** Sets whether autograd records ops on this leaf; returns this. */
  requiresGrad_(on = true): this {
    if (!this.isLeaf) {
      if (on) return this;
      throw new AutogradError(
        "requiresGrad_: you can only change requiresGrad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use detach().",
      );
    }
    if (on && this.dtype !== 'f32') {
      throw new DTypeError(`requiresGrad_: only tensors of floating point dtype can require gradients, got ${formatType(this.type)}`);
    }
    this._requiresGrad = on;
    return this;
  }

  /** Keeps `.grad` for this non-leaf tensor during backward. */
  retainGrad(): void {
    if (!this.requiresGrad) throw new AutogradError("retainGrad: can't retain grad on a tensor that doesn't require grad");
    if (this.gradFn) this.gradFn.retained = this;
  }

  /** Registers a hook called with this tensor's gradient; it may return a replacement. */
  registerHook(hook: GradHook): { remove(): void } {
    if (!this.requiresGrad) throw new AutogradError("registerHook: cannot register a hook on a tensor that doesn't require gradient");
    const hooks = gradEdge(this).preHooks;
    hooks.push(hook);
    return { remove: () => void hooks.splice(hooks.indexOf(hook) >>> 0, 1) };
  }

  /** Computes the gradient of this tensor with respect to graph leaves (`.grad`). */
  backward(gradient?: Tensor | null, opts: BackwardOptions = {}): void {
    this._live('backward');
    backward(F, this, gradient, opts);
  }

  /** A tensor sharing this value with no history (and the same version counter). */
  detach(): Tensor {
    return new Tensor(this._buf, this._version);
  }

  /** @internal The same value and history, as a separate handle (for in-place rebasing). */
  _snapshot(): Tensor {
    const t = new Tensor(this._buf, this._version);
    t._requiresGrad = this._requiresGrad;
    t.gradFn = this.gradFn;
    t._accumulator = this._accumulator;
    return t;
  }

  /** @internal */
  _setRequiresGrad(on: boolean): void {
    this._requiresGrad = on;
  }

  // ---- reading values ----

  /** Computes the value now (without reading it back). */
  realize(): this {
    this._live('realize');
    realize([this._buf]);
    return this;
  }
  /** The flat row-major values (a copy). */
  data(): Storage {
    this._live('data');
    realize([this._buf]);
    return this._buf.data!.slice();
  }

  private _disposed = false;

  /**
   * Frees this tensor's memory now instead of when it is garbage collected (tfjs's `dispose`):
   * on the wasm backend, the next result of the same size reuses the block, with no fresh
   * allocation. Reading or using the tensor afterwards throws. Storage that something else may
   * still read (another handle from `detach`, a view, a pending op, autograd) is left to the
   * garbage collector instead.
   *
   * ```ts
   * for (...) { const y = f(x); use(y.data()); y.dispose(); }
   * ```
   */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    if (!this._requiresGrad) this._buf.release(this);
  }
  /** Whether `dispose()` was called. */
  get isDisposed(): boolean {
    return this._disposed;
  }
  /** @internal Throws if this tensor was disposed; `op` names the caller. */
  _live(op: string): void {
    if (this._disposed && !isReplaying()) throw new ArgumentError(`${op}: the ${formatType(this.type)} tensor was disposed (dispose() was called on it)`);
  }
  /** The value of a one-element tensor as a number. */
  item(): number | boolean {
    this._live('item');
    if (this.numel() !== 1) {
      throw new ArgumentError(`item: a tensor with ${this.numel()} elements cannot be converted to a number (${formatType(this.type)})`);
    }
    realize([this._buf]);
    const v = this._buf.data![0]!;
    return this.dtype === 'bool' ? v !== 0 : v;
  }
  /** Nested arrays of numbers (booleans for bool tensors); a number for a 0-d tensor. */
  toArray(): NestedArray {
    const data = this.data();
    const conv = this.dtype === 'bool' ? (v: number) => v !== 0 : (v: number) => v;
    const build = (dim: number, off: number): NestedArray => {
      const shape = this.shape;
      if (dim === shape.length) return conv(data[off]!);
      const step = numel(shape.slice(dim + 1));
      return Array.from({ length: shape[dim]! }, (_, i) => build(dim + 1, off + i * step));
    };
    return build(0, 0);
  }
  toString(): string {
    return formatTensor(this);
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  // ---- in-place ops ----

  /**
   * @internal Replaces this tensor's value with `compute(old)` and bumps its version,
   * rebasing its history on the new node (PyTorch's in-place semantics).
   */
  _inplace(name: string, compute: (self: Tensor) => Tensor): this {
    const recording = isGradEnabled();
    if (recording && this.isLeaf && this.requiresGrad) {
      throw new AutogradError(`${name}: a leaf Variable that requires grad is being used in an in-place operation.`);
    }
    const self = recording && this.requiresGrad ? this._snapshot() : this;
    let r = compute(self);
    if (!shapesEqual(r.shape, this.shape)) {
      throw new ShapeError(`${name}: output ${formatType(r.type)} doesn't match the in-place tensor ${formatType(this.type)}`);
    }
    if (r.dtype !== this.dtype) r = F.cast(r, this.dtype);
    this._buf = r._buf;
    r._buf.shared = true;
    keepState(r._buf);
    this._version.value++;
    if (recording && r.gradFn) {
      this.gradFn = r.gradFn;
      this._requiresGrad = true;
      if (r.gradFn instanceof OpNode) r.gradFn.rebindOutput(this);
    }
    return this;
  }

  add_(other: Operand<Tensor>, alpha = 1): this {
    return this._inplace('add_', (s) => F.add(s, alpha === 1 ? other : F.mul(other, alpha)));
  }
  sub_(other: Operand<Tensor>, alpha = 1): this {
    return this._inplace('sub_', (s) => F.sub(s, alpha === 1 ? other : F.mul(other, alpha)));
  }
  mul_(other: Operand<Tensor>): this {
    return this._inplace('mul_', (s) => F.mul(s, other));
  }
  div_(other: Operand<Tensor>): this {
    return this._inplace('div_', (s) => F.div(s, other));
  }
  pow_(other: Operand<Tensor>): this {
    return this._inplace('pow_', (s) => F.pow(s, other));
  }
  neg_(): this {
    return this._inplace('neg_', (s) => F.neg(s));
  }
  exp_(): this {
    return this._inplace('exp_', (s) => F.exp(s));
  }
  relu_(): this {
    return this._inplace('relu_', (s) => F.relu(s));
  }
  sigmoid_(): this {
    return this._inplace('sigmoid_', (s) => F.sigmoid(s));
  }
  clamp_(min?: number | null, max?: number | null): this {
    return this._inplace('clamp_', (s) => F.clamp(s, min, max));
  }
  /** this += value * t1 * t2 */
  addcmul_(t1: Tensor, t2: Tensor, value = 1): this {
    return this._inplace('addcmul_', (s) => F.add(s, F.mul(F.mul(t1, t2), value)));
  }
  /** this += value * t1 / t2 */
  addcdiv_(t1: Tensor, t2: Tensor, value = 1): this {
    return this._inplace('addcdiv_', (s) => F.add(s, F.mul(F.div(t1, t2), value)));
  }
  fill_(value: number): this {
    return this._inplace('fill_', () => F.full(this.shape, value, this.dtype));
  }
  zero_(): this {
    return this.fill_(0);
  }
  /** Copies `src` (broadcast to this shape) into this tensor. */
  copy_(src: Tensor): this {
    return this._inplace('copy_', () => F.expandTo(F.cast(src, this.dtype), this.shape));
  }

  // ---- out-of-place ops: thin wrappers over the shared vocabulary (src/ir/lang) ----

  add(other: Operand<Tensor>, alpha = 1): Tensor {
    return F.add(this, alpha === 1 ? other : F.mul(other, alpha));
  }
  sub(other: Operand<Tensor>, alpha = 1): Tensor {
    return F.sub(this, alpha === 1 ? other : F.mul(other, alpha));
  }
  mul(other: Operand<Tensor>): Tensor { return F.mul(this, other); }
  div(other: Operand<Tensor>): Tensor { return F.div(this, other); }
  pow(exponent: Operand<Tensor>): Tensor { return F.pow(this, exponent); }
  maximum(other: Operand<Tensor>): Tensor { return F.maximum(this, other); }
  minimum(other: Operand<Tensor>): Tensor { return F.minimum(this, other); }
  eq(other: Operand<Tensor>): Tensor { return F.eq(this, other); }
  ne(other: Operand<Tensor>): Tensor { return F.ne(this, other); }
  lt(other: Operand<Tensor>): Tensor { return F.lt(this, other); }
  le(other: Operand<Tensor>): Tensor { return F.le(this, other); }
  gt(other: Operand<Tensor>): Tensor { return F.gt(this, other); }
  ge(other: Operand<Tensor>): Tensor { return F.ge(this, other); }
  /** `this` where `cond`, else `other` (PyTorch's `x.where(cond, y)`). */
  where(cond: Tensor, other: Operand<Tensor>): Tensor { return F.where(cond, this, other); }

  neg(): Tensor { return F.neg(this); }
  abs(): Tensor { return F.abs(this); }
  sign(): Tensor { return F.sign(this); }
  exp(): Tensor { return F.exp(this); }
  log(): Tensor { return F.log(this); }
  log1p(): Tensor { return F.log1p(this); }
  expm1(): Tensor { return F.expm1(this); }
  sqrt(): Tensor { return F.sqrt(this); }
  rsqrt(): Tensor { return F.rsqrt(this); }
  reciprocal(): Tensor { return F.reciprocal(this); }
  square(): Tensor { return F.square(this); }
  sin(): Tensor { return F.sin(this); }
  cos(): Tensor { return F.cos(this); }
  tanh(): Tensor { return F.tanh(this); }
  sigmoid(): Tensor { return F.sigmoid(this); }
  relu(): Tensor { return F.relu(this); }
  silu(): Tensor { return F.silu(this); }
  erf(): Tensor { return F.erf(this); }
  floor(): Tensor { return F.floor(this); }
  clamp(min?: number | null, max?: number | null): Tensor { return F.clamp(this, min, max); }

  sum(dim?: number | number[] | null, keepdim = false): Tensor { return F.sum(this, dim, keepdim); }
  mean(dim?: number | number[] | null, keepdim = false): Tensor { return F.mean(this, dim, keepdim); }
  amax(dim?: number | number[] | null, keepdim = false): Tensor { return F.amax(this, dim, keepdim); }
  amin(dim?: number | number[] | null, keepdim = false): Tensor { return F.amin(this, dim, keepdim); }
  prod(dim?: number | null, keepdim = false): Tensor { return F.prod(this, dim, keepdim); }
  logsumexp(dim?: number | number[] | null, keepdim = false): Tensor { return F.logsumexp(this, dim, keepdim); }
  var(dim?: number | number[] | null, opts: { correction?: number; keepdim?: boolean } = {}): Tensor { return F.var(this, dim, opts); }
  std(dim?: number | number[] | null, opts: { correction?: number; keepdim?: boolean } = {}): Tensor { return F.std(this, dim, opts); }
  /** The largest values (over all dims, or along `dim`). Indices: `argmax`. */
  max(dim?: number | null, keepdim = false): Tensor { return F.max(this, dim, keepdim); }
  min(dim?: number | null, keepdim = false): Tensor { return F.min(this, dim, keepdim); }
  argmax(dim?: number | null, keepdim = false): Tensor { return F.argmax(this, dim, keepdim); }
  argmin(dim?: number | null, keepdim = false): Tensor { return F.argmin(this, dim, keepdim); }
  cumsum(dim: number): Tensor { return F.cumsum(this, dim); }
  norm(p = 2, dim?: number | number[] | null, keepdim = false): Tensor { return F.norm(this, p, dim, keepdim); }

  reshape(...shape: number[] | [readonly number[]]): Tensor { return F.reshape(this, shapeArgs(shape)); }
  view(...shape: number[] | [readonly number[]]): Tensor { return F.reshape(this, shapeArgs(shape)); }
  flatten(startDim = 0, endDim = -1): Tensor { return F.flatten(this, startDim, endDim); }
  squeeze(dim?: number | number[]): Tensor { return F.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return F.unsqueeze(this, dim); }
  transpose(dim0: number, dim1: number): Tensor { return F.transpose(this, dim0, dim1); }
  /** Transpose of a matrix (rank <= 2). */
  t(): Tensor {
    if (this.ndim > 2) throw new ShapeError(`t: expects a tensor with <= 2 dimensions, got ${formatType(this.type)}`);
    return this.ndim < 2 ? this : F.transpose(this, 0, 1);
  }
  permute(...dims: number[] | [readonly number[]]): Tensor { return F.permute(this, shapeArgs(dims)); }
  expand(...size: number[] | [readonly number[]]): Tensor { return F.expand(this, shapeArgs(size)); }
  broadcastTo(size: readonly number[]): Tensor { return F.broadcastTo(this, size); }
  narrow(dim: number, start: number, length: number): Tensor { return F.narrow(this, dim, start, length); }
  /** Python's `x[..., start:end:step]` on `dim`. */
  slice(dim: number, start: number | null = null, end: number | null = null, step = 1): Tensor {
    return F.slice(this, dim, start, end, step);
  }
  flip(dims: readonly number[]): Tensor { return F.flip(this, dims); }
  tril(diagonal = 0): Tensor { return F.tril(this, diagonal); }
  triu(diagonal = 0): Tensor { return F.triu(this, diagonal); }
  indexSelect(dim: number, index: Tensor): Tensor { return F.indexSelect(this, dim, index); }
  gather(dim: number, index: Tensor): Tensor { return F.gather(this, dim, index); }
  contiguous(): Tensor { return F.contiguous(this); }
  clone(): Tensor { return F.clone(this); }

  matmul(other: Tensor): Tensor { return F.matmul(this, other); }
  mm(other: Tensor): Tensor { return F.mm(this, other); }
  bmm(other: Tensor): Tensor { return F.bmm(this, other); }
  outer(other: Tensor): Tensor { return F.outer(this, other); }
  softmax(dim: number): Tensor { return F.softmax(this, dim); }
  logSoftmax(dim: number): Tensor { return F.logSoftmax(this, dim); }

  /** Converts to `dtype` (a no-op when it already is). */
  to(dtype: DType): Tensor { return F.cast(this, dtype); }
  float(): Tensor { return F.cast(this, 'f32'); }
  int(): Tensor { return F.cast(this, 'i32'); }
  bool(): Tensor { return F.cast(this, 'bool'); }
}

export type NestedArray = number | boolean | NestedArray[];

function shapeArgs(args: number[] | [readonly number[]]): number[] {
  return Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}

/** Creates eager tensors, recording an autograd node when an input requires grad. */
class EagerEmitter implements Emitter<Tensor> {
  emit(op: OpName, inputs: readonly Tensor[], attrs: Attrs): Tensor {
    for (const t of inputs) t._live(this.scopes[0] ?? op);
    let type: TensorType;
    try {
      type = inferType(
        op,
        inputs.map((t) => t._buf.type),
        attrs,
      );
    } catch (e) {
      throw inOp(e, this.scopes[0]);
    }
    const buf =
      op === 'const' && type.shape.length === 0
        ? scalarConst(type.dtype, attrs)
        : (contiguousView(op, inputs[0]?._buf, type, attrs) ?? LazyBuffer.pending(type, op, inputs.map((t) => t._buf), attrs));
    if (this.scopes.length && this.scopes[0] !== op) buf.origin = this.scopes[0];
    const out = new Tensor(buf);
    if (type.dtype === 'f32' && isGradEnabled() && inputs.some((t) => t.requiresGrad) && hasRule(op)) {
      out.gradFn = new OpNode(op, attrs, inputs, out, F);
      out._setRequiresGrad(true);
    }
    return out;
  }
  typeOf(t: Tensor): TensorType {
    return t._buf.type;
  }
  private readonly scopes: string[] = [];

  scope<R extends Tensor>(name: string, body: () => R): R {
    const before = peekSeq();
    this.scopes.push(name);
    let r: R;
    try {
      r = body();
    } finally {
      this.scopes.pop();
    }
    // Name the composite's last node after the composite (`SoftmaxBackward`).
    if (r.gradFn && r.gradFn.seq >= before && r.gradFn instanceof OpNode) r.gradFn.name = backwardName(name);
    return r;
  }
  /** The values of a concrete tensor (data-dependent shapes, e.g. one_hot); not while tracing. */
  peek(t: Tensor): ArrayLike<number> | undefined {
    if (t._buf.symbolic) return undefined;
    realize([t._buf]);
    return t._buf.data!;
  }
  /** Uniform [0, 1) samples from the default generator (used by dropout). */
  rand(shape: Shape): Tensor {
    return randUniform(shape);
  }
}

/**
 * A reshape, or a slice that keeps a contiguous block, of an already computed buffer is a
 * zero-copy view: no kernel, and no new graph structure per offset (batches of a dataset).
 * NOTE: safe because computed buffers are never written again (in-place ops rebind).
 */
function contiguousView(op: OpName, x: LazyBuffer | undefined, type: TensorType, attrs: Attrs): LazyBuffer | null {
  if (!x?.realized || (op !== 'reshape' && op !== 'slice')) return null;
  if (op === 'reshape') return LazyBuffer.viewOf(x, type, x.data!);
  const starts = attrs.starts as number[];
  const ends = attrs.ends as number[];
  const steps = attrs.steps as number[];
  const shape = x.type.shape;
  // Contiguous: unit steps, and every dim after the first sliced one is taken whole,
  // and every dim before it has one index.
  const first = starts.findIndex((s0, d) => s0 !== 0 || ends[d] !== shape[d]);
  if (first < 0 || steps.some((st) => st !== 1)) return null;
  for (let d = 0; d < shape.length; d++) {
    if (d < first && ends[d]! - starts[d]! !== 1) return null;
    if (d > first && (starts[d] !== 0 || ends[d] !== shape[d])) return null;
  }
  let offset = 0;
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    offset += starts[d]! * stride;
    stride *= shape[d]!;
  }
  return LazyBuffer.viewOf(x, type, x.data!.subarray(offset, offset + numel(type.shape)));
}

const scalarConsts = new Map<string, LazyBuffer>();

/** Scalar constants are shared (buffers are immutable), so `x.mul(2)` adds one node, not two. */
function scalarConst(dtype: TensorType['dtype'], attrs: Attrs): LazyBuffer {
  const key = `${dtype}:${attrs.value as number}`;
  let b = scalarConsts.get(key);
  if (!b) {
    if (scalarConsts.size > 4096) scalarConsts.clear();
    b = LazyBuffer.pending({ dtype, shape: [] }, 'const', [], attrs);
    scalarConsts.set(key, b);
  }
  return b;
}

function hasRule(op: OpName): boolean {
  return vjpRule(op) !== null;
}

function randUniform(shape: Shape): Tensor {
  const data = new Float32Array(numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = defaultGenerator.random();
  return new Tensor(LazyBuffer.fromData({ dtype: 'f32', shape: [...shape] }, data));
}

/** The op vocabulary bound to eager tensors: `F.softmax(x, -1)`. */
export const F: Ops<Tensor> = new Ops<Tensor>(new EagerEmitter());

/**
 * The gradients of `outputs` with respect to `inputs`, without touching `.grad`
 * (`torch.autograd.grad`).
 *
 * ```ts
 * const [dx] = autogradGrad(x.pow(3).sum(), [x], { createGraph: true });
 * ```
 */
export function autogradGrad(outputs: Tensor | readonly Tensor[], inputs: Tensor | readonly Tensor[], opts: GradOptions = {}): (Tensor | null)[] {
  return gradEngine(F, outputs, inputs, opts);
}

/**
 * Computes several tensors together, as one graph (cheaper than one `realize()` each when
 * they share work: parameters and optimizer state after a step, say).
 */
export function realizeAll(tensors: Iterable<Tensor>): void {
  realize([...tensors].map((t) => t._buf));
}

/** Whether `t` is a placeholder inside `trace`/`jit` (its value is not known yet). */
export function isTraced(t: Tensor): boolean {
  return t._buf.symbolic;
}

/**
 * `Tensor` methods and properties as model files write them (`x.relu()`, `x.reshape(b, -1)`,
 * `x.shape[1]`), lowered onto the op vocabulary `Ops<Value>`. The names are checked
 * against `Tensor` by the compiler (`satisfies`), so a renamed method cannot drift.
 */
import type { Node } from 'ts-morph';
import type { Tensor } from '../frontend-eager/index.js';
import { Value } from '../ir/graph.js';
import type { Ops } from '../ir/lang/index.js';
import type { DType } from '../ir/types.js';
import { DTYPES, formatType, numel } from '../ir/types.js';
import { fail } from './diagnostics.js';
import { describe, Obj, type SVal } from './values.js';

/** Methods that are `F.<same name>(this, ...args)` in `tensor.ts`. */
const DIRECT = [
  'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge',
  'neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'square', 'sin', 'cos',
  'tanh', 'sigmoid', 'relu', 'silu', 'erf', 'floor', 'clamp',
  'sum', 'mean', 'amax', 'amin', 'prod', 'logsumexp', 'var', 'std', 'max', 'min', 'argmax', 'argmin', 'cumsum', 'norm',
  'flatten', 'squeeze', 'unsqueeze', 'transpose', 'broadcastTo', 'narrow', 'slice', 'flip', 'tril', 'triu',
  'indexSelect', 'gather', 'contiguous', 'clone',
  'matmul', 'mm', 'bmm', 'outer', 'softmax', 'logSoftmax',
] as const satisfies readonly (keyof Tensor & keyof Ops<Value>)[];

/** Reads and checks the arguments of one call, naming it in errors (`x.reshape: ...`). */
export class ArgReader {
  constructor(
    readonly what: string,
    readonly vals: readonly SVal[],
    readonly site: Node,
  ) {}

  private bad(i: number, want: string): never {
    return fail(this.site, `${this.what}: argument ${i + 1} must be ${want}, got ${describe(this.vals[i])}`);
  }

  tensor(i: number): Value {
    const v = this.vals[i];
    return v instanceof Value ? v : this.bad(i, 'a tensor');
  }
  operand(i: number): Value | number {
    const v = this.vals[i];
    return v instanceof Value || typeof v === 'number' ? v : this.bad(i, 'a tensor or a number');
  }
  number(i: number): number {
    const v = this.vals[i];
    return typeof v === 'number' ? v : this.bad(i, 'a number');
  }
  optNumber(i: number): number | undefined {
    const v = this.vals[i];
    return v === undefined || typeof v === 'number' ? v : this.bad(i, 'a number');
  }
  dtype(i: number): DType {
    const v = this.vals[i];
    return typeof v === 'string' && (DTYPES as readonly string[]).includes(v) ? (v as DType) : this.bad(i, `a dtype (${DTYPES.map((d) => `'${d}'`).join(', ')})`);
  }
  /** `reshape(2, -1)` or `reshape([2, -1])`. */
  sizes(): number[] {
    const [first] = this.vals;
    const list = Array.isArray(first) && this.vals.length === 1 ? first : this.vals;
    return list.map((v, i) => (typeof v === 'number' ? v : this.bad(i, 'a number (or one array of numbers)')));
  }
  /** Every argument as the vocabulary takes it (tensors, numbers, arrays, option objects). */
  all(): unknown[] {
    return this.vals.map((v, i) => toOpsArg(v, () => this.bad(i, 'a tensor, a number, an array or an options object')));
  }
}

/** A compile-time value as an argument of `Ops` (object literals become plain objects). */
export function toOpsArg(v: SVal, bad: () => never): unknown {
  if (v === undefined || v === null || v instanceof Value || typeof v !== 'object') {
    return typeof v === 'function' ? bad() : v;
  }
  if (Array.isArray(v)) return v.map((x) => toOpsArg(x, bad));
  if (v instanceof Obj) return Object.fromEntries([...v.props].map(([k, x]) => [k, toOpsArg(x, bad)]));
  return bad();
}

/** A result of `Ops` as a compile-time value. */
export function fromOps(r: unknown): SVal {
  if (r instanceof Value || r === null || r === undefined || typeof r === 'number' || typeof r === 'string' || typeof r === 'boolean') return r;
  if (Array.isArray(r)) return r.map(fromOps);
  if (typeof r === 'object') return new Obj(new Map(Object.entries(r).map(([k, x]) => [k, fromOps(x)])));
  return undefined;
}

type MethodRule = (o: Ops<Value>, x: Value, a: ArgReader) => SVal;

const scaled = (o: Ops<Value>, other: Value | number, alpha: number | undefined): Value | number =>
  alpha === undefined || alpha === 1 ? other : o.mul(other, alpha);

/** Methods whose arguments differ from the vocabulary function's. */
const SPECIAL = {
  add: (o, x, a) => o.add(x, scaled(o, a.operand(0), a.optNumber(1))),
  sub: (o, x, a) => o.sub(x, scaled(o, a.operand(0), a.optNumber(1))),
  reshape: (o, x, a) => o.reshape(x, a.sizes()),
  view: (o, x, a) => o.reshape(x, a.sizes()),
  permute: (o, x, a) => o.permute(x, a.sizes()),
  expand: (o, x, a) => o.expand(x, a.sizes()),
  t: (o, x, a) => {
    const r = o.rank(x);
    if (r > 2) return fail(a.site, `t: expects a tensor with <= 2 dimensions, got ${formatType(x.type)}: use transpose(-2, -1)`);
    return r < 2 ? x : o.transpose(x, 0, 1);
  },
  where: (o, x, a) => o.where(a.tensor(0), x, a.operand(1)),
  to: (o, x, a) => o.cast(x, a.dtype(0)),
  float: (o, x) => o.cast(x, 'f32'),
  int: (o, x) => o.cast(x, 'i32'),
  bool: (o, x) => o.cast(x, 'bool'),
  size: (_o, x, a) => {
    const d = a.optNumber(0);
    if (d === undefined) return [...x.type.shape];
    const r = x.type.shape.length;
    const n = x.type.shape[d < 0 ? d + r : d];
    return n ?? fail(a.site, `size: dim ${d} out of range for ${formatType(x.type)}`);
  },
  dim: (_o, x) => x.type.shape.length,
  numel: (_o, x) => numel(x.type.shape),
} satisfies Partial<Record<keyof Tensor, MethodRule>>;

/** Methods that read values, change tensors in place, or drive autograd, and why each is out. */
function unsupported(name: string, receiver: string): string | undefined {
  const call = `${receiver}.${name}()`;
  if (['item', 'toArray', 'data', 'realize', 'toString'].includes(name)) {
    return `${call} reads the tensor's values, which do not exist when the model is compiled: keep the computation in tensor ops (select with where(cond, a, b) instead of branching on a value)`;
  }
  if (name.endsWith('_') && name !== '_') {
    return `in-place op ${call} is not supported in model code: write the out-of-place form and rebind (x = ${receiver}.${name.slice(0, -1)}(...))`;
  }
  if (name === 'detach') {
    return `${call} stops gradients, which a compiled forward graph cannot express: remove it, or detach the model's output outside the model`;
  }
  if (['backward', 'retainGrad', 'registerHook'].includes(name)) {
    return `${call} drives autograd, which is not part of model code: compile the forward; training (backward, optimizer steps) happens outside the model`;
  }
  return undefined;
}

const PROPERTY_HINTS: Record<string, string> = {
  T: 'use x.transpose(-2, -1) (or x.t() for a matrix)',
  mT: 'use x.transpose(-2, -1)',
  length: 'tensors have no length: use x.shape[0]',
  grad: 'autograd state is not part of model code',
  requiresGrad: 'autograd state is not part of model code',
  isLeaf: 'autograd state is not part of model code',
  gradFn: 'autograd state is not part of model code',
  version: 'autograd state is not part of model code',
};

const KNOWN_METHODS: readonly string[] = [...DIRECT, ...Object.keys(SPECIAL)];

/** A tensor method call `x.name(...args)` on the graph value `x`. */
export function callTensorMethod(o: Ops<Value>, x: Value, name: string, args: readonly SVal[], site: Node, receiver: string): SVal {
  const problem = unsupported(name, receiver);
  if (problem) return fail(site, problem);
  const a = new ArgReader(`${receiver}.${name}`, args, site);
  if (Object.hasOwn(SPECIAL, name)) return SPECIAL[name as keyof typeof SPECIAL](o, x, a);
  if ((DIRECT as readonly string[]).includes(name)) {
    const fn = o[name as (typeof DIRECT)[number]] as (...xs: unknown[]) => unknown;
    return fromOps(fn(x, ...a.all()));
  }
  return fail(site, `unknown tensor method ${receiver}.${name}()${suggestion(name, KNOWN_METHODS)}: see src/frontend-script/README.md for the supported methods`);
}

/** A tensor property `x.name`: shape, ndim, dtype, type. */
export function tensorProperty(x: Value, name: string, site: Node, receiver: string): SVal {
  switch (name) {
    case 'shape':
      return [...x.type.shape];
    case 'ndim':
      return x.type.shape.length;
    case 'dtype':
      return x.type.dtype;
    case 'type':
      return new Obj(new Map<string, SVal>([['dtype', x.type.dtype], ['shape', [...x.type.shape]]]));
  }
  const hint = PROPERTY_HINTS[name];
  if (hint) return fail(site, `${receiver}.${name} is not supported in model code: ${hint}`);
  if (KNOWN_METHODS.includes(name) || unsupported(name, receiver)) {
    return fail(site, `${receiver}.${name} is a method: call it (${receiver}.${name}(...)); methods cannot be used as values in model code`);
  }
  return fail(site, `unknown tensor property ${receiver}.${name}${suggestion(name, ['shape', 'ndim', 'dtype', ...KNOWN_METHODS])}`);
}

/** `(did you mean 'logSoftmax'?)` for snake_case spellings and near misses. */
export function suggestion(name: string, known: readonly string[]): string {
  const camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  if (camel !== name && known.includes(camel)) return ` (did you mean '${camel}'?)`;
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best ? ` (did you mean '${best}'?)` : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

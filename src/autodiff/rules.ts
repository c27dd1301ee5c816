import type { Attrs } from '../ir/graph.js';
import type { PrimOps } from '../ir/lang/prim.js';
import type { OpName } from '../ir/ops/index.js';

/**
 * A VJP rule: given the output cotangent `g`, the op's inputs `x`, its output `out` and
 * attributes, returns one cotangent per input (null where `needs[i]` is false or no
 * gradient flows). Rules emit ops through `o`, so the same rule builds an IR backward
 * graph or runs eagerly. NOTE: un-broadcasting to each input's shape is the caller's job.
 */
export type VjpRule = <T>(
  o: PrimOps<T>,
  g: T,
  x: readonly T[],
  out: T,
  attrs: Attrs,
  needs: readonly boolean[],
) => (T | null)[];

/** Why an op has no VJP rule; a missing entry is a type error (`satisfies` below). */
export type NoGradient = 'no gradient: integer or bool result' | 'no gradient: source op';

// Small helpers: primitives only, operands already share a dtype.
const mul = <T>(o: PrimOps<T>, a: T, b: T): T => o.emit('mul', [a, b]);
const div = <T>(o: PrimOps<T>, a: T, b: T): T => o.emit('div', [a, b]);
const add = <T>(o: PrimOps<T>, a: T, b: T): T => o.emit('add', [a, b]);
const sub = <T>(o: PrimOps<T>, a: T, b: T): T => o.emit('sub', [a, b]);
const neg = <T>(o: PrimOps<T>, a: T): T => o.emit('neg', [a]);
const k = <T>(o: PrimOps<T>, v: number): T => o.scalar(v);
const asF32 = <T>(o: PrimOps<T>, mask: T): T => o.cast(mask, 'f32');

/** Rule for an elementwise unary op whose derivative is `d(x, out)`. */
function unaryRule(d: <T>(o: PrimOps<T>, x: T, out: T) => T): VjpRule {
  return (o, g, [x], out) => [mul(o, g, d(o, x!, out))];
}

/** Rule for an op that is linear in its single input: g maps back through `adjoint`. */
function linearRule(adjoint: <T>(o: PrimOps<T>, g: T, x: T, attrs: Attrs) => T): VjpRule {
  return (o, g, [x], _out, attrs) => [adjoint(o, g, x!, attrs)];
}

function ints(attrs: Attrs, key: string): number[] {
  return attrs[key] as number[];
}

/** max/min reductions: the gradient is shared evenly among the tied extrema. */
const extremumRule: VjpRule = (o, g, [x], out) => {
  const mask = asF32(o, o.emit('eq', [x!, out]));
  const axes = o.shape(x!).flatMap((d, i) => (o.shape(out)[i] === 1 && d !== 1 ? [i] : []));
  const n = o.sumKeep(mask, axes);
  return [mul(o, g, div(o, mask, n))];
};

/** maximum/minimum: the chosen side gets g; ties split it in half (PyTorch). */
function pickRule(op: 'gt' | 'lt'): VjpRule {
  return (o, g, [a, b], _out, _attrs, needs) => {
    const wins = (p: typeof a, q: typeof a) =>
      add(o, asF32(o, o.emit(op, [p!, q!])), mul(o, asF32(o, o.emit('eq', [p!, q!])), k(o, 0.5)));
    return [needs[0] ? mul(o, g, wins(a, b)) : null, needs[1] ? mul(o, g, wins(b, a)) : null];
  };
}

const none = 'no gradient: integer or bool result' as const;

export const vjpRules = {
  const: 'no gradient: source op',
  iota: 'no gradient: source op',

  neg: linearRule((o, g) => neg(o, g)),
  abs: unaryRule((o, x) => o.emit('sign', [x])),
  sign: unaryRule((o, x) => o.zerosLike(x)),
  floor: unaryRule((o, x) => o.zerosLike(x)),
  exp: unaryRule((_o, _x, out) => out),
  log: (o, g, [x]) => [div(o, g, x!)],
  log1p: (o, g, [x]) => [div(o, g, add(o, x!, k(o, 1)))],
  expm1: unaryRule((o, _x, out) => add(o, out, k(o, 1))),
  sqrt: (o, g, _x, out) => [div(o, g, mul(o, out, k(o, 2)))],
  rsqrt: unaryRule((o, x, out) => mul(o, div(o, out, x), k(o, -0.5))),
  reciprocal: unaryRule((o, _x, out) => neg(o, mul(o, out, out))),
  sin: unaryRule((o, x) => o.emit('cos', [x])),
  cos: unaryRule((o, x) => neg(o, o.emit('sin', [x]))),
  tanh: unaryRule((o, _x, out) => sub(o, k(o, 1), mul(o, out, out))),
  sigmoid: unaryRule((o, _x, out) => mul(o, out, sub(o, k(o, 1), out))),
  erf: unaryRule((o, x) => mul(o, k(o, 2 / Math.sqrt(Math.PI)), o.emit('exp', [neg(o, mul(o, x, x))]))),
  logical_not: none,

  add: (_o, g) => [g, g],
  sub: (o, g, _x, _out, _attrs, needs) => [g, needs[1] ? neg(o, g) : null],
  mul: (o, g, [a, b], _out, _attrs, needs) => [needs[0] ? mul(o, g, b!) : null, needs[1] ? mul(o, g, a!) : null],
  div: (o, g, [, b], out, _attrs, needs) => [
    needs[0] ? div(o, g, b!) : null,
    needs[1] ? neg(o, div(o, mul(o, g, out), b!)) : null,
  ],
  pow: (o, g, [a, b], out, _attrs, needs) => {
    // PyTorch: d/da = b * a^(b-1) (0 where b == 0); d/db = out * log(a) (0 where a == 0 and b >= 0)
    const da = () => {
      const d = mul(o, b!, o.emit('pow', [a!, sub(o, b!, k(o, 1))]));
      return mul(o, g, o.where(o.emit('eq', [b!, k(o, 0)]), k(o, 0), d));
    };
    const db = () => {
      const zero = o.emit('logical_and', [o.emit('eq', [a!, k(o, 0)]), o.emit('ge', [b!, k(o, 0)])]);
      return mul(o, g, o.where(zero, k(o, 0), mul(o, out, o.emit('log', [a!]))));
    };
    return [needs[0] ? da() : null, needs[1] ? db() : null];
  },
  maximum: pickRule('gt'),
  minimum: pickRule('lt'),
  eq: none,
  ne: none,
  lt: none,
  le: none,
  gt: none,
  ge: none,
  logical_and: none,
  logical_or: none,
  where: (o, g, [c], _out, _attrs, needs) => [
    null,
    needs[1] ? o.where(c!, g, k(o, 0)) : null,
    needs[2] ? o.where(c!, k(o, 0), g) : null,
  ],
  cast: (o, g, [x]) => [o.dtype(x!) === 'f32' ? g : null],

  sum: linearRule((o, g, x) => o.expandTo(g, o.shape(x))),
  max: extremumRule,
  min: extremumRule,
  prod: unaryRule((o, x, out) => div(o, out, x)),
  argmax: none,
  argmin: none,
  cumsum: linearRule((o, g, _x, attrs) => {
    const axis = attrs.axis as number;
    return o.flip(o.emit('cumsum', [o.flip(g, [axis])], { axis }), [axis]);
  }),

  reshape: linearRule((o, g, x) => o.reshape(g, o.shape(x))),
  permute: linearRule((o, g, _x, attrs) => {
    const perm = ints(attrs, 'perm');
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return o.permute(g, inv);
  }),
  expand: linearRule((o, g, x) => o.unbroadcast(g, o.shape(x))),
  slice: linearRule((o, g, x, attrs) =>
    o.unslice(g, o.shape(x), ints(attrs, 'starts'), ints(attrs, 'ends'), ints(attrs, 'steps')),
  ),
  unslice: linearRule((o, g, _x, attrs) => o.slicePrim(g, ints(attrs, 'starts'), ints(attrs, 'ends'), ints(attrs, 'steps'))),
  pad: linearRule((o, g, x, attrs) => {
    const pads = ints(attrs, 'pads');
    const shape = o.shape(x);
    return o.slicePrim(
      g,
      shape.map((_, i) => pads[2 * i]!),
      shape.map((d, i) => pads[2 * i]! + d),
      shape.map(() => 1),
    );
  }),
  flip: linearRule((o, g, _x, attrs) => o.flip(g, ints(attrs, 'axes'))),
  concat: (o, g, xs, _out, attrs, needs) => {
    const axis = attrs.axis as number;
    const shape = o.shape(g);
    let at = 0;
    return xs.map((x, i) => {
      const len = o.shape(x)[axis]!;
      const starts = shape.map((_, d) => (d === axis ? at : 0));
      const ends = shape.map((n, d) => (d === axis ? at + len : n));
      at += len;
      return needs[i] ? o.slicePrim(g, starts, ends, shape.map(() => 1)) : null;
    });
  },

  gather: (o, g, [x, index], _out, attrs) => [
    o.emit('scatter_add', [o.zerosLike(x!), index!, g], { axis: attrs.axis as number }),
    null,
  ],
  scatter_add: (o, g, [, index], _out, attrs, needs) => [
    needs[0] ? g : null,
    null,
    needs[2] ? o.emit('gather', [g, index!], { axis: attrs.axis as number }) : null,
  ],

  matmul: (o, g, [a, b], _out, _attrs, needs) => {
    const t = (v: typeof a) => {
      const r = o.rank(v!);
      const perm = [...Array(r).keys()];
      [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
      return o.permute(v!, perm);
    };
    return [needs[0] ? o.matmulPrim(g, t(b)) : null, needs[1] ? o.matmulPrim(t(a), g) : null];
  },

  unfold: linearRule((o, g, x, attrs) => {
    const s = o.shape(x);
    return o.emit('fold', [g], { ...attrs, outputSize: [s[2]!, s[3]!] });
  }),
  fold: linearRule((o, g, _x, attrs) => {
    const { outputSize: _size, ...rest } = attrs;
    return o.emit('unfold', [g], rest);
  }),
} satisfies Record<OpName, VjpRule | NoGradient>;

export function vjpRule(op: OpName): VjpRule | null {
  const r: VjpRule | NoGradient = vjpRules[op];
  return typeof r === 'string' ? null : r;
}

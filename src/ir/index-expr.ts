/**
 * Integer index expressions over loop variables, kept affine where possible so that
 * movement ops (reshape, permute, expand, slice, flip, pad) fold into address arithmetic.
 */

/** Σ coeff·var + c. `terms` maps loop-variable number → coefficient (no zero entries). */
export interface Affine {
  readonly t: 'aff';
  readonly terms: ReadonlyMap<number, number>;
  readonly c: number;
}
/** floor(a / d), a mod d or a·d (d > 0), when the affine form could not be kept. */
export interface DivMod {
  readonly t: 'div' | 'mod' | 'mul';
  readonly a: IExpr;
  readonly d: number;
}
/** A sum of non-affine parts plus an affine part. */
export interface Sum {
  readonly t: 'sum';
  readonly parts: readonly IExpr[];
}
export type IExpr = Affine | DivMod | Sum;

/** Loop extents: variable v ranges over [0, extents[v]). */
export type Extents = readonly number[];

export const constant = (c: number): Affine => ({ t: 'aff', terms: new Map(), c });
export const loopVar = (v: number): Affine => ({ t: 'aff', terms: new Map([[v, 1]]), c: 0 });

export function isConst(e: IExpr): e is Affine {
  return e.t === 'aff' && e.terms.size === 0;
}

function affine(terms: Map<number, number>, c: number): Affine {
  for (const [k, v] of terms) if (v === 0) terms.delete(k);
  return { t: 'aff', terms, c };
}

export function add(a: IExpr, b: IExpr): IExpr {
  if (a.t === 'aff' && b.t === 'aff') {
    const terms = new Map(a.terms);
    for (const [k, v] of b.terms) terms.set(k, (terms.get(k) ?? 0) + v);
    return affine(terms, a.c + b.c);
  }
  const parts: IExpr[] = [];
  let aff: Affine = constant(0);
  for (const e of [a, b]) {
    if (e.t === 'aff') aff = add(aff, e) as Affine;
    else if (e.t === 'sum') {
      for (const p of e.parts) {
        if (p.t === 'aff') aff = add(aff, p) as Affine;
        else parts.push(p);
      }
    } else parts.push(e);
  }
  // k·(x mod d) + k·d·floor(x / d) = k·x: what a reshape back to the original shape leaves.
  for (let i = 0; i < parts.length; i++) {
    const m = multipleOf(parts[i]!);
    if (m.core.t !== 'mod') continue;
    const { a: x, d } = m.core;
    const j = parts.findIndex((p) => {
      const q = multipleOf(p);
      return q.core.t === 'div' && q.core.d === d && q.k === m.k * d && key(q.core.a) === key(x);
    });
    if (j < 0) continue;
    const whole = scale(x, m.k);
    parts.splice(Math.max(i, j), 1);
    parts.splice(Math.min(i, j), 1);
    return [...parts, aff, whole].reduce((acc, p) => add(acc, p), constant(0) as IExpr);
  }
  if (aff.terms.size || aff.c) parts.push(aff);
  return parts.length === 1 ? parts[0]! : { t: 'sum', parts };
}

/** A non-affine part as k · core. */
function multipleOf(e: IExpr): { core: IExpr; k: number } {
  let k = 1;
  while (e.t === 'mul') {
    k *= e.d;
    e = e.a;
  }
  return { core: e, k };
}

export function scale(a: IExpr, k: number): IExpr {
  if (k === 1) return a;
  if (a.t === 'aff') {
    const terms = new Map<number, number>();
    for (const [v, c] of a.terms) terms.set(v, c * k);
    return affine(terms, a.c * k);
  }
  if (a.t === 'sum') return a.parts.map((p) => scale(p, k)).reduce(add, constant(0));
  if (k === 0) return constant(0);
  if (k < 0) throw new Error('index-expr: negative scale of a non-affine index');
  return { t: 'mul', a, d: k };
}

/** The [min, max] an expression takes over the loop extents. */
export function range(e: IExpr, ext: Extents): [number, number] {
  if (e.t === 'aff') {
    let lo = e.c;
    let hi = e.c;
    for (const [v, c] of e.terms) {
      const top = c * ((ext[v] ?? 1) - 1);
      lo += Math.min(0, top);
      hi += Math.max(0, top);
    }
    return [lo, hi];
  }
  if (e.t === 'sum') {
    return e.parts.map((p) => range(p, ext)).reduce(([a, b], [c, d]) => [a + c, b + d], [0, 0]);
  }
  const [lo, hi] = range(e.a, ext);
  if (e.t === 'mul') return [lo * e.d, hi * e.d];
  if (e.t === 'div') return [Math.floor(lo / e.d), Math.floor(hi / e.d)];
  return lo >= 0 && hi < e.d ? [lo, hi] : [0, e.d - 1];
}

/** A summand with the factor every value of it is a multiple of (|coeff| of a term, d of a·d). */
interface Atom {
  readonly e: IExpr;
  readonly factor: number;
}

/** `e` as summands (single affine terms and non-affine parts) plus its constant. */
function atomsOf(e: IExpr): { atoms: Atom[]; c: number } {
  const atoms: Atom[] = [];
  let c = 0;
  const visit = (x: IExpr): void => {
    if (x.t === 'aff') {
      c += x.c;
      for (const [v, k] of x.terms) atoms.push({ e: affine(new Map([[v, k]]), 0), factor: Math.abs(k) });
    } else if (x.t === 'sum') x.parts.forEach(visit);
    else atoms.push({ e: x, factor: x.t === 'mul' ? x.d : 1 });
  };
  visit(e);
  return { atoms, c };
}

/** Σ atoms / g + c (every atom's factor is a multiple of g). */
function sumDividedBy(atoms: readonly Atom[], g: number, c: number): IExpr {
  let acc: IExpr = constant(c);
  for (const a of atoms) {
    if (a.e.t === 'aff') acc = add(acc, affine(new Map([...a.e.terms].map(([v, k]) => [v, k / g])), 0));
    else if (a.e.t === 'mul') acc = add(acc, a.e.d === g ? a.e.a : { t: 'mul', a: a.e.a, d: a.e.d / g });
    else throw new Error('index-expr: dividing an atom that is not a multiple');
  }
  return acc;
}

const sumOf = (atoms: readonly Atom[], c: number): IExpr => atoms.reduce<IExpr>((acc, a) => add(acc, a.e), constant(c));

/** Divisors of d strictly between 1 and d, largest first. */
function properDivisors(d: number): number[] {
  const out: number[] = [];
  for (let g = Math.floor(d / 2); g > 1; g--) if (d % g === 0) out.push(g);
  return out;
}

/**
 * `e = d·q + r` with r ≥ 0 over the extents: q collects the summands that are multiples of d
 * (and whole multiples of d moved in from the constant), r the rest.
 * NOTE: code generators divide with unsigned/truncating division, so every div/mod operand
 * they see must be non-negative: r is shifted up by multiples of d until it is.
 */
function splitMultiple(e: IExpr, d: number, ext: Extents): { q: IExpr; rest: Atom[]; c: number } {
  const { atoms, c } = atomsOf(e);
  const inQ = atoms.filter((a) => a.factor % d === 0);
  const rest = atoms.filter((a) => a.factor % d !== 0);
  let k = Math.floor(c / d);
  let rc = c - k * d;
  const lo = range(sumOf(rest, rc), ext)[0];
  if (lo < 0) {
    const up = Math.ceil(-lo / d);
    k -= up;
    rc += up * d;
  }
  return { q: sumDividedBy(inQ, d, k), rest, c: rc };
}

/**
 * `rest + c` (≥ 0) as g·A + R with 0 <= R < g for the largest g dividing d that allows it,
 * A ≥ 0 being the summands that are multiples of g; null when no such g exists.
 */
function splitBelow(rest: readonly Atom[], c: number, d: number, ext: Extents): { g: number; a: IExpr; r: IExpr } | null {
  for (const g of properDivisors(d)) {
    const big = rest.filter((a) => a.factor % g === 0);
    if (big.length === 0) continue;
    const small = rest.filter((a) => a.factor % g !== 0);
    const kc = Math.floor(c / g);
    const r = sumOf(small, c - kc * g);
    const [lo, hi] = range(r, ext);
    if (lo < 0 || hi >= g) continue;
    const a = sumDividedBy(big, g, kc);
    if (range(a, ext)[0] < 0) continue;
    return { g, a, r };
  }
  return null;
}

/**
 * floor(a / d) for a ≥ 0, simplified: multiples of d leave the division, and a remainder
 * below a divisor g of d drops out (floor((g·A + R) / d) = floor(A / (d/g)) for 0 <= R < g).
 */
export function div(a: IExpr, d: number, ext: Extents): IExpr {
  if (d === 1) return a;
  const { q, rest, c } = splitMultiple(a, d, ext);
  const r = sumOf(rest, c);
  const [, hi] = range(r, ext);
  if (hi < d) return q;
  const below = splitBelow(rest, c, d, ext);
  if (below) return add(q, div(below.a, d / below.g, ext));
  return add(q, { t: 'div', a: r, d });
}

/** a mod d for a ≥ 0, simplified the same way (g·A + R mod d = g·(A mod d/g) + R). */
export function mod(a: IExpr, d: number, ext: Extents): IExpr {
  if (d === 1) return constant(0);
  const { rest, c } = splitMultiple(a, d, ext);
  const r = sumOf(rest, c);
  const [, hi] = range(r, ext);
  if (hi < d) return r;
  const below = splitBelow(rest, c, d, ext);
  if (below) return add(scale(mod(below.a, d / below.g, ext), below.g), below.r);
  return { t: 'mod', a: r, d };
}

/** A stable text key (memoization, CSE of loads). */
export function key(e: IExpr): string {
  if (e.t === 'aff') return `${[...e.terms].sort((x, y) => x[0] - y[0]).map(([v, c]) => `${c}*i${v}`).join('+')}+${e.c}`;
  if (e.t === 'sum') return `(${e.parts.map(key).join('+')})`;
  return `(${key(e.a)}${e.t === 'div' ? '/' : e.t === 'mod' ? '%' : '*'}${e.d})`;
}

/** JavaScript source for the expression, given loop-variable names. */
export function toJs(e: IExpr, name: (v: number) => string): string {
  if (e.t === 'aff') {
    const parts = [...e.terms].sort((x, y) => x[0] - y[0]).map(([v, c]) => (c === 1 ? name(v) : `${c} * ${name(v)}`));
    if (e.c !== 0 || parts.length === 0) parts.push(String(e.c));
    return parts.join(' + ');
  }
  if (e.t === 'sum') return e.parts.map((p) => `(${toJs(p, name)})`).join(' + ');
  if (e.t === 'mul') return `(${toJs(e.a, name)}) * ${e.d}`;
  // NOTE: operands are non-negative, so truncating division is floor division.
  return e.t === 'div' ? `(((${toJs(e.a, name)}) / ${e.d}) | 0)` : `((${toJs(e.a, name)}) % ${e.d})`;
}

/** Row-major linear index of a multi-index. */
export function linearize(idx: readonly IExpr[], shape: readonly number[]): IExpr {
  let acc: IExpr = constant(0);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1) acc = add(acc, scale(idx[d]!, stride));
    stride *= shape[d]!;
  }
  return acc;
}

/** Multi-index of a linear index in `shape`. */
export function delinearize(lin: IExpr, shape: readonly number[], ext: Extents): IExpr[] {
  const out: IExpr[] = new Array(shape.length);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = shape[d] === 1 ? constant(0) : mod(div(lin, stride, ext), shape[d]!, ext);
    stride *= shape[d]!;
  }
  return out;
}

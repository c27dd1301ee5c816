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
  if (aff.terms.size || aff.c) parts.push(aff);
  return parts.length === 1 ? parts[0]! : { t: 'sum', parts };
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

/** floor(a / d), simplified when the remainder provably stays in [0, d). */
export function div(a: IExpr, d: number, ext: Extents): IExpr {
  if (d === 1) return a;
  if (a.t === 'aff') {
    const q = new Map<number, number>();
    const r = new Map<number, number>();
    for (const [v, c] of a.terms) (c % d === 0 ? q : r).set(v, c % d === 0 ? c / d : c);
    const qc = Math.floor(a.c / d);
    const rest = affine(r, a.c - qc * d);
    const [lo, hi] = range(rest, ext);
    if (lo >= 0 && hi < d) return affine(q, qc);
  }
  const [lo, hi] = range(a, ext);
  if (lo >= 0 && hi < d) return constant(0);
  return { t: 'div', a, d };
}

/** a mod d, simplified when a provably stays in [0, d) after dropping multiples of d. */
export function mod(a: IExpr, d: number, ext: Extents): IExpr {
  if (d === 1) return constant(0);
  if (a.t === 'aff') {
    const r = new Map<number, number>();
    for (const [v, c] of a.terms) if (c % d !== 0) r.set(v, c);
    const rest = affine(r, ((a.c % d) + d) % d);
    const [lo, hi] = range(rest, ext);
    if (lo >= 0 && hi < d) return rest;
    return { t: 'mod', a: rest, d };
  }
  const [lo, hi] = range(a, ext);
  if (lo >= 0 && hi < d) return a;
  return { t: 'mod', a, d };
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

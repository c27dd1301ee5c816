/**
 * Stage 1 of the fused-kernel wasm code generator (`wasm-kernel.ts`): a loop nest's plan. Drop
 * size-1 loops, collapse adjacent loops whose index expressions are all mergeable ([128,256]
 * contiguous → one loop of 32768), and pick the loop to run four lanes at a time: the
 * innermost loop, or for a reduction over leading axes the innermost output loop (column
 * sums), whichever reads memory contiguously; guards on it must hold on a range of it that is
 * fixed (pad, concat) or moves with outer loops (an unfold's window offset).
 */
import { add, type Affine, type IExpr, loopVar, scale } from '../ir/index-expr.js';
import { type Cond, indexExprs, type LoopNest, type SExpr, walkNodes } from '../ir/loop-nest.js';

/** What planning needs of the kernel options (see `WasmKernelOptions`). */
export interface PlanOptions {
  vectorize?: boolean;
  split?: boolean;
}

// NOTE: loop-variable sets are bit masks; a nest has at most a tensor's rank of loops.
const bit = (v: number): number => 1 << v;
export const has = (mask: number, v: number): boolean => ((mask >> v) & 1) === 1;
export const union = (a: number, b: number): number => a | b;

// ---- index expressions --------------------------------------------------------------------

/** Rebuilds `e` with `f` applied to every affine part. */
function mapAffine(e: IExpr, f: (a: Affine) => Affine): IExpr {
  if (e.t === 'aff') return f(e);
  if (e.t === 'sum') return { t: 'sum', parts: e.parts.map((p) => mapAffine(p, f)) };
  return { t: e.t, a: mapAffine(e.a, f), d: e.d };
}

function forEachAffine(e: IExpr, f: (a: Affine) => void): void {
  if (e.t === 'aff') f(e);
  else if (e.t === 'sum') e.parts.forEach((p) => forEachAffine(p, f));
  else forEachAffine(e.a, f);
}

/** Loop variables an index expression reads, as a bit mask. */
export function varsOf(e: IExpr): number {
  let m = 0;
  forEachAffine(e, (a) => {
    for (const v of a.terms.keys()) m = union(m, bit(v));
  });
  return m;
}

/** `e = coeff·v + rest` with v only in the top-level affine part, or null (v under div/mod). */
export function splitVar(e: IExpr, v: number): { coeff: number; rest: IExpr } | null {
  if (!has(varsOf(e), v)) return { coeff: 0, rest: e };
  let coeff = 0;
  if (e.t === 'aff') coeff = e.terms.get(v) ?? 0;
  else if (e.t === 'sum') {
    for (const p of e.parts) {
      if (p.t === 'aff') coeff += p.terms.get(v) ?? 0;
      else if (has(varsOf(p), v)) return null;
    }
  } else return null;
  return { coeff, rest: add(e, scale(loopVar(v), -coeff)) };
}

/** A loop nest after loop collapsing, with the loop chosen for f32x4 lanes. */
export interface KernelPlan extends LoopNest {
  /** The loop run 4 lanes at a time, or null (scalar code). */
  readonly vectorLoop: number | null;
  /** Loads that are neither contiguous nor broadcast along the vector loop (read lane by lane). */
  readonly gathers: number;
  /** Iterations of the outermost loop when it is an output loop (what `split` divides), else 0. */
  readonly splitExtent: number;
}

function mapNest(nest: LoopNest, f: (e: IExpr) => IExpr): LoopNest {
  const memo = new Map<SExpr, SExpr>();
  const cond = (c: Cond): Cond => ({ ...c, e: f(c.e) });
  const walk = (s: SExpr): SExpr => {
    const hit = memo.get(s);
    if (hit) return hit;
    let r: SExpr;
    switch (s.t) {
      case 'load':
      case 'index':
        r = { ...s, index: f(s.index) };
        break;
      case 'const':
        r = s;
        break;
      case 'op':
        r = { ...s, args: s.args.map(walk) };
        break;
      case 'cast':
        r = { ...s, arg: walk(s.arg) };
        break;
      case 'select':
        r = { ...s, conds: s.conds.map(cond), a: walk(s.a), b: walk(s.b) };
        break;
    }
    memo.set(s, r);
    return r;
  };
  return { ...nest, body: walk(nest.body), out: f(nest.out) };
}

/** Renumbers loop variables: `to(v)` is the new number, or null to substitute 0. */
function renumber(nest: LoopNest, to: (v: number) => number | null): LoopNest {
  return mapNest(nest, (e) =>
    mapAffine(e, (a) => {
      const terms = new Map<number, number>();
      for (const [v, c] of a.terms) {
        const nv = to(v);
        if (nv !== null) terms.set(nv, (terms.get(nv) ?? 0) + c);
      }
      return { t: 'aff', terms, c: a.c };
    }),
  );
}

/** Drops size-1 loops and merges adjacent loops where every affine part allows it. */
export function collapseLoops(nest: LoopNest): LoopNest {
  let cur: LoopNest = nest;
  // Size-1 loops: the variable is always 0.
  for (let v = cur.extents.length - 1; v >= 0; v--) {
    if (cur.extents[v] !== 1) continue;
    const drop = v;
    cur = {
      ...renumber(cur, (u) => (u === drop ? null : u > drop ? u - 1 : u)),
      extents: cur.extents.filter((_, i) => i !== drop),
      outerLoops: cur.outerLoops - (drop < cur.outerLoops ? 1 : 0),
    };
  }
  // Adjacent loops d, d+1 of one group merge when coeff(d) = coeff(d+1)·extent(d+1) everywhere:
  // i_d·E + i_{d+1} then runs as one variable with coeff(d+1).
  for (let d = cur.extents.length - 2; d >= 0; d--) {
    const inner = cur.extents[d + 1]!;
    if (d < cur.outerLoops !== d + 1 < cur.outerLoops) continue;
    let mergeable = true;
    for (const e of indexExprs(cur)) {
      forEachAffine(e, (a) => {
        if ((a.terms.get(d) ?? 0) !== (a.terms.get(d + 1) ?? 0) * inner) mergeable = false;
      });
    }
    if (!mergeable) continue;
    const at = d;
    const extents = cur.extents;
    cur = {
      ...renumber(cur, (u) => (u === at ? null : u > at ? u - 1 : u)),
      extents: extents.flatMap((x, i) => (i === at ? [] : i === at + 1 ? [extents[at]! * x] : [x])),
      outerLoops: cur.outerLoops - (at < cur.outerLoops ? 1 : 0),
    };
  }
  return cur;
}

const BOOL_OPS = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logical_and', 'logical_or', 'logical_not', 'where']);


/**
 * A guard `lo <= i_v + c < hi` on loop `v` alone: it holds on one static range of `v`, so the
 * vector loop can be split into segments where it is known (pad, concat, unslice on that axis).
 */
export function staticRange(c: Cond, v: number): { from: number; to: number } | null {
  if (c.t !== 'range' || c.e.t !== 'aff' || c.e.terms.size !== 1 || c.e.terms.get(v) !== 1) return null;
  return { from: c.lo - c.e.c, to: c.hi - c.e.c };
}

/**
 * A guard `lo <= i_v + rest < hi` whose rest reads only loops outside `v` (an unfold's window
 * offset): it holds on one range of `v` per run of the loop, computed before it. Returns rest.
 */
export function movingRange(c: Cond, v: number): Affine | null {
  if (c.t !== 'range' || c.e.t !== 'aff' || c.e.terms.get(v) !== 1) return null;
  for (const u of c.e.terms.keys()) if (u > v) return null;
  return add(c.e, scale(loopVar(v), -1)) as Affine;
}

/** Gathers needed with `v` as the vector loop, or null where `v` cannot be vectorized. */
function vectorCost(p: LoopNest, v: number, segments: boolean): number | null {
  if ((p.extents[v] ?? 0) < 4) return null;
  if (v < p.outerLoops && splitVar(p.out, v)?.coeff !== 1) return null;
  if (p.reduce && p.outDtype === 'bool') return null;
  let gathers = 0;
  let ok = true;
  walkNodes(p.body, (s) => {
    const guard = (c: Cond): boolean => has(varsOf(c.e), v) && !(segments && (staticRange(c, v) || movingRange(c, v)));
    if (s.t === 'select' && s.conds.some(guard)) ok = false;
    if (s.t === 'op' && s.dtype === 'bool' && !BOOL_OPS.has(s.op)) ok = false;
    if (s.t === 'index' && s.dtype === 'bool') ok = false;
    if (s.t === 'load') {
      const c = splitVar(s.index, v)?.coeff;
      if (c !== 0 && c !== 1) gathers++;
    }
  });
  return ok ? gathers : null;
}

/** Collapses the nest and chooses its vector loop. */
export function planLoopNest(nest: LoopNest, options: PlanOptions = {}): KernelPlan {
  const p = collapseLoops(nest);
  const n = p.extents.length;
  const candidates: number[] = [];
  if (n > 0) candidates.push(n - 1);
  if (p.reduce && p.outerLoops >= 1 && p.outerLoops - 1 !== n - 1) candidates.push(p.outerLoops - 1);
  let best: { v: number; gathers: number } | null = null;
  if (options.vectorize !== false) {
    for (const v of candidates) {
      // NOTE: a `split` kernel's loop 0 has dynamic bounds, so it cannot be cut into static segments.
      const g = vectorCost(p, v, !(options.split && v === 0));
      if (g !== null && (!best || g < best.gathers)) best = { v, gathers: g };
    }
  }
  const splitExtent = p.outerLoops >= 1 ? p.extents[0]! : 0;
  return { ...p, vectorLoop: best?.v ?? null, gathers: best?.gathers ?? 0, splitExtent };
}

import type { Value } from './graph.js';
import type { OpName } from './ops/index.js';
import type { Kernel } from './schedule.js';
import type { DType, Shape } from './types.js';
import { numel, shapesEqual } from './types.js';

const ELEMENTWISE = new Set(['unary', 'binary', 'ternary', 'cast']);
import { add, constant, delinearize, div, type Extents, type IExpr, key, linearize, loopVar, mod, range, scale } from './index-expr.js';
import { windowAttrs, windowOut } from './ops/conv.js';
import { ops } from './ops/index.js';

/** A guard on loop indices (padding, strided placement, concatenation ranges). */
export type Cond =
  | { readonly t: 'range'; readonly e: IExpr; readonly lo: number; readonly hi: number } // lo <= e < hi
  | { readonly t: 'divisible'; readonly e: IExpr; readonly d: number };

/** A scalar expression of a fused kernel, evaluated once per output (or reduced) element. */
export type SExpr =
  | { readonly t: 'load'; readonly input: number; readonly index: IExpr; readonly dtype: DType }
  | { readonly t: 'const'; readonly value: number; readonly dtype: DType }
  | { readonly t: 'index'; readonly index: IExpr; readonly dtype: DType }
  | { readonly t: 'op'; readonly op: OpName; readonly args: readonly SExpr[]; readonly dtype: DType }
  | { readonly t: 'cast'; readonly arg: SExpr; readonly dtype: DType }
  | { readonly t: 'select'; readonly conds: readonly Cond[]; readonly a: SExpr; readonly b: SExpr; readonly dtype: DType };

/**
 * A kernel as a loop nest: loops over `extents` (row-major), the value `body` per point,
 * written at `out` (pointwise) or combined into `out` with `reduce` (reduction).
 */
export interface LoopNest {
  readonly extents: Extents;
  readonly body: SExpr;
  readonly out: IExpr;
  readonly outSize: number;
  readonly outDtype: DType;
  readonly reduce: 'sum' | 'max' | 'min' | 'prod' | null;
  /** Number of leading loops that are not reduced (their body-order loops come first). */
  readonly outerLoops: number;
}

const ints = (v: unknown): number[] => v as number[];

/** Index into a value of shape `from` broadcast to `to` (NumPy alignment, size-1 dims fixed at 0). */
function broadcastIdx(idx: readonly IExpr[], from: Shape, to: Shape): IExpr[] {
  const off = to.length - from.length;
  return from.map((d, i) => (d === 1 ? constant(0) : idx[off + i]!));
}

/**
 * The index into `from` of the element at `idx` of its reshape to `to`. Dims are matched in
 * groups of equal size, so a reshape that only adds or drops size-1 dims, or merges or
 * splits some dims, keeps the other indices as they are (no division by the whole row).
 */
function reshapeIndex(idx: readonly IExpr[], to: Shape, from: Shape, ext: Extents): IExpr[] {
  if (to.includes(0) || from.includes(0)) return delinearize(linearize(idx, to), from, ext);
  const out: IExpr[] = [];
  let i = 0;
  let j = 0;
  while (i < from.length || j < to.length) {
    if (i < from.length && from[i] === 1) {
      out.push(constant(0));
      i++;
      continue;
    }
    if (j < to.length && to[j] === 1) {
      j++;
      continue;
    }
    const gi = [i];
    const gj = [j];
    let pi = from[i++]!;
    let pj = to[j++]!;
    while (pi !== pj) {
      if (pi < pj) {
        gi.push(i);
        pi *= from[i++]!;
      } else {
        gj.push(j);
        pj *= to[j++]!;
      }
    }
    // NOTE: a dim kept whole passes its index through: under a guard (pad, unfold) it may
    // range outside the dim where the guard fails, and `mod` would wrap it for nothing.
    if (gi.length === 1 && gj.length === 1) out.push(idx[gj[0]!]!);
    else out.push(...delinearize(linearize(gj.map((d) => idx[d]!), gj.map((d) => to[d]!)), gi.map((d) => from[d]!), ext));
  }
  return out;
}

/** Guards `0 <= e_d < size_d` for the indices that can leave that range over the loops. */
function inBounds(idx: readonly IExpr[], size: readonly number[], ext: Extents): Cond[] {
  return idx.flatMap((e, d): Cond[] => {
    const [lo, hi] = range(e, ext);
    return lo >= 0 && hi < size[d]! ? [] : [{ t: 'range', e, lo: 0, hi: size[d]! }];
  });
}

/**
 * The loops of a pointwise kernel, per output dim (row-major, so the output stays contiguous):
 * one loop per dim, except an unfold's [C·kh·kw, OH·OW] dims, which run as (C, kh, kw) and
 * (OH, OW) so that its window arithmetic stays affine.
 */
function loopGroups(v: Value): number[][] {
  const shape = v.type.shape;
  // An unfold under elementwise ops of the same shape (relu(unfold(x) + b)) sets the loops too.
  let n = v.node;
  for (let hops = 0; n && n.op !== 'unfold' && hops < 8; hops++) {
    const same: Value | undefined = ELEMENTWISE.has(ops[n.op].family) ? n.inputs.find((x) => x.node && shapesEqual(x.type.shape, shape)) : undefined;
    n = same?.node ?? null;
  }
  if (n?.op !== 'unfold') return shape.map((d) => [d]);
  const w = windowAttrs('unfold', n.attrs);
  const x = n.inputs[0]!.type;
  const [oh, ow] = windowOut('unfold', x, x.shape.slice(2), w);
  return [[shape[0]!], [x.shape[1]!, w.kernel[0], w.kernel[1]], [oh, ow]];
}

/** Lowers the fused expression of a pointwise or reduce kernel. */
export function lowerKernel(k: Kernel): LoopNest {
  const inputIndex = new Map(k.inputs.map((v, i) => [v, i]));
  const memo = new Map<string, SExpr>();
  let ext: number[] = [];

  const lower = (v: Value, idx: readonly IExpr[], top: boolean): SExpr => {
    const input = top ? undefined : inputIndex.get(v);
    if (input !== undefined) {
      return { t: 'load', input, index: linearize(idx, v.type.shape), dtype: v.type.dtype };
    }
    const mk = `${v.id}[${idx.map(key).join(',')}]`;
    const hit = memo.get(mk);
    if (hit) return hit;
    const r = lowerNode(v, idx);
    memo.set(mk, r);
    return r;
  };

  const lowerNode = (v: Value, idx: readonly IExpr[]): SExpr => {
    const n = v.node!;
    const out = v.type;
    const x = n.inputs[0];
    switch (n.op) {
      case 'const':
        return { t: 'const', value: n.attrs.value as number, dtype: out.dtype };
      case 'iota':
        return { t: 'index', index: idx[n.attrs.axis as number]!, dtype: out.dtype };
      case 'cast':
        return { t: 'cast', arg: lower(x!, broadcastIdx(idx, x!.type.shape, out.shape), false), dtype: out.dtype };
      case 'reshape':
        return lower(x!, reshapeIndex(idx, out.shape, x!.type.shape, ext), false);
      case 'permute': {
        const perm = ints(n.attrs.perm);
        const src: IExpr[] = new Array(perm.length);
        perm.forEach((p, i) => (src[p] = idx[i]!));
        return lower(x!, src, false);
      }
      case 'expand':
        return lower(x!, broadcastIdx(idx, x!.type.shape, out.shape), false);
      case 'slice': {
        const starts = ints(n.attrs.starts);
        const steps = ints(n.attrs.steps);
        return lower(x!, idx.map((e, d) => add(constant(starts[d]!), scale(e, steps[d]!))), false);
      }
      case 'flip': {
        const axes = ints(n.attrs.axes);
        return lower(x!, idx.map((e, d) => (axes.includes(d) ? add(constant(out.shape[d]! - 1), scale(e, -1)) : e)), false);
      }
      case 'pad': {
        const pads = ints(n.attrs.pads);
        const conds: Cond[] = [];
        const src = idx.map((e, d) => {
          const lo = pads[2 * d]!;
          if (pads[2 * d] || pads[2 * d + 1]) conds.push({ t: 'range', e, lo, hi: lo + x!.type.shape[d]! });
          return add(e, constant(-lo));
        });
        const fill: SExpr = { t: 'const', value: n.attrs.value as number, dtype: out.dtype };
        return conds.length ? { t: 'select', conds, a: lower(x!, src, false), b: fill, dtype: out.dtype } : lower(x!, src, false);
      }
      case 'unslice': {
        const starts = ints(n.attrs.starts);
        const ends = ints(n.attrs.ends);
        const steps = ints(n.attrs.steps);
        const conds: Cond[] = [];
        const src = idx.map((e, d) => {
          const full = starts[d] === 0 && ends[d] === out.shape[d] && steps[d] === 1;
          if (full) return e;
          conds.push({ t: 'range', e, lo: starts[d]!, hi: ends[d]! });
          const shifted = add(e, constant(-starts[d]!));
          if (steps[d] !== 1) conds.push({ t: 'divisible', e: shifted, d: steps[d]! });
          return div(shifted, steps[d]!, ext);
        });
        const zero: SExpr = { t: 'const', value: 0, dtype: out.dtype };
        return conds.length ? { t: 'select', conds, a: lower(x!, src, false), b: zero, dtype: out.dtype } : lower(x!, src, false);
      }
      case 'concat': {
        const axis = n.attrs.axis as number;
        let start = 0;
        const pieces = n.inputs.map((inp) => {
          const len = inp.type.shape[axis]!;
          const src = idx.map((e, d) => (d === axis ? add(e, constant(-start)) : e));
          const piece = { lo: start, hi: start + len, expr: lower(inp, src, false) };
          start += len;
          return piece;
        });
        // Nested selects: the last piece is the fallback.
        let acc = pieces[pieces.length - 1]!.expr;
        for (let i = pieces.length - 2; i >= 0; i--) {
          const p = pieces[i]!;
          acc = { t: 'select', conds: [{ t: 'range', e: idx[axis]!, lo: p.lo, hi: p.hi }], a: p.expr, b: acc, dtype: out.dtype };
        }
        return acc;
      }
      case 'unfold': {
        // out[n, (c, ki, kj), (oi, oj)] = x[n, c, oi·s - p + ki·d, oj·s - p + kj·d], 0 outside
        const w = windowAttrs('unfold', n.attrs);
        const [, , H, W] = x!.type.shape as [number, number, number, number];
        const [kh, kw] = w.kernel;
        const OW = windowOut('unfold', x!.type, [H, W], w)[1];
        const [nIdx, r, q] = idx as [IExpr, IExpr, IExpr];
        const c = div(r, kh * kw, ext);
        const ki = mod(div(r, kw, ext), kh, ext);
        const kj = mod(r, kw, ext);
        const i = add(add(scale(div(q, OW, ext), w.stride[0]), scale(ki, w.dilation[0])), constant(-w.padding[0]));
        const j = add(add(scale(mod(q, OW, ext), w.stride[1]), scale(kj, w.dilation[1])), constant(-w.padding[1]));
        const conds = inBounds([i, j], [H, W], ext);
        const value = lower(x!, [nIdx, c, i, j], false);
        return conds.length ? { t: 'select', conds, a: value, b: { t: 'const', value: 0, dtype: out.dtype }, dtype: out.dtype } : value;
      }
      case 'fold': {
        // out[n, c, i, j] = Σ over the window taps (ki, kj) that land on (i, j) of col[n, (c, ki, kj), (oi, oj)]
        const w = windowAttrs('fold', n.attrs);
        const [, , H, W] = out.shape as [number, number, number, number];
        const [kh, kw] = w.kernel;
        const [OH, OW] = windowOut('fold', x!.type, [H, W], w);
        const [nIdx, cIdx, iIdx, jIdx] = idx as [IExpr, IExpr, IExpr, IExpr];
        let acc: SExpr | null = null;
        for (let ki = 0; ki < kh; ki++) {
          for (let kj = 0; kj < kw; kj++) {
            const conds: Cond[] = [];
            const tap = (at: IExpr, k: number, axis: 0 | 1, count: number): IExpr => {
              const t = add(at, constant(w.padding[axis] - k * w.dilation[axis]));
              const [lo, hi] = range(t, ext);
              const s = w.stride[axis];
              if (lo < 0 || hi > (count - 1) * s) conds.push({ t: 'range', e: t, lo: 0, hi: (count - 1) * s + 1 });
              if (s !== 1) conds.push({ t: 'divisible', e: t, d: s });
              return div(t, s, ext);
            };
            const oi = tap(iIdx, ki, 0, OH);
            const oj = tap(jIdx, kj, 1, OW);
            const r = add(scale(cIdx, kh * kw), constant(ki * kw + kj));
            const load = lower(x!, [nIdx, r, add(scale(oi, OW), oj)], false);
            const term: SExpr = conds.length ? { t: 'select', conds, a: load, b: { t: 'const', value: 0, dtype: out.dtype }, dtype: out.dtype } : load;
            acc = acc ? { t: 'op', op: 'add', args: [acc, term], dtype: out.dtype } : term;
          }
        }
        return acc!;
      }
      default: {
        // elementwise: operands broadcast to the output
        const args = n.inputs.map((inp) => lower(inp, broadcastIdx(idx, inp.type.shape, out.shape), false));
        return { t: 'op', op: n.op, args, dtype: out.dtype };
      }
    }
  };

  if (k.kind === 'pointwise') {
    const shape = k.node.out.type.shape;
    const groups = loopGroups(k.node.out);
    ext = groups.flat();
    let next = 0;
    const idx = groups.map((g) => linearize(g.map(() => loopVar(next++)), g));
    const body = lower(k.node.out, idx, true);
    return {
      extents: ext,
      body,
      out: linearize(ext.map((_, d) => loopVar(d)), ext),
      outSize: numel(shape),
      outDtype: k.node.out.type.dtype,
      reduce: null,
      outerLoops: ext.length,
    };
  }
  // reduce: loops over the operand's shape, non-reduced dims first so accumulation stays local.
  const x = k.node.inputs[0]!;
  const axes = ints(k.node.attrs.axes);
  const inShape = x.type.shape;
  const order = [...inShape.keys()].filter((d) => !axes.includes(d)).concat(axes);
  ext = order.map((d) => inShape[d]!);
  const idx: IExpr[] = new Array(inShape.length);
  order.forEach((d, loop) => (idx[d] = loopVar(loop)));
  const body = lower(x, idx, false);
  const outShape = k.node.out.type.shape;
  const outIdx = outShape.map((s, d) => (s === 1 ? constant(0) : idx[d]!));
  return {
    extents: ext,
    body,
    out: linearize(outIdx, outShape),
    outSize: numel(outShape),
    outDtype: k.node.out.type.dtype,
    reduce: k.node.op as 'sum' | 'max' | 'min' | 'prod',
    outerLoops: inShape.length - axes.length,
  };
}

/**
 * How many times each subexpression of `root` is referenced: code generators name the
 * ones referenced more than once, so shared work is computed once per element.
 */
export function referenceCounts(root: SExpr): Map<SExpr, number> {
  const refs = new Map<SExpr, number>();
  const count = (e: SExpr): void => {
    const n = (refs.get(e) ?? 0) + 1;
    refs.set(e, n);
    if (n === 1) childrenOf(e).forEach(count);
  };
  count(root);
  return refs;
}

/** Calls `f` once on every distinct node of the expression `root` (a DAG), parents first. */
export function walkNodes(root: SExpr, f: (s: SExpr) => void): void {
  const seen = new Set<SExpr>();
  const walk = (s: SExpr): void => {
    if (seen.has(s)) return;
    seen.add(s);
    f(s);
    childrenOf(s).forEach(walk);
  };
  walk(root);
}

const LEAF: readonly SExpr[] = [];

/** The value operands of an expression node (a select's conditions are index expressions, not among them). */
export function childrenOf(s: SExpr): readonly SExpr[] {
  switch (s.t) {
    case 'op':
      return s.args;
    case 'cast':
      return [s.arg];
    case 'select':
      return [s.a, s.b];
    default:
      return LEAF;
  }
}

/** Every index expression a loop nest uses (for loop merging and analysis). */
export function indexExprs(nest: LoopNest): IExpr[] {
  const out: IExpr[] = [nest.out];
  walkNodes(nest.body, (e) => {
    if (e.t === 'load' || e.t === 'index') out.push(e.index);
    if (e.t === 'select') e.conds.forEach((c) => out.push(c.e));
  });
  return out;
}

export { range };
export { mod };

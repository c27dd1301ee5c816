import { describe, expect, it } from 'vitest';
import { add, constant, delinearize, div, type Extents, type IExpr, key, linearize, loopVar, mod, scale } from '../../src/ir/index-expr.js';

/** Evaluates `e` at a point, checking the code generators' contract: div/mod operands are never negative. */
function evaluate(e: IExpr, at: readonly number[]): number {
  if (e.t === 'aff') {
    let s = e.c;
    for (const [v, c] of e.terms) s += c * at[v]!;
    return s;
  }
  if (e.t === 'sum') return e.parts.reduce((acc, p) => acc + evaluate(p, at), 0);
  const a = evaluate(e.a, at);
  if (e.t === 'mul') return a * e.d;
  if (a < 0) throw new Error(`negative ${e.t} operand ${a}`);
  return e.t === 'div' ? Math.floor(a / e.d) : a % e.d;
}

function* points(ext: Extents): Generator<number[]> {
  const at = ext.map(() => 0);
  const total = ext.reduce((a, b) => a * b, 1);
  for (let n = 0; n < total; n++) {
    let r = n;
    for (let d = ext.length - 1; d >= 0; d--) {
      at[d] = r % ext[d]!;
      r = Math.floor(r / ext[d]!);
    }
    yield at;
  }
}

/** A seeded generator (tests must be reproducible). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('index expressions: div and mod', () => {
  it('equal floor division and remainder at every point of random non-negative affine expressions (no negative operands left)', () => {
    const r = rng(7);
    for (let trial = 0; trial < 400; trial++) {
      const ext = Array.from({ length: 1 + Math.floor(r() * 3) }, () => 1 + Math.floor(r() * 9));
      let e: IExpr = constant(Math.floor(r() * 40));
      for (let v = 0; v < ext.length; v++) {
        const c = Math.floor(r() * 30) - 8;
        e = add(e, scale(loopVar(v), c));
        // keep e >= 0: add the most negative value back
        if (c < 0) e = add(e, constant(-c * (ext[v]! - 1)));
      }
      const d = [2, 3, 4, 6, 8, 12, 14, 28, 56][Math.floor(r() * 9)]!;
      const q = div(e, d, ext);
      const m = mod(e, d, ext);
      // and one level deeper, as chained reshapes produce
      const d2 = [2, 3, 7][Math.floor(r() * 3)]!;
      const q2 = mod(div(e, d, ext), d2, ext);
      for (const at of points(ext)) {
        const x = evaluate(e, at);
        expect(evaluate(q, at)).toBe(Math.floor(x / d));
        expect(evaluate(m, at)).toBe(x % d);
        expect(evaluate(q2, at)).toBe(Math.floor(x / d) % d2);
      }
    }
  });

  it('give back the loop index when a reshape is undone (split, then merged again)', () => {
    const r = rng(11);
    for (let trial = 0; trial < 200; trial++) {
      // a row-major index over [a, b·c] read as [a, b, c] and linearized again
      const [a, b, c] = [1 + Math.floor(r() * 5), 2 + Math.floor(r() * 6), 2 + Math.floor(r() * 6)];
      const ext = [a, b * c];
      const lin = linearize([loopVar(0), loopVar(1)], ext);
      const back = linearize(delinearize(lin, [a, b, c], ext), [a, b, c]);
      expect(key(back)).toBe(key(lin));
      for (const at of points(ext)) expect(evaluate(back, at)).toBe(evaluate(lin, at));
    }
  });

  it('reduce a reshape of a pooling tile view to plain loop arithmetic', () => {
    // [32,8,28,28] read as [32,8,14,2,14,2]: every index is a loop variable or a div/mod of w, h by 2.
    const ext = [32, 8, 28, 28];
    const lin = linearize([0, 1, 2, 3].map(loopVar), ext);
    const idx = delinearize(lin, [32, 8, 14, 2, 14, 2], ext);
    // 6272·n + 784·c + 28·h + w → [n, c, h/2, h%2, w/2, w%2]
    expect(idx.map(key)).toEqual(['1*i0+0', '1*i1+0', '(1*i2+0/2)', '(1*i2+0%2)', '(1*i3+0/2)', '(1*i3+0%2)']);
    const flat = linearize(idx.filter((_, d) => d !== 3 && d !== 5), [32, 8, 14, 14]);
    for (const at of [[0, 0, 0, 0], [3, 5, 27, 27], [31, 7, 13, 6]]) {
      const [n, c, h, w] = at as [number, number, number, number];
      expect(evaluate(flat, at)).toBe(1568 * n + 196 * c + 14 * Math.floor(h / 2) + Math.floor(w / 2));
    }
  });
});

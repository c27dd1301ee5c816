import { jvp as jvpTransform } from '../autodiff/jvp.js';
import { vjp as vjpTransform } from '../autodiff/vjp.js';
import { ArgumentError } from '../ir/errors.js';
import { dce } from '../passes/dce.js';
import { applyGraph, trace } from './capture.js';
import type { Tensor } from './tensor.js';

type Fn = (...xs: Tensor[]) => Tensor;

function argnumsOf(argnums: number | readonly number[], n: number, op: string): number[] {
  const list = typeof argnums === 'number' ? [argnums] : [...argnums];
  for (const a of list) {
    if (!Number.isInteger(a) || a < 0 || a >= n) throw new ArgumentError(`${op}: argnum ${a} is out of range for ${n} arguments`);
  }
  return list;
}

/**
 * JAX-style `valueAndGrad`: traces `f` to IR, differentiates it with the VJP transform, and
 * applies the result to the arguments (lazily: it composes with `jit` and other transforms).
 * `f` must return a one-element tensor. The results carry no autograd history.
 *
 * ```ts
 * const [loss, [dw]] = valueAndGrad((w, x) => x.matmul(w).square().sum())(w, x);
 * ```
 */
export function valueAndGrad(f: Fn, argnums: number | readonly number[] = 0): (...xs: Tensor[]) => [Tensor, Tensor[]] {
  return (...xs) => {
    const wrt = argnumsOf(argnums, xs.length, 'valueAndGrad');
    const { graph, consts } = trace(f, xs.map((x) => x.type), f.name || 'f');
    const { graph: g } = vjpTransform(graph, { wrt, of: [0] });
    const [value, ...grads] = applyGraph(dce(g), [...xs, ...consts]);
    return [value!, grads];
  };
}

/** JAX-style `grad`: the gradient of `f` (a scalar function) with respect to argument(s) `argnums`. */
export function grad(f: Fn, argnums: number | readonly number[] = 0): (...xs: Tensor[]) => Tensor | Tensor[] {
  const vg = valueAndGrad(f, argnums);
  return (...xs) => {
    const [, grads] = vg(...xs);
    return typeof argnums === 'number' ? grads[0]! : grads;
  };
}

/**
 * JAX-style `vjp`: returns `f(...primals)` and a function mapping an output cotangent to
 * one cotangent per primal.
 */
export function vjp(f: Fn, ...primals: Tensor[]): [Tensor, (cotangent: Tensor) => Tensor[]] {
  const { graph, consts } = trace(f, primals.map((x) => x.type), f.name || 'f');
  const wrt = primals.map((_, i) => i);
  const [out] = applyGraph(graph, [...primals, ...consts]);
  const { graph: g } = vjpTransform(graph, { wrt, of: [0], seeds: 'param', keepOutputs: false });
  const back = dce(g);
  // vjp params: primals, consts, seed
  return [out!, (ct: Tensor) => applyGraph(back, [...primals, ...consts, ct])];
}

/** JAX-style `jvp`: `f(...primals)` and its directional derivative along `tangents`. */
export function jvp(f: Fn, primals: readonly Tensor[], tangents: readonly Tensor[]): [Tensor, Tensor] {
  if (primals.length !== tangents.length) {
    throw new ArgumentError(`jvp: expected one tangent per primal, got ${primals.length} primals and ${tangents.length} tangents`);
  }
  const { graph, consts } = trace(f, primals.map((x) => x.type), f.name || 'f');
  const wrt = primals.map((_, i) => i);
  const { graph: g } = jvpTransform(graph, wrt);
  // jvp params: primals, consts, tangents (for wrt only)
  const [out, tangent] = applyGraph(dce(g), [...primals, ...consts, ...tangents]);
  return [out!, tangent!];
}

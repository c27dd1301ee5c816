import { GraphBuilder } from '../ir/builder.js';
import { ArgumentError } from '../ir/errors.js';
import type { Graph, Value } from '../ir/graph.js';
import { PrimOps } from '../ir/lang/prim.js';
import { formatType, numel } from '../ir/types.js';
import { vjpRule } from './rules.js';

export interface VjpOptions {
  /** Parameter indices to differentiate with respect to (default: every f32 parameter). */
  readonly wrt?: readonly number[];
  /** Output indices to pull back from (default: all outputs). */
  readonly of?: readonly number[];
  /**
   * 'implicit': each output in `of` must hold one element and is seeded with 1
   * (PyTorch's `backward()` without a gradient); 'param': one seed parameter per output.
   */
  readonly seeds?: 'implicit' | 'param';
  /** Keep the original outputs in front of the gradients (default true). */
  readonly keepOutputs?: boolean;
  /** Name of the new function (default `<name>_vjp`). */
  readonly name?: string;
}

export interface VjpResult {
  /** params: original params, then seeds; outputs: [original outputs,] then one gradient per `wrt`. */
  readonly graph: Graph;
  /** Per `wrt` entry: true when no gradient flows to it (PyTorch's `None`; the graph returns zeros). */
  readonly unused: readonly boolean[];
}

/**
 * Reverse-mode AD as a graph transform: the backward pass is emitted as ordinary IR after
 * a copy of the forward graph, so it can be optimized and differentiated again.
 *
 * ```ts
 * const { graph } = vjp(f, { wrt: [0] });   // f(x) -> loss  ⇒  f_vjp(x) -> (loss, dloss/dx)
 * ```
 */
export function vjp(graph: Graph, opts: VjpOptions = {}): VjpResult {
  const wrt = opts.wrt ?? graph.params.flatMap((p, i) => (p.type.dtype === 'f32' ? [i] : []));
  const of = opts.of ?? graph.outputs.map((_, i) => i);
  const seedMode = opts.seeds ?? 'implicit';
  const b = new GraphBuilder(opts.name ?? `${graph.name}_vjp`);
  const o = new PrimOps(b);

  // Copy the forward graph, marking values that depend on a `wrt` parameter.
  const env = new Map<Value, Value>();
  const active = new Set<Value>();
  graph.params.forEach((p, i) => {
    const np = b.param(p.name ?? `arg${i}`, p.type);
    env.set(p, np);
    if (wrt.includes(i)) {
      if (p.type.dtype !== 'f32') {
        throw new ArgumentError(`vjp: only floating-point parameters can require gradients, got %${p.name ?? i}: ${formatType(p.type)}`);
      }
      active.add(np);
    }
  });
  const seedParams = seedMode === 'param' ? of.map((j, k) => b.param(`seed${k}`, graph.outputs[j]!.type)) : [];
  const forward = graph.nodes.map((n) => {
    const out = b.push(
      n.op,
      n.inputs.map((v) => env.get(v)!),
      n.attrs,
      n.out.type,
      n.loc,
    );
    env.set(n.out, out);
    if (out.type.dtype === 'f32' && vjpRule(n.op) && n.inputs.some((v) => active.has(env.get(v)!))) active.add(out);
    return out;
  });

  const grads = new Map<Value, Value>();
  const accumulate = (v: Value, g: Value) => {
    const prev = grads.get(v);
    grads.set(v, prev ? b.emit('add', [prev, g], {}) : g);
  };
  of.forEach((j, k) => {
    const out = env.get(graph.outputs[j]!)!;
    if (seedMode === 'param') return accumulate(out, seedParams[k]!);
    if (numel(out.type.shape) !== 1) {
      throw new ArgumentError(`backward: grad can be implicitly created only for scalar outputs, got ${formatType(out.type)}`);
    }
    accumulate(out, o.full(out.type.shape, 1));
  });

  for (let i = forward.length - 1; i >= 0; i--) {
    const out = forward[i]!;
    const g = grads.get(out);
    const node = out.node!;
    if (!g || !active.has(out)) continue;
    const needs = node.inputs.map((v) => active.has(v));
    b.loc = node.loc;
    const ins = vjpRule(node.op)!(o, g, node.inputs, out, node.attrs, needs);
    ins.forEach((gi, k) => {
      const x = node.inputs[k]!;
      if (gi && needs[k]) accumulate(x, o.unbroadcast(gi, x.type.shape));
    });
    b.loc = undefined;
  }

  const unused: boolean[] = [];
  const gradOuts = wrt.map((i) => {
    const p = b.params[i]!;
    const g = grads.get(p);
    unused.push(!g);
    return g ?? o.full(p.type.shape, 0);
  });
  const keep = opts.keepOutputs ?? true;
  const outs = keep ? graph.outputs.map((v) => env.get(v)!) : [];
  return { graph: b.build([...outs, ...gradOuts]), unused };
}

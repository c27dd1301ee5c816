import { GraphBuilder } from '../ir/builder.js';
import { ArgumentError } from '../ir/errors.js';
import type { Graph, Value } from '../ir/graph.js';
import type { TensorType } from '../ir/types.js';
import { getBackend } from '../runtime/backend.js';
import { noGrad } from './grad-mode.js';
import { executableCache, LazyBuffer, realize } from './lazy.js';
import { Tensor } from './tensor.js';

export interface Traced {
  /** params: the traced arguments, then the captured constants; outputs: what `fn` returned. */
  readonly graph: Graph;
  /** Concrete tensors `fn` closed over, bound to the trailing params. */
  readonly consts: readonly LazyBuffer[];
}

/**
 * Captures a function of tensors as one IR graph, without computing anything: the
 * arguments are placeholders, so every op `fn` applies becomes a node.
 *
 * ```ts
 * const { graph } = trace((x, w) => x.matmul(w).relu(), [tensorType('f32', [2, 3]), tensorType('f32', [3, 4])]);
 * ```
 */
export function trace(fn: (...xs: Tensor[]) => Tensor | readonly Tensor[], types: readonly TensorType[], name = 'traced'): Traced {
  const holders = types.map((t) => LazyBuffer.placeholder(t));
  const result = noGrad(() => fn(...holders.map((h) => new Tensor(h))));
  const outs = result instanceof Tensor ? [result] : [...result];
  if (outs.some((o) => !(o instanceof Tensor))) throw new ArgumentError(`trace @${name}: the function must return a Tensor or an array of Tensors`);

  const b = new GraphBuilder(name);
  const env = new Map<LazyBuffer, Value>();
  holders.forEach((h, i) => env.set(h, b.param(`x${i}`, h.type)));
  const consts: LazyBuffer[] = [];
  const visit = (root: LazyBuffer): void => {
    const stack: [LazyBuffer, boolean][] = [[root, false]];
    while (stack.length) {
      const [buf, expanded] = stack.pop()!;
      if (env.has(buf)) continue;
      if (!buf.realized && (buf.op === 'const' || buf.op === 'iota')) {
        // Constants stay in the graph, where passes fold them and kernels inline them.
        env.set(buf, b.push(buf.op, [], buf.attrs, buf.type));
        continue;
      }
      if (buf.realized || !buf.symbolic) {
        // A value that does not depend on the arguments: computed once, passed in.
        realize([buf]);
        env.set(buf, b.param(`c${consts.length}`, buf.type));
        consts.push(buf);
        continue;
      }
      if (!expanded) {
        stack.push([buf, true]);
        for (const x of [...buf.inputs].reverse()) if (!env.has(x)) stack.push([x, false]);
        continue;
      }
      env.set(buf, b.push(buf.op!, buf.inputs.map((x) => env.get(x)!), buf.attrs, buf.type));
    }
  };
  for (const o of outs) visit(o._buf);
  return { graph: b.build(outs.map((o) => env.get(o._buf)!)), consts };
}

/**
 * Applies a graph to tensors lazily: its nodes become pending values over the arguments,
 * computed when read (or traced further, inside `trace`/`jit`).
 */
export function applyGraph(graph: Graph, args: readonly (Tensor | LazyBuffer)[]): Tensor[] {
  if (args.length !== graph.params.length) {
    throw new ArgumentError(`apply @${graph.name}: expected ${graph.params.length} arguments, got ${args.length}`);
  }
  const env = new Map<Value, LazyBuffer>();
  graph.params.forEach((p, i) => {
    const a = args[i]!;
    env.set(p, a instanceof Tensor ? a._buf : a);
  });
  for (const n of graph.nodes) {
    env.set(n.out, LazyBuffer.pending(n.out.type, n.op, n.inputs.map((v) => env.get(v)!), n.attrs));
  }
  return graph.outputs.map((v) => new Tensor(env.get(v)!));
}

/** Runs a graph on concrete tensors with the current backend (compiled once, cached). */
export function runGraph(graph: Graph, args: readonly (Tensor | LazyBuffer)[]): Tensor[] {
  const bufs = args.map((a) => (a instanceof Tensor ? a._buf : a));
  if (bufs.length !== graph.params.length) {
    throw new ArgumentError(`run @${graph.name}: expected ${graph.params.length} arguments, got ${bufs.length}`);
  }
  realize(bufs);
  const exe = executableCache.get(getBackend(), graph);
  const outs = exe.run(bufs.map((b) => ({ dtype: b.type.dtype, shape: b.type.shape, data: b.data! })));
  return outs.map((o) => new Tensor(LazyBuffer.fromData({ dtype: o.dtype, shape: [...o.shape] }, o.data)));
}

/**
 * The IR a lazy tensor would run: the graph `realize` would build for it, from its pending
 * LazyBuffer DAG, without computing anything.
 */
import type { LazyBuffer } from '../src/frontend-eager/lazy.js';
import { Tensor } from '../src/frontend-eager/tensor.js';
import { GraphBuilder } from '../src/ir/builder.js';
import type { Graph, Value } from '../src/ir/graph.js';
import { printGraph } from '../src/ir/printer.js';
import { CliError } from './errors.js';

/**
 * The pending graph of `t`: params are the computed buffers it reads (`%in0`, ...), nodes are
 * its pending ops in the order `realize` would emit them. A computed tensor gives a graph
 * with no nodes.
 */
export function pendingGraph(t: Tensor, name = 'pending'): Graph {
  const b = new GraphBuilder(name);
  const env = new Map<LazyBuffer, Value>();
  // Iterative post-order DFS, inputs before users, as in lazy.ts `realize`.
  const stack: [LazyBuffer, boolean][] = [[t._buf, false]];
  while (stack.length) {
    const [buf, expanded] = stack.pop()!;
    if (env.has(buf)) continue;
    if (buf.realized || buf.isPlaceholder || buf.op === null) {
      env.set(buf, b.param(buf.isPlaceholder ? `arg${b.params.length}` : `in${b.params.length}`, buf.type));
      continue;
    }
    if (!expanded) {
      stack.push([buf, true]);
      for (let i = buf.inputs.length - 1; i >= 0; i--) if (!env.has(buf.inputs[i]!)) stack.push([buf.inputs[i]!, false]);
      continue;
    }
    env.set(buf, b.push(buf.op, buf.inputs.map((x) => env.get(x)!), buf.attrs, buf.type, undefined, buf.origin));
  }
  return b.build([env.get(t._buf)!]);
}

/** `pendingGraph` as IR text, with a note when nothing is pending. */
export function pendingIr(value: unknown): string {
  if (!(value instanceof Tensor)) {
    throw new CliError(`.ir expects a Tensor, got ${value === null ? 'null' : typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value}`);
  }
  const g = pendingGraph(value);
  const note = g.nodes.length === 0 ? '// already computed: nothing pending\n' : `// ${g.nodes.length} pending op${g.nodes.length === 1 ? '' : 's'}, computed on the next read (item, toArray, print)\n`;
  return note + printGraph(g);
}

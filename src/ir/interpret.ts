import { ArgumentError, inOp } from './errors.js';
import type { Graph, Value } from './graph.js';
import type { NDArray, Precision } from './ndarray.js';
import { ndarray } from './ndarray.js';
import { ops } from './ops/index.js';
import { formatType, typesEqual } from './types.js';

/**
 * Runs a graph node by node with the registry's reference evaluators. With precision 'f64'
 * it is the test oracle; with 'f32' every value is rounded to float32 as it is stored.
 */
export function interpret(graph: Graph, args: readonly NDArray[], precision: Precision = 'f64'): NDArray[] {
  if (args.length !== graph.params.length) {
    throw new ArgumentError(`@${graph.name}: expected ${graph.params.length} arguments, got ${args.length}`);
  }
  const env = new Map<Value, NDArray>();
  graph.params.forEach((p, i) => {
    const a = args[i]!;
    if (!typesEqual(p.type, a)) {
      throw new ArgumentError(`@${graph.name}: argument ${i} (%${p.name}) must be ${formatType(p.type)}, got ${formatType(a)}`);
    }
    env.set(p, a);
  });
  for (const node of graph.nodes) {
    const out = ndarray(node.out.type, precision);
    try {
      ops[node.op].eval(
        node.inputs.map((v) => env.get(v)!),
        out,
        node.attrs,
      );
    } catch (e) {
      throw inOp(e, node.origin);
    }
    env.set(node.out, out);
  }
  return graph.outputs.map((v) => env.get(v)!);
}


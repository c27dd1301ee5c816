import type { Graph } from '../ir/graph.js';
import { interpret } from '../ir/interpret.js';
import type { Backend, Executable } from './backend.js';

/**
 * The simplest correct engine: runs each node with the registry's reference evaluator,
 * rounding every f32 result to float32. It is the baseline every faster backend is
 * checked against.
 */
export const interpBackend: Backend = {
  name: 'interp',
  compile(graph: Graph): Executable {
    return { run: (args) => interpret(graph, args, 'f32') };
  },
};

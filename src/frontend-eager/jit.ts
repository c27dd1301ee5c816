import { ArgumentError } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { formatType } from '../ir/types.js';
import { dce } from '../passes/dce.js';
import { getBackend } from '../runtime/backend.js';
import type { Executable } from '../runtime/backend.js';
import { trace } from './capture.js';
import { LazyBuffer, realize } from './lazy.js';
import { Tensor } from './tensor.js';

export interface Jitted<R> {
  (...args: Tensor[]): R;
  /** The graph traced for the last call's argument types (for inspection). */
  readonly lastGraph: Graph | null;
}

/**
 * Compiles a function of tensors into one executable per argument signature (JAX's `jit`):
 * the first call traces `fn` to IR and compiles it; later calls with the same shapes and
 * dtypes run the executable directly. Closed-over tensors are captured by value at trace time.
 *
 * ```ts
 * const step = jit((x, w) => x.matmul(w).relu().sum());
 * step(x, w).item();
 * ```
 */
export function jit<R extends Tensor | Tensor[]>(fn: (...args: Tensor[]) => R): Jitted<R> {
  const cache = new Map<string, { graph: Graph; exe: Executable; consts: readonly LazyBuffer[]; single: boolean }>();
  let lastGraph: Graph | null = null;
  const call = (...args: Tensor[]): R => {
    args.forEach((a, i) => {
      if (!(a instanceof Tensor)) throw new ArgumentError(`jit: argument ${i} must be a Tensor, got ${typeof a}`);
      a._live(`jit @${fn.name || 'jit'}: argument ${i}`);
    });
    const key = args.map((a) => formatType(a.type)).join(',');
    let entry = cache.get(key);
    if (!entry) {
      let single = false;
      const traced = trace(
        (...xs) => {
          const r = fn(...xs);
          single = r instanceof Tensor;
          return r;
        },
        args.map((a) => a.type),
        fn.name || 'jit',
      );
      const graph = dce(traced.graph);
      entry = { graph, exe: getBackend().compile(graph), consts: traced.consts, single };
      cache.set(key, entry);
    }
    lastGraph = entry.graph;
    const bufs = [...args.map((a) => a._buf), ...entry.consts];
    realize(bufs);
    const outs = entry.exe.run(bufs.map((b) => ({ dtype: b.type.dtype, shape: b.type.shape, data: b.data! })));
    const tensors = outs.map((o) => new Tensor(LazyBuffer.fromData({ dtype: o.dtype, shape: [...o.shape] }, o.data)));
    return (entry.single ? tensors[0]! : tensors) as R;
  };
  Object.defineProperty(call, 'lastGraph', { get: () => lastGraph });
  return call as Jitted<R>;
}

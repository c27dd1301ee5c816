import { ArgumentError } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { formatType, type TensorType, typesEqual } from '../ir/types.js';
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
  type Entry = { graph: Graph; exe: Executable; consts: readonly LazyBuffer[]; single: boolean; types: readonly TensorType[] };
  const cache = new Map<string, Entry>();
  let lastGraph: Graph | null = null;
  /** The entry of the last call: a loop calling with the same types skips the key string. */
  let last: Entry | undefined;
  const call = (...args: Tensor[]): R => {
    args.forEach((a, i) => {
      if (!(a instanceof Tensor)) throw new ArgumentError(`jit: argument ${i} must be a Tensor, got ${typeof a}`);
      a._live(`jit @${fn.name || 'jit'}: argument ${i}`);
    });
    let entry = last && last.types.length === args.length && args.every((a, i) => typesEqual(a._buf.type, last!.types[i]!)) ? last : undefined;
    const key = entry ? '' : args.map((a) => formatType(a.type)).join(',');
    entry ??= cache.get(key);
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
      entry = { graph, exe: getBackend().compile(graph), consts: traced.consts, single, types: args.map((a) => a.type) };
      cache.set(key, entry);
    }
    last = entry;
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

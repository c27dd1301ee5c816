import type { Attrs } from './graph.js';
import type { OpName } from './ops/index.js';
import type { TensorType } from './types.js';

/**
 * Where ops go. The same decompositions and VJP rules emit into an IR graph (the builder),
 * into eager tensors (the frontend), or into a traced function, through this interface.
 */
export interface Emitter<T> {
  /** Appends one primitive op; applies its shape and dtype rules (and throws their errors). */
  emit(op: OpName, inputs: readonly T[], attrs: Attrs): T;
  typeOf(x: T): TensorType;
  /**
   * Runs `body` as the composite `name` (e.g. `softmax` over exp/sum/div). Emitters that
   * track provenance (eager gradFn names, source locations) hook in here; others just run it.
   */
  scope?<R extends T>(name: string, body: () => R): R;
}

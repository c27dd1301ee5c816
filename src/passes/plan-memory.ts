import type { Value } from '../ir/graph.js';
import type { Schedule } from '../ir/schedule.js';
import type { DType } from '../ir/types.js';
import { numel, shapesEqual } from '../ir/types.js';
import { ops } from '../ir/ops/index.js';

/** One reusable buffer: values whose lifetimes do not overlap share it. */
export interface Slot {
  readonly dtype: DType;
  readonly size: number;
}

export interface BufferPlan {
  readonly slots: readonly Slot[];
  /** Slot of every materialized value that is neither a param nor a graph output. */
  readonly slotOf: ReadonlyMap<Value, number>;
  /** Kernels (by index) that write their output over one of their inputs. */
  readonly inPlace: ReadonlySet<number>;
}

/**
 * Memory planning by liveness: a buffer is freed after the last kernel that reads it and
 * reused by a later value of the same dtype and size. A pointwise kernel made only of
 * elementwise ops may write over an input that dies there (same shape: every read of it
 * is at the index being written). Params and outputs are not planned: the caller owns them.
 */
export function planMemory(s: Schedule): BufferPlan {
  const outputs = new Set(s.graph.outputs);
  const params = new Set(s.graph.params);
  const lastUse = new Map<Value, number>();
  s.kernels.forEach((k, i) => k.inputs.forEach((v) => lastUse.set(v, i)));

  const slots: Slot[] = [];
  const slotOf = new Map<Value, number>();
  const free = new Map<string, number[]>();
  const inPlace = new Set<number>();
  const keyOf = (dtype: DType, size: number) => `${dtype}:${size}`;

  s.kernels.forEach((k, i) => {
    const out = k.node.out;
    if (!outputs.has(out)) {
      const size = numel(out.type.shape);
      const elementwise = k.kind === 'pointwise' && k.fused.every((n) => ['unary', 'binary', 'ternary', 'cast', 'source'].includes(ops[n.op].family));
      const donor = elementwise
        ? k.inputs.find((v) => lastUse.get(v) === i && slotOf.has(v) && v.type.dtype === out.type.dtype && shapesEqual(v.type.shape, out.type.shape))
        : undefined;
      if (donor) {
        slotOf.set(out, slotOf.get(donor)!);
        inPlace.add(i);
      } else {
        const pool = free.get(keyOf(out.type.dtype, size));
        const slot = pool?.pop() ?? slots.push({ dtype: out.type.dtype, size }) - 1;
        slotOf.set(out, slot);
      }
    }
    for (const v of new Set(k.inputs)) {
      if (lastUse.get(v) !== i || params.has(v) || outputs.has(v) || !slotOf.has(v)) continue;
      const slot = slotOf.get(v)!;
      if (slotOf.get(out) === slot) continue;
      const kk = keyOf(v.type.dtype, numel(v.type.shape));
      free.set(kk, [...(free.get(kk) ?? []), slot]);
    }
  });
  return { slots, slotOf, inPlace };
}

import { ArgumentError, ShapeError } from '../ir/errors.js';
import { formatType, shapesEqual } from '../ir/types.js';
import { fromStorage } from '../frontend-eager/factories.js';
import { F, Tensor } from '../frontend-eager/tensor.js';

/**
 * The batch `defaultCollate` makes from samples of type `T`: tensors and numbers become
 * tensors with a new leading batch dim, strings become arrays, and tuples, arrays and
 * objects are collated field by field (so `[Tensor, Tensor]` samples give `[Tensor, Tensor]`).
 */
export type Collated<T> = T extends Tensor
  ? Tensor
  : T extends number | boolean
    ? Tensor
    : T extends string
      ? string[]
      : T extends readonly unknown[]
        ? { -readonly [K in keyof T]: Collated<T[K]> }
        : T extends object
          ? { [K in keyof T]: Collated<T[K]> }
          : never;

/**
 * Batches a list of samples the way PyTorch's `default_collate` does: tensors are stacked
 * along a new dim 0; numbers become an f32 tensor (JavaScript cannot tell `1` from `1.0`,
 * so integer labels should be 0-d i32 tensors, as `TensorDataset` returns them), booleans a
 * bool tensor; strings stay a list; tuples, arrays and plain objects are collated per field.
 *
 * ```ts
 * defaultCollate([[tensor([1, 2]), 0], [tensor([3, 4]), 1]]);
 * // [tensor([[1, 2], [3, 4]]), tensor([0, 1])]
 * ```
 */
export function defaultCollate<T>(samples: readonly T[]): Collated<T> {
  // NOTE: collateSamples builds exactly the structure Collated<T> describes.
  return collateSamples(samples, 'sample') as Collated<T>;
}

/** @internal The untyped core of `defaultCollate`; `path` names the field in errors (`sample[1].label`). */
export function collateSamples(samples: readonly unknown[], path: string): unknown {
  if (samples.length === 0) throw new ArgumentError('defaultCollate: cannot collate an empty batch');
  const first = samples[0];
  const kindError = (i: number) =>
    new ArgumentError(`defaultCollate: ${path} of batch element ${i} is ${describe(samples[i])}, but element 0 is ${describe(first)}`);
  if (first instanceof Tensor) {
    samples.forEach((s, i) => {
      if (!(s instanceof Tensor)) throw kindError(i);
      if (!shapesEqual(s.shape, first.shape) || s.dtype !== first.dtype) {
        throw new ShapeError(`defaultCollate: ${path} has type ${formatType(s.type)} in batch element ${i} but ${formatType(first.type)} in element 0; stacking needs equal types`);
      }
    });
    return F.stack(samples as Tensor[]);
  }
  if (typeof first === 'number' || typeof first === 'boolean') {
    samples.forEach((s, i) => {
      if (typeof s !== typeof first) throw kindError(i);
    });
    const values = samples.map(Number);
    return typeof first === 'boolean'
      ? fromStorage(Uint8Array.from(values), [values.length], { dtype: 'bool' })
      : fromStorage(Float32Array.from(values), [values.length], { dtype: 'f32' });
  }
  if (typeof first === 'string') {
    samples.forEach((s, i) => {
      if (typeof s !== 'string') throw kindError(i);
    });
    return [...samples];
  }
  if (Array.isArray(first)) {
    samples.forEach((s, i) => {
      if (!Array.isArray(s)) throw kindError(i);
      if (s.length !== first.length) {
        throw new ArgumentError(`defaultCollate: ${path} has ${s.length} entries in batch element ${i} but ${first.length} in element 0; each element in list of batch should be of equal size`);
      }
    });
    return first.map((_, k) => collateSamples(samples.map((s) => (s as unknown[])[k]), `${path}[${k}]`));
  }
  if (isPlainObject(first)) {
    const keys = Object.keys(first);
    const out: Record<string, unknown> = {};
    samples.forEach((s, i) => {
      if (!isPlainObject(s)) throw kindError(i);
    });
    for (const k of keys) out[k] = collateSamples(samples.map((s) => (s as Record<string, unknown>)[k]), `${path}.${k}`);
    return out;
  }
  throw new ArgumentError(`defaultCollate: don't know how to batch ${path} (${describe(first)}); pass a collate function to the DataLoader`);
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function describe(x: unknown): string {
  if (x instanceof Tensor) return `a tensor ${formatType(x.type)}`;
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (x === null) return 'null';
  return `a ${typeof x}`;
}

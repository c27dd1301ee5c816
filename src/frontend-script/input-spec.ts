import { ArgumentError } from '../ir/errors.js';
import { DTYPES, type DType, type TensorType, tensorType } from '../ir/types.js';

/** One input of a compiled model: a name and an IR type (`x: f32[1,784]`). */
export interface ScriptInput {
  name: string;
  type: TensorType;
}

const SPEC = /^\s*([A-Za-z_$][\w$]*)\s*:\s*([a-z0-9]+)\s*\[([^\]]*)\]\s*$/;

/**
 * Parses an input specification as the CLI takes it: `NAME:DTYPE[D0,D1,...]`.
 *
 * ```ts
 * parseInputSpec('x:f32[1,784]');   // { name: 'x', type: { dtype: 'f32', shape: [1, 784] } }
 * parseInputSpec('ids:i32[2,8]');
 * parseInputSpec('s:f32[]');        // a scalar
 * ```
 */
export function parseInputSpec(spec: string): ScriptInput {
  const bad = (why: string): never => {
    throw new ArgumentError(`--input ${JSON.stringify(spec)}: ${why}; expected NAME:DTYPE[D0,D1,...], e.g. x:f32[1,784]`);
  };
  const m = SPEC.exec(spec);
  if (!m) return bad('not an input specification');
  const [name, dtype, dims] = [m[1]!, m[2]!, m[3]!];
  if (!(DTYPES as readonly string[]).includes(dtype)) return bad(`unknown dtype '${dtype}' (one of ${DTYPES.join(', ')})`);
  const shape = dims.trim() === '' ? [] : dims.split(',').map((d) => d.trim());
  const sizes = shape.map((d) => (/^\d+$/.test(d) ? Number(d) : bad(`dimension '${d}' is not a non-negative integer`)));
  return { name, type: tensorType(dtype as DType, sizes) };
}

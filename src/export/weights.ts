/**
 * What every exporter shares: binding weights to graph parameters by name, the names of a
 * graph's inputs and outputs, and weights as little-endian bytes.
 */
import { Tensor } from '../frontend-eager/tensor.js';
import { ArgumentError } from '../ir/errors.js';
import type { Graph, Value } from '../ir/graph.js';
import type { NDArray } from '../ir/ndarray.js';
import type { DType } from '../ir/types.js';
import { formatType, numel, typesEqual } from '../ir/types.js';

/** Weights: a kiln NDArray or an eager Tensor per parameter name. */
export type Weights = ReadonlyMap<string, NDArray | Tensor>;

/** Element storage as it is exported: f32 → Float32Array, i32 → Int32Array, bool → Uint8Array (0/1). */
export type ExportStorage = Float32Array | Int32Array | Uint8Array;

/** A graph's parameters split into weights (bound to data) and runtime inputs. */
export interface BoundParams {
  /** Parameters bound to weights, in parameter order, with their data. */
  readonly weights: ReadonlyMap<Value, ExportStorage>;
  /** The remaining parameters: the exported model's inputs, in parameter order. */
  readonly inputs: readonly Value[];
  /** The name of every parameter (unique). */
  readonly paramNames: ReadonlyMap<Value, string>;
  /** The names of the outputs (`out0`, `out1`, ... unless given). */
  readonly outputNames: readonly string[];
}

function toExportStorage(dtype: DType, data: ArrayLike<number>): ExportStorage {
  if (dtype === 'f32') return data instanceof Float32Array ? data : Float32Array.from(data);
  if (dtype === 'i32') return data instanceof Int32Array ? data : Int32Array.from(data);
  return data instanceof Uint8Array ? data : Uint8Array.from(data, (x) => (x ? 1 : 0));
}

/**
 * Binds `weights` to the parameters of `graph` by name; the other parameters become inputs.
 * `who` names the exporter in errors. Every weight must name a parameter and match its type.
 */
export function bindParams(who: string, graph: Graph, weights: Weights, outputNames?: readonly string[]): BoundParams {
  const paramNames = new Map<Value, string>();
  const byName = new Map<string, Value>();
  for (const p of graph.params) {
    const name = p.name ?? `arg${p.id}`;
    if (byName.has(name)) throw new ArgumentError(`${who}: @${graph.name} has two parameters named '${name}'`);
    byName.set(name, p);
    paramNames.set(p, name);
  }
  const bound = new Map<Value, ExportStorage>();
  for (const [name, w] of weights) {
    const p = byName.get(name);
    if (!p) {
      throw new ArgumentError(`${who}: weight '${name}' matches no parameter of @${graph.name} (parameters: ${[...byName.keys()].join(', ')})`);
    }
    const type = w instanceof Tensor ? w.type : { dtype: w.dtype, shape: w.shape };
    if (!typesEqual(type, p.type)) {
      throw new ArgumentError(`${who}: weight '${name}' must be ${formatType(p.type)}, got ${formatType(type)}`);
    }
    const data = w instanceof Tensor ? w.data() : w.data;
    if (data.length !== numel(type.shape)) {
      throw new ArgumentError(`${who}: weight '${name}' has ${data.length} elements for ${formatType(type)}`);
    }
    bound.set(p, toExportStorage(p.type.dtype, data));
  }
  const outs = outputNames ?? graph.outputs.map((_, i) => `out${i}`);
  if (outs.length !== graph.outputs.length) {
    throw new ArgumentError(`${who}: ${outs.length} output names for ${graph.outputs.length} outputs of @${graph.name}`);
  }
  const seen = new Set<string>();
  for (const o of outs) {
    if (byName.has(o) || seen.has(o)) {
      throw new ArgumentError(`${who}: output name '${o}' is ${seen.has(o) ? 'given twice' : 'also a parameter name'}; pass distinct outputNames`);
    }
    seen.add(o);
  }
  // Keep parameter order for weights too, so exports are deterministic.
  const ordered = new Map<Value, ExportStorage>();
  for (const p of graph.params) if (bound.has(p)) ordered.set(p, bound.get(p)!);
  return { weights: ordered, inputs: graph.params.filter((p) => !bound.has(p)), paramNames, outputNames: outs };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The elements of `data` as little-endian bytes (a view on little-endian hosts). */
export function littleEndianBytes(data: ExportStorage): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const dv = new DataView(out.buffer);
  data.forEach((x, i) => (data instanceof Float32Array ? dv.setFloat32(4 * i, x, true) : dv.setInt32(4 * i, x, true)));
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding (no Node Buffer, so exporters also run in browsers). */
export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let line = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    line += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + (b === undefined ? '=' : B64[(n >> 6) & 63]!) + (c === undefined ? '=' : B64[n & 63]!);
    if (line.length >= 8192) {
      parts.push(line);
      line = '';
    }
  }
  parts.push(line);
  return parts.join('');
}

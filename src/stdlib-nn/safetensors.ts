/**
 * The safetensors format (huggingface/safetensors), byte-compatible with the reference
 * implementation that PyTorch users save with:
 *
 *   [u64 little-endian N][N bytes of JSON header, padded with spaces to a multiple of 8][data]
 *
 * The header maps each tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}`
 * (offsets relative to the data section), plus an optional `"__metadata__"` string map.
 * Tensors are laid out back to back, ordered as the reference orders them (by dtype,
 * wider first, then by name), with no gaps. Reading is as strict as the reference: offsets
 * must tile the data section exactly, and every byte count must match dtype × shape.
 */
import { ArgumentError } from '../ir/errors.js';
import type { DType } from '../ir/types.js';
import { formatShape, numel } from '../ir/types.js';
import { fromStorage, Tensor } from '../frontend-eager/index.js';
import { readBytes, writeAtomic } from '../platform/fs.js';
import { describe, entriesOf, tagSource } from './module.js';

/** The dtype names of the format that kiln reads (and, for F32 / I32 / BOOL, writes). */
export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

/** One tensor's header entry. */
export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** [begin, end) in bytes, relative to the start of the data section. */
  dataOffsets: [number, number];
}

/** A parsed header: entries in data order, metadata, and where the data section starts. */
export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string> | null;
  /** Byte offset of the data section in the file (8 + header length). */
  dataStart: number;
}

/** The reference implementation refuses headers larger than this. */
const MAX_HEADER_SIZE = 100_000_000;

/** Bytes per element and the kiln dtype each file dtype is read into. */
const READ_DTYPES: Record<SafetensorsDType, { size: number; into: DType }> = {
  F64: { size: 8, into: 'f32' },
  F32: { size: 4, into: 'f32' },
  F16: { size: 2, into: 'f32' },
  BF16: { size: 2, into: 'f32' },
  I64: { size: 8, into: 'i32' },
  I32: { size: 4, into: 'i32' },
  I16: { size: 2, into: 'i32' },
  I8: { size: 1, into: 'i32' },
  U64: { size: 8, into: 'i32' },
  U32: { size: 4, into: 'i32' },
  U16: { size: 2, into: 'i32' },
  U8: { size: 1, into: 'i32' },
  BOOL: { size: 1, into: 'bool' },
};

const WRITE_DTYPES: Record<DType, SafetensorsDType> = { f32: 'F32', i32: 'I32', bool: 'BOOL' };

/**
 * NOTE: the reference sorts tensors by its Dtype enum, descending, then by name. Its enum
 * order is BOOL < ... < I32 < U32 < F32 < F64 < I64 < U64, so F32 comes before I32 before BOOL.
 */
const DTYPE_RANK: Record<SafetensorsDType, number> = {
  BOOL: 0, U8: 1, I8: 2, I16: 3, U16: 4, F16: 5, BF16: 6, I32: 7, U32: 8, F32: 9, F64: 10, I64: 11, U64: 12,
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(source: string, what: string): never {
  throw new ArgumentError(`safetensors: ${source}: ${what}`);
}

/** Byte-wise comparison of UTF-8 strings (Rust's `String` order). */
function compareUtf8(a: string, b: string): number {
  const enc = new TextEncoder();
  const x = enc.encode(a);
  const y = enc.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** The raw little-endian bytes of a tensor's values in its file dtype. */
function tensorBytes(t: Tensor): Uint8Array {
  const data = t.data();
  const view = t.dtype === 'f32' ? (data instanceof Float32Array ? data : Float32Array.from(data)) : t.dtype === 'i32' ? Int32Array.from(data) : Uint8Array.from(data, (v) => (v ? 1 : 0));
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  if (LITTLE_ENDIAN || view.BYTES_PER_ELEMENT === 1) return bytes;
  const out = new Uint8Array(bytes.length);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < view.length; i++) {
    if (t.dtype === 'f32') dv.setFloat32(i * 4, view[i]!, true);
    else dv.setInt32(i * 4, view[i]!, true);
  }
  return out;
}

/**
 * Serializes tensors (f32 → F32, i32 → I32, bool → BOOL) and optional string metadata to
 * safetensors bytes, laid out as the reference implementation lays them out.
 *
 * ```ts
 * const bytes = serializeSafetensors(model.stateDict(), { format: 'pt' });
 * ```
 */
export function serializeSafetensors(tensors: Record<string, Tensor> | ReadonlyMap<string, Tensor>, metadata?: Record<string, string> | null): Uint8Array {
  const items = entriesOf(tensors);
  for (const [name, t] of items) {
    if (!(t instanceof Tensor)) throw new ArgumentError(`serializeSafetensors: "${name}" is not a Tensor (got ${describe(t)})`);
    if (name === '__metadata__') throw new ArgumentError('serializeSafetensors: "__metadata__" is reserved for the metadata and cannot name a tensor');
  }
  items.sort(([a, ta], [b, tb]) => DTYPE_RANK[WRITE_DTYPES[tb.dtype]] - DTYPE_RANK[WRITE_DTYPES[ta.dtype]] || compareUtf8(a, b));

  const parts: string[] = [];
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new ArgumentError(`serializeSafetensors: metadata value for "${k}" must be a string, got ${describe(v)}`);
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of items) {
    const bytes = tensorBytes(t);
    chunks.push(bytes);
    const entry = { dtype: WRITE_DTYPES[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
    offset += bytes.length;
  }
  // NOTE: the header is built as text in data order; JSON.stringify of an object would
  // move integer-like names ("0") to the front.
  let header = new TextEncoder().encode(`{${parts.join(',')}}`);
  const pad = (8 - (header.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(header.length + pad).fill(0x20);
    padded.set(header);
    header = padded;
  }
  const out = new Uint8Array(8 + header.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  let pos = 8 + header.length;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Reads and validates the header of safetensors bytes. `sourceName` (a path) is named in
 * every error, with the tensor's key where there is one.
 *
 * ```ts
 * const { entries } = parseSafetensorsHeader(readBytes(path), path);
 * entries.map((e) => `${e.name} ${e.dtype}${formatShape(e.shape)}`);
 * ```
 */
export function parseSafetensorsHeader(bytes: Uint8Array, sourceName = '<bytes>'): SafetensorsHeader {
  const src = sourceName;
  if (bytes.length < 8) fail(src, `file is truncated: ${bytes.length} bytes, too short for the 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_SIZE)) fail(src, `header length ${n64} is larger than the ${MAX_HEADER_SIZE}-byte limit: not a safetensors file, or corrupt`);
  const n = Number(n64);
  if (8 + n > bytes.length) fail(src, `header length ${n} points past the end of the file (${bytes.length} bytes): the file is truncated`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail(src, 'header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(src, `header does not start with '{' (got ${JSON.stringify(text.slice(0, 16))}): not a safetensors file, or corrupt`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(src, `header is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(src, 'header is not a JSON object');

  let metadata: Record<string, string> | null = null;
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.values(raw).some((v) => typeof v !== 'string')) {
        fail(src, '"__metadata__" must be an object of strings');
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    const key = `tensor "${name}"`;
    if (typeof raw !== 'object' || raw === null) fail(src, `${key}: header entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || !(dtype in READ_DTYPES)) {
      fail(src, `${key}: unknown dtype ${JSON.stringify(dtype)} (kiln reads ${Object.keys(READ_DTYPES).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) fail(src, `${key}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt) || offsets[0]! > offsets[1]!) {
      fail(src, `${key}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
    }
    const d = dtype as SafetensorsDType;
    const want = numel(shape) * READ_DTYPES[d].size;
    const [begin, end] = offsets as [number, number];
    if (end - begin !== want) {
      fail(src, `${key}: ${d}${formatShape(shape)} needs ${want} bytes, but data_offsets [${begin},${end}] hold ${end - begin}`);
    }
    entries.push({ name, dtype: d, shape: [...shape], dataOffsets: [begin, end] });
  }

  // The tensors must tile the data section: sorted by offset, each begins where the last ended.
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  entries.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let pos = 0;
  let prev: SafetensorsEntry | null = null;
  for (const e of entries) {
    const [begin, end] = e.dataOffsets;
    const key = `tensor "${e.name}"`;
    if (end > dataLen) {
      fail(src, `${key}: data_offsets [${begin},${end}] are outside the data section (${dataLen} bytes): the file is truncated`);
    }
    if (begin < pos && prev) fail(src, `${key}: data_offsets [${begin},${end}] overlap tensor "${prev.name}" [${prev.dataOffsets.join(',')}]`);
    if (begin > pos) fail(src, `${key}: data_offsets [${begin},${end}] leave a gap after byte ${pos} of the data section`);
    pos = end;
    prev = e;
  }
  if (pos !== dataLen) fail(src, `the tensors cover ${pos} bytes of data, but the data section has ${dataLen}: trailing bytes after tensor "${prev?.name ?? ''}"`);
  return { entries, metadata, dataStart };
}

/** Decodes one entry's bytes into a kiln tensor (widening or narrowing as documented). */
function decode(bytes: Uint8Array, e: SafetensorsEntry, dataStart: number, src: string): Tensor {
  const [begin, end] = e.dataOffsets;
  const dv = new DataView(bytes.buffer, bytes.byteOffset + dataStart + begin, end - begin);
  const { size, into } = READ_DTYPES[e.dtype];
  const count = (end - begin) / size;
  const out = into === 'f32' ? new Float32Array(count) : into === 'i32' ? new Int32Array(count) : new Uint8Array(count);
  const intRange = (v: bigint | number, i: number): number => {
    if (v < -2147483648 || v > 2147483647) {
      fail(src, `tensor "${e.name}": ${e.dtype} value ${v} at flat index ${i} does not fit in i32 (kiln stores integer tensors as i32)`);
    }
    return Number(v);
  };
  for (let i = 0; i < count; i++) {
    const o = i * size;
    switch (e.dtype) {
      case 'F32': out[i] = dv.getFloat32(o, true); break;
      case 'F64': out[i] = dv.getFloat64(o, true); break;
      case 'F16': out[i] = halfToFloat(dv.getUint16(o, true)); break;
      case 'BF16': out[i] = bf16ToFloat(dv.getUint16(o, true)); break;
      case 'I64': out[i] = intRange(dv.getBigInt64(o, true), i); break;
      case 'U64': out[i] = intRange(dv.getBigUint64(o, true), i); break;
      case 'I32': out[i] = dv.getInt32(o, true); break;
      case 'U32': out[i] = intRange(dv.getUint32(o, true), i); break;
      case 'I16': out[i] = dv.getInt16(o, true); break;
      case 'U16': out[i] = dv.getUint16(o, true); break;
      case 'I8': out[i] = dv.getInt8(o); break;
      case 'U8': out[i] = dv.getUint8(o); break;
      case 'BOOL': {
        const b = dv.getUint8(o);
        if (b > 1) fail(src, `tensor "${e.name}": BOOL byte ${b} at flat index ${i} is neither 0 nor 1`);
        out[i] = b;
        break;
      }
    }
  }
  return fromStorage(out, e.shape, { dtype: into });
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function bf16ToFloat(b: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setUint32(0, b << 16);
  return dv.getFloat32(0);
}

/**
 * Parses safetensors bytes into tensors by name (in data order). F32 reads as f32;
 * F64, F16 and BF16 are converted to f32 (F64 loses precision: kiln has no f64); integer
 * dtypes read as i32 (a value outside i32's range is an error); BOOL as bool. Errors are
 * `ArgumentError`s naming `sourceName` and the tensor's key. The result remembers
 * `sourceName`, so `module.loadStateDict(result)` names the file in its errors too.
 *
 * ```ts
 * const sd = parseSafetensors(bytes, 'model.safetensors');
 * sd['0.weight']!.shape; // [32, 64]
 * ```
 */
export function parseSafetensors(bytes: Uint8Array, sourceName = '<bytes>'): Record<string, Tensor> {
  const { entries, dataStart } = parseSafetensorsHeader(bytes, sourceName);
  const out: Record<string, Tensor> = {};
  for (const e of entries) out[e.name] = decode(bytes, e, dataStart, sourceName);
  return tagSource(out, sourceName);
}

/**
 * Writes tensors to a safetensors file ATOMICALLY: the bytes go to a temp file in the same
 * folder, which is fsynced and renamed over `path`, so `path` always holds either the old
 * file or the whole new one.
 *
 * ```ts
 * saveFile(model.stateDict(), 'checkpoints/mlp.safetensors');
 * ```
 */
export function saveFile(tensors: Record<string, Tensor> | ReadonlyMap<string, Tensor>, path: string, metadata?: Record<string, string> | null): void {
  writeAtomic(path, serializeSafetensors(tensors, metadata));
}

/**
 * Reads a safetensors file (see `parseSafetensors`; errors name `path` and the key).
 *
 * ```ts
 * model.loadStateDict(loadFile('mlp.init.safetensors'));
 * ```
 */
export function loadFile(path: string): Record<string, Tensor> {
  return parseSafetensors(readBytes(path), path);
}

import type { Storage } from '../ir/ndarray.js';
import { allocStorage } from '../ir/ndarray.js';
import type { DType } from '../ir/types.js';
import { numel } from '../ir/types.js';
import { fromStorage } from '../frontend-eager/factories.js';
import type { Tensor } from '../frontend-eager/tensor.js';
import { DataFormatError } from './errors.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface NpyType {
  /** kiln dtype the values land in. */
  dtype: DType;
  size: number;
  read: (v: DataView, offset: number, little: boolean) => number;
}

/** NPY type codes kiln reads (kind + size); f8 narrows to f32, i8 / u4 / u8 must fit in i32. */
const NPY_TYPES: Record<string, NpyType> = {
  b1: { dtype: 'bool', size: 1, read: (v, o) => (v.getUint8(o) === 0 ? 0 : 1) },
  u1: { dtype: 'i32', size: 1, read: (v, o) => v.getUint8(o) },
  i1: { dtype: 'i32', size: 1, read: (v, o) => v.getInt8(o) },
  i2: { dtype: 'i32', size: 2, read: (v, o, le) => v.getInt16(o, le) },
  u2: { dtype: 'i32', size: 2, read: (v, o, le) => v.getUint16(o, le) },
  i4: { dtype: 'i32', size: 4, read: (v, o, le) => v.getInt32(o, le) },
  u4: { dtype: 'i32', size: 4, read: (v, o, le) => v.getUint32(o, le) },
  i8: { dtype: 'i32', size: 8, read: (v, o, le) => Number(v.getBigInt64(o, le)) },
  u8: { dtype: 'i32', size: 8, read: (v, o, le) => Number(v.getBigUint64(o, le)) },
  f4: { dtype: 'f32', size: 4, read: (v, o, le) => v.getFloat32(o, le) },
  f8: { dtype: 'f32', size: 8, read: (v, o, le) => v.getFloat64(o, le) },
};

/** A Python literal from an NPY header: strings, booleans, None, ints, tuples/lists, dicts. */
type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

/**
 * Parses an NPY file (NumPy's `.npy`, format versions 1.0, 2.0 and 3.0) into a tensor.
 * Supported dtypes: `<f4`, `<f8` (read as f32), `<i4`, `<i8` (as i32; values must fit),
 * `|u1`, `|i1`, `<i2`, `<u2`, `<u4` (as i32), `|b1` (bool); big-endian (`>`) variants too.
 * Arrays must be C-ordered: `fortran_order: True` is an error.
 *
 * ```ts
 * const x = parseNpy(bytes);     // e.g. f32[100, 3]
 * ```
 */
export function parseNpy(bytes: Uint8Array): Tensor {
  return decodeNpy(bytes, 'parseNpy');
}

/** @internal `parseNpy`, with errors that start with `where` (`loadNpy: x.npy`). */
export function decodeNpy(bytes: Uint8Array, where: string): Tensor {
  const fail = (msg: string) => new DataFormatError(`${where}: ${msg}`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw fail(`not an NPY file: it must start with the magic string \\x93NUMPY, found ${JSON.stringify(latin1(bytes.subarray(0, 6)))}`);
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw fail(`the file ends inside the version ${major}.${minor} header length`);
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw fail(`unsupported NPY format version ${major}.${minor} (kiln reads 1.0, 2.0 and 3.0)`);
  }
  const dataStart = headerStart + headerLen;
  if (bytes.length < dataStart) throw fail(`the header says it is ${headerLen} bytes long but the file ends after ${bytes.length - headerStart}`);
  const raw = bytes.subarray(headerStart, dataStart);
  const text = major === 3 ? new TextDecoder('utf-8').decode(raw) : latin1(raw);

  let header: PyValue;
  try {
    header = new PyLiteralParser(text).parseAll();
  } catch (e) {
    throw fail(`bad header ${JSON.stringify(text.trim())}: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw fail(`the header is not a dict: ${JSON.stringify(text.trim())}`);
  const { descr, fortran_order: fortran, shape } = header;
  if (typeof descr !== 'string') {
    throw fail(`structured dtypes are not supported (descr ${JSON.stringify(descr)}); save a plain numeric array`);
  }
  if (typeof fortran !== 'boolean') throw fail(`the header's 'fortran_order' must be True or False, got ${JSON.stringify(fortran)}`);
  if (fortran) throw fail('fortran_order=True arrays are not supported; save a C-ordered array (np.ascontiguousarray(a)) instead');
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
    throw fail(`the header's 'shape' must be a tuple of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const dims = shape as number[];
  const order = descr[0];
  const type = NPY_TYPES[descr.slice(1)];
  if (!type || (order !== '<' && order !== '>' && order !== '|' && order !== '=')) {
    throw fail(`unsupported dtype '${descr}' (kiln reads f4, f8, i1, i2, i4, i8, u1, u2, u4, u8 and b1)`);
  }
  const little = order !== '>';
  const n = numel(dims);
  const need = n * type.size;
  if (bytes.length - dataStart < need) {
    throw fail(`expected ${need} bytes of '${descr}' data for shape (${dims.join(', ')}), found ${bytes.length - dataStart} (the file is truncated)`);
  }
  const out = allocStorage({ dtype: type.dtype, shape: dims }, 'f32');
  for (let i = 0; i < n; i++) {
    const v = type.read(view, dataStart + i * type.size, little);
    if (type.dtype === 'i32' && (v > 2147483647 || v < -2147483648)) {
      throw fail(`value ${v} at flat index ${i} does not fit in i32 (kiln stores '${descr}' integers as i32)`);
    }
    out[i] = v;
  }
  return fromStorage(out, dims, { dtype: type.dtype });
}

const DESCR: Record<DType, string> = { f32: '<f4', i32: '<i4', bool: '|b1' };

/**
 * Serializes a tensor as an NPY file (format 1.0, or 2.0 for a header over 64 KiB):
 * f32 → `<f4`, i32 → `<i4`, bool → `|b1`, C order, header padded to 64 bytes as NumPy does.
 *
 * ```ts
 * writeAtomic('weights.npy', saveNpy(w));   // np.load('weights.npy') in Python
 * parseNpy(saveNpy(w));                     // round trip
 * ```
 */
export function saveNpy(t: Tensor): Uint8Array {
  const shape = t.shape;
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${DESCR[t.dtype]}', 'fortran_order': False, 'shape': ${tuple}, }`;
  let major = 1;
  let prefix = 10;
  // NOTE: NumPy pads with spaces and ends with '\n' so the data starts at a multiple of 64.
  let padded = pad(dict, prefix);
  if (padded.length > 0xffff) {
    major = 2;
    prefix = 12;
    padded = pad(dict, prefix);
  }
  const data: Storage = t.data();
  const size = t.dtype === 'bool' ? 1 : 4;
  const out = new Uint8Array(prefix + padded.length + data.length * size);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, padded.length, true);
  else view.setUint32(8, padded.length, true);
  for (let i = 0; i < padded.length; i++) out[prefix + i] = padded.charCodeAt(i);
  const base = prefix + padded.length;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (t.dtype === 'f32') view.setFloat32(base + 4 * i, v, true);
    else if (t.dtype === 'i32') view.setInt32(base + 4 * i, v, true);
    else out[base + i] = v === 0 ? 0 : 1;
  }
  return out;
}

function pad(dict: string, prefix: number): string {
  const len = dict.length + 1;
  const padLen = (64 - ((prefix + len) % 64)) % 64;
  return `${dict}${' '.repeat(padLen)}\n`;
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** A recursive-descent parser for the Python literals NumPy writes in NPY headers. */
class PyLiteralParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parseAll(): PyValue {
    const v = this.value();
    this.skip();
    if (this.pos !== this.text.length) throw new Error(`unexpected ${JSON.stringify(this.text[this.pos])} at offset ${this.pos}`);
    return v;
  }

  private skip(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private expect(ch: string): void {
    this.skip();
    if (this.text[this.pos] !== ch) throw new Error(`expected ${JSON.stringify(ch)} at offset ${this.pos}, found ${JSON.stringify(this.text[this.pos] ?? 'end')}`);
    this.pos++;
  }

  /** Items up to `close`, separated by commas, a trailing comma allowed. */
  private items<V>(close: string, item: () => V): V[] {
    const out: V[] = [];
    this.skip();
    while (this.text[this.pos] !== close) {
      out.push(item());
      this.skip();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== close) throw new Error(`expected ',' or ${JSON.stringify(close)} at offset ${this.pos}`);
      this.skip();
    }
    this.pos++;
    return out;
  }

  private value(): PyValue {
    this.skip();
    const c = this.text[this.pos];
    if (c === '{') {
      this.pos++;
      const entries = this.items('}', () => {
        const k = this.value();
        if (typeof k !== 'string') throw new Error(`dict keys must be strings, got ${JSON.stringify(k)}`);
        this.expect(':');
        return [k, this.value()] as const;
      });
      return Object.fromEntries(entries);
    }
    if (c === '(' || c === '[') {
      this.pos++;
      return this.items(c === '(' ? ')' : ']', () => this.value());
    }
    if (c === "'" || c === '"') {
      const end = this.text.indexOf(c, this.pos + 1);
      if (end < 0) throw new Error(`unterminated string at offset ${this.pos}`);
      const s = this.text.slice(this.pos + 1, end);
      this.pos = end + 1;
      return s;
    }
    const word = /^(True|False|None|[+-]?\d+L?)/.exec(this.text.slice(this.pos));
    if (!word) throw new Error(`unexpected ${JSON.stringify(c ?? 'end')} at offset ${this.pos}`);
    this.pos += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    return Number.parseInt(word[0], 10);
  }
}

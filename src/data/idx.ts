import { allocStorage } from '../ir/ndarray.js';
import { numel } from '../ir/types.js';
import { fromStorage } from '../frontend-eager/factories.js';
import type { Tensor } from '../frontend-eager/tensor.js';
import { DataFormatError } from './errors.js';

export interface IdxOptions {
  /** The tensor's dtype (default: i32 for the integer codes, f32 for float and double). */
  dtype?: 'f32' | 'i32';
}

interface IdxType {
  name: string;
  size: number;
  float: boolean;
  read: (v: DataView, offset: number) => number;
}

/** The IDX data type codes (third byte of the magic number); data is big-endian. */
const IDX_TYPES: Record<number, IdxType> = {
  0x08: { name: 'unsigned byte', size: 1, float: false, read: (v, o) => v.getUint8(o) },
  0x09: { name: 'signed byte', size: 1, float: false, read: (v, o) => v.getInt8(o) },
  0x0b: { name: 'short', size: 2, float: false, read: (v, o) => v.getInt16(o, false) },
  0x0c: { name: 'int', size: 4, float: false, read: (v, o) => v.getInt32(o, false) },
  0x0d: { name: 'float', size: 4, float: true, read: (v, o) => v.getFloat32(o, false) },
  0x0e: { name: 'double', size: 8, float: true, read: (v, o) => v.getFloat64(o, false) },
};

const hex = (n: number, width = 2) => `0x${n.toString(16).padStart(width, '0')}`;

/**
 * Parses an IDX file (the MNIST format): a magic number `00 00 TT NN` (TT the data type:
 * 0x08 unsigned byte, 0x09 signed byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double; NN
 * the number of dimensions), NN big-endian uint32 sizes, then the big-endian data.
 *
 * ```ts
 * const images = parseIdx(bytes, { dtype: 'f32' });   // f32[60000, 28, 28], values 0..255
 * ```
 */
export function parseIdx(bytes: Uint8Array, opts: IdxOptions = {}): Tensor {
  return decodeIdx(bytes, opts, 'parseIdx');
}

/** @internal `parseIdx`, with errors that start with `where` (`loadIdx: train-images-idx3-ubyte`). */
export function decodeIdx(bytes: Uint8Array, opts: IdxOptions, where: string): Tensor {
  const fail = (msg: string) => new DataFormatError(`${where}: ${msg}`);
  if (bytes.length < 4) throw fail(`${bytes.length} bytes is too short for the 4-byte IDX magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) throw fail('this is a gzip file (it starts with 1f 8b); decompress it first');
  if (bytes[0] !== 0 || bytes[1] !== 0) throw fail(`bad magic number ${hex(magic, 8)}: an IDX file starts with two zero bytes`);
  const type = IDX_TYPES[bytes[2]!];
  if (!type) {
    throw fail(`unknown data type code ${hex(bytes[2]!)} in magic number ${hex(magic, 8)} (expected 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e)`);
  }
  const ndim = bytes[3]!;
  const dataStart = 4 + 4 * ndim;
  if (bytes.length < dataStart) throw fail(`the header declares ${ndim} dimensions (${dataStart} header bytes) but there are only ${bytes.length} bytes`);
  const shape = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const n = numel(shape);
  const expected = n * type.size;
  const found = bytes.length - dataStart;
  if (found !== expected) {
    throw fail(
      `expected ${expected} bytes of ${type.name} data for shape [${shape.join(', ')}], found ${found}` +
        (found < expected ? ' (the file is truncated)' : ' (trailing bytes after the data)'),
    );
  }
  const dtype = opts.dtype ?? (type.float ? 'f32' : 'i32');
  const out = allocStorage({ dtype, shape }, 'f32');
  if (type.size === 1 && !type.float && bytes[2] === 0x08) out.set(bytes.subarray(dataStart));
  else for (let i = 0; i < n; i++) out[i] = type.read(view, dataStart + i * type.size);
  return fromStorage(out, shape, { dtype });
}

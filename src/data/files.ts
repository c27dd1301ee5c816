/**
 * The file-reading side of the data readers: each reads through `platform/fs` and hands the
 * bytes or text to the pure parser, naming the file in every error.
 */
import { ArgumentError } from '../ir/errors.js';
import { readBytes, readText } from '../platform/fs.js';
import type { Tensor } from '../frontend-eager/tensor.js';
import { type CsvOptions, type CsvTable, parseCsv } from './csv.js';
import { decodeIdx, type IdxOptions } from './idx.js';
import { decodeNpy } from './npy.js';

function read<R>(who: string, path: string, reader: (p: string) => R): R {
  try {
    return reader(path);
  } catch (e) {
    const err = new ArgumentError(`${who}: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
    err.cause = e;
    throw err;
  }
}

/**
 * Reads a numeric CSV file (see `readCsv`); errors name the file, line and column.
 *
 * ```ts
 * const { header, rows } = loadCsv('data/digits.csv', { header: true });
 * ```
 */
export function loadCsv(path: string, opts: CsvOptions = {}): CsvTable {
  return parseCsv(read('loadCsv', path, readText), opts, 'loadCsv', path);
}

/**
 * Reads an IDX file (MNIST's format, see `parseIdx`), already decompressed.
 *
 * ```ts
 * const labels = loadIdx('mnist/train-labels-idx1-ubyte');   // i32[60000]
 * ```
 */
export function loadIdx(path: string, opts: IdxOptions = {}): Tensor {
  return decodeIdx(read('loadIdx', path, readBytes), opts, `loadIdx: ${path}`);
}

/**
 * Reads a NumPy `.npy` file (see `parseNpy`).
 *
 * ```ts
 * const x = loadNpy('features.npy');
 * ```
 */
export function loadNpy(path: string): Tensor {
  return decodeNpy(read('loadNpy', path, readBytes), `loadNpy: ${path}`);
}

import { ArgumentError } from '../ir/errors.js';

/**
 * Bytes or text that are not valid in the format being read (CSV, IDX, NPY). The message
 * names the reader (and the file, when one was read) and what is wrong.
 *
 * ```ts
 * try {
 *   loadNpy('x.npy');
 * } catch (e) {
 *   if (e instanceof DataFormatError) console.error(e.message); // loadNpy: x.npy: fortran_order=True arrays are not supported; ...
 * }
 * ```
 */
export class DataFormatError extends ArgumentError {}

/**
 * Datasets shipped with kiln. The files live in `<package>/data/` (see `data/README.md` for
 * sources and licenses) and are found relative to this module, so they load both from the
 * sources (`src/data/`) and from the build (`dist/src/data/`).
 */
import { fileURLToPath } from 'node:url';
import { ArgumentError } from '../ir/errors.js';
import { fromStorage } from '../frontend-eager/factories.js';
import type { Tensor } from '../frontend-eager/tensor.js';
import { readText } from '../platform/fs.js';
import { TensorDataset } from './dataset.js';
import { parseCsv } from './csv.js';

/**
 * The text of `name` in the package's data folder: `../../data` seen from src/data,
 * `../../../data` from dist/src/data.
 */
function readBundled(name: string): { path: string; text: string } {
  const tried: string[] = [];
  for (const rel of ['../../data/', '../../../data/']) {
    const path = fileURLToPath(new URL(rel + name, import.meta.url));
    tried.push(path);
    try {
      return { path, text: readText(path) };
    } catch (e) {
      if (!(typeof e === 'object' && e !== null && 'code' in e && e.code === 'ENOENT')) throw e;
    }
  }
  throw new ArgumentError(`datasets: cannot find the bundled file ${name}; looked at ${tried.join(' and ')}`);
}

let digitsCache: { x: Float32Array; y: Int32Array } | null = null;

/**
 * The bundled 8×8 handwritten digits (UCI, as shipped by scikit-learn; CC BY 4.0): 1797
 * samples. Returns a `TensorDataset` of `x: f32[1797, 64]` (pixels 0..16 divided by 16, so
 * in [0, 1], row-major over the image) and `y: i32[1797]` (the digit). The tensors are
 * `ds.tensors`.
 *
 * ```ts
 * const ds = digits();
 * const [train, test] = randomSplit(ds, [0.8, 0.2], new Generator(0));
 * const loader = new DataLoader(train, { batchSize: 64, shuffle: true });
 * const [x, y] = ds.tensors;   // the whole set
 * ```
 */
export function digits(): TensorDataset<[x: Tensor, y: Tensor]> {
  if (!digitsCache) {
    const { path, text } = readBundled('digits.csv');
    const { header, rows } = parseCsv(text, { header: true }, 'datasets.digits', path);
    if (header === null || header.length !== 65 || header[64] !== 'label') {
      throw new ArgumentError(`datasets.digits: ${path}: expected 64 pixel columns and a 'label' column, got ${header?.length ?? 0} columns`);
    }
    const x = new Float32Array(rows.length * 64);
    const y = new Int32Array(rows.length);
    rows.forEach((r, i) => {
      for (let j = 0; j < 64; j++) x[i * 64 + j] = r[j]! / 16;
      y[i] = r[64]!;
    });
    digitsCache = { x, y };
  }
  const n = digitsCache.y.length;
  return new TensorDataset(fromStorage(digitsCache.x, [n, 64]), fromStorage(digitsCache.y, [n], { dtype: 'i32' }));
}

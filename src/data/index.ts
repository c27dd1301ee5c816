/**
 * kiln's `torch.utils.data`: datasets, the DataLoader, readers for CSV / IDX (MNIST) / NPY,
 * transforms, and the bundled digits dataset.
 *
 * ```ts
 * import { data } from 'kiln';
 * const [train, test] = data.randomSplit(data.datasets.digits(), [0.8, 0.2]);
 * for (const [x, y] of new data.DataLoader(train, { batchSize: 64, shuffle: true })) { ... }
 * ```
 */
import { digits } from './datasets.js';

export { type Collated, defaultCollate } from './collate.js';
export { type CsvOptions, type CsvTable, readCsv } from './csv.js';
export { DataLoader, type DataLoaderOptions } from './dataloader.js';
export { type Dataset, randomSplit, randperm, Subset, TensorDataset } from './dataset.js';
export { DataFormatError } from './errors.js';
export { loadCsv, loadIdx, loadNpy } from './files.js';
export { type IdxOptions, parseIdx } from './idx.js';
export { parseNpy, saveNpy } from './npy.js';
export { Compose, MapDataset, normalize, type Transform } from './transforms.js';

/** The datasets shipped with kiln (`torchvision.datasets`-style loaders). */
export const datasets = { digits };

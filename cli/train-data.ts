/**
 * The data `kiln train` reads: the bundled digits, or a CSV file whose last column is the
 * class label (an integer 0..C-1) and whose other columns are the features. A first line
 * that is not all numbers is taken as a header.
 */
import { readFileSync } from 'node:fs';
import { digits } from '../src/data/datasets.js';
import { loadCsv } from '../src/data/files.js';
import { CliError } from './errors.js';

export interface TrainData {
  /** Row-major features, `n × features`. */
  x: Float32Array;
  /** Class labels, `n`. */
  y: Int32Array;
  n: number;
  features: number;
  classes: number;
  name: string;
}

export function loadTrainData(spec: string): TrainData {
  if (spec === 'digits') {
    const [x, y] = digits().tensors;
    const xs = x.data() as Float32Array;
    const ys = y.data() as Int32Array;
    return { x: xs, y: ys, n: ys.length, features: x.shape[1]!, classes: 10, name: 'digits' };
  }
  if (!spec.endsWith('.csv')) throw new CliError(`--data expects 'digits' or a .csv file, got '${spec}'`);
  const firstLine = readFirstLine(spec);
  const header = firstLine.split(',').some((f) => f.trim() !== '' && !Number.isFinite(Number(f.trim().replace(/^"|"$/g, ''))));
  const { rows } = loadCsv(spec, { header });
  if (rows.length === 0) throw new CliError(`--data ${spec}: no rows`);
  const width = rows[0]!.length;
  if (width < 2) throw new CliError(`--data ${spec}: expected feature columns and a label column (the last), got ${width} column`);
  const features = width - 1;
  const x = new Float32Array(rows.length * features);
  const y = new Int32Array(rows.length);
  let classes = 0;
  rows.forEach((r, i) => {
    for (let j = 0; j < features; j++) x[i * features + j] = r[j]!;
    const label = r[features]!;
    if (!Number.isInteger(label) || label < 0) {
      throw new CliError(`--data ${spec}: row ${i + 1}${header ? ' (after the header)' : ''}: label ${label} is not a class index; the last column must hold integers 0..C-1`);
    }
    y[i] = label;
    classes = Math.max(classes, label + 1);
  });
  return { x, y, n: rows.length, features, classes, name: spec };
}

function readFirstLine(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`--data ${path}: cannot read: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  return (text.split('\n').find((l) => l.trim() !== '') ?? '').replace(/^\uFEFF/, '');
}

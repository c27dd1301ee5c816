/**
 * The bundled digits dataset: shape, scaling, label histogram, and a train/test split
 * through the DataLoader.
 */
import { describe, expect, it } from 'vitest';
import { Generator } from '../../src/frontend-eager/index.js';
import { DataLoader, datasets, randomSplit } from '../../src/data/index.js';

describe('datasets.digits', () => {
  const ds = datasets.digits();
  const [x, y] = ds.tensors;

  it('is 1797 samples: f32[1797, 64] pixels in [0, 1] and i32[1797] labels', () => {
    expect(ds.length).toBe(1797);
    expect([x.type, y.type]).toEqual([
      { dtype: 'f32', shape: [1797, 64] },
      { dtype: 'i32', shape: [1797] },
    ]);
    const px = x.data();
    expect(Math.min(...px)).toBe(0);
    expect(Math.max(...px)).toBe(1);
    // pixels are integers 0..16 divided by 16
    expect(Array.from(px).every((v) => Number.isInteger(v * 16))).toBe(true);
    // the first image (a zero) as in scikit-learn's load_digits()
    expect(Array.from(px.subarray(0, 8)).map((v) => v * 16)).toEqual([0, 0, 5, 13, 9, 1, 0, 0]);
  });

  it("has scikit-learn's label histogram", () => {
    const counts = new Array<number>(10).fill(0);
    for (const v of y.data()) counts[v]!++;
    expect(counts).toEqual([178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
  });

  it('splits and batches', () => {
    const [train, test] = randomSplit(ds, [0.8, 0.2], new Generator(0));
    expect([train!.length, test!.length]).toEqual([1438, 359]);
    const loader = new DataLoader(train!, { batchSize: 64, shuffle: true, generator: new Generator(0), dropLast: true });
    expect(loader.length).toBe(22);
    const [xb, yb] = [...loader][0]!;
    expect([xb.shape, yb.shape, yb.dtype]).toEqual([[64, 64], [64], 'i32']);
  });

  it('returns fresh tensors on every call', () => {
    expect(datasets.digits().tensors[0] === x).toBe(false);
  });
});

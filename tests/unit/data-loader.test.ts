/**
 * Datasets and the DataLoader: TensorDataset rows and batches, Subset and randomSplit,
 * batching / dropLast / length, seeded shuffles, collation, prefetching (sync and async),
 * and transforms.
 */
import { describe, expect, it } from 'vitest';
import { arange, Generator, manualSeed, type Tensor, tensor } from '../../src/frontend-eager/index.js';
import { executableCache } from '../../src/frontend-eager/lazy.js';
import { Compose, DataLoader, type Dataset, defaultCollate, MapDataset, normalize, randomSplit, randperm, Subset, TensorDataset } from '../../src/data/index.js';

/** x: f32[n, 2] with row i = [i, 10 i]; y: i32[n] with y[i] = i. */
function toy(n: number): TensorDataset<[Tensor, Tensor]> {
  const x = arange(n).unsqueeze(1).mul(tensor([1, 10]));
  return new TensorDataset(x, arange(n, undefined, 1, { dtype: 'i32' }));
}

const ids = (loader: Iterable<[Tensor, Tensor]>) => [...loader].map(([, y]) => y.toArray() as number[]);

describe('TensorDataset', () => {
  it('returns the i-th row of each tensor', () => {
    const ds = toy(5);
    expect(ds.length).toBe(5);
    const [x, y] = ds.get(3);
    expect([x.shape, x.toArray(), y.shape, y.dtype, y.item()]).toEqual([[2], [3, 30], [], 'i32', 3]);
  });

  it('checks sizes and indices', () => {
    expect(() => new TensorDataset(arange(3), arange(4))).toThrow('TensorDataset: size mismatch between tensors: f32[3], f32[4] (dim 0 differs)');
    expect(() => toy(5).get(5)).toThrow('TensorDataset: index 5 is out of range for a dataset of length 5');
  });

  it('sees in-place updates of its tensors', () => {
    const x = arange(3);
    const ds = new TensorDataset(x);
    expect(ds.get(1)[0].item()).toBe(1);
    x.mul_(2);
    expect(ds.get(1)[0].item()).toBe(2);
  });

  it('builds a batch with one gather per tensor, equal to stacking rows', () => {
    const ds = toy(6);
    const [bx, by] = ds.getBatch([4, 1, 5]);
    const [sx, sy] = defaultCollate([4, 1, 5].map((i) => ds.get(i)));
    expect([bx.toArray(), by.toArray(), by.dtype]).toEqual([sx.toArray(), sy.toArray(), 'i32']);
    expect(bx.gradFn).toBeNull();
  });
});

describe('DataLoader', () => {
  it('batches in order, with a short last batch unless dropLast', () => {
    const loader = new DataLoader(toy(10), { batchSize: 4 });
    expect(loader.length).toBe(3);
    expect(ids(loader)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect([...loader][0]![0].shape).toEqual([4, 2]);
    const dropped = new DataLoader(toy(10), { batchSize: 4, dropLast: true });
    expect(dropped.length).toBe(2);
    expect(ids(dropped)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect(new DataLoader(toy(8), { batchSize: 4, dropLast: true }).length).toBe(2);
    expect(new DataLoader(toy(3)).length).toBe(3);
  });

  it('shuffles reproducibly: a fresh permutation each epoch, the same sequence for the same seed', () => {
    const make = () => new DataLoader(toy(20), { batchSize: 5, shuffle: true, generator: new Generator(7) });
    const a = make();
    const epoch1 = ids(a);
    const epoch2 = ids(a);
    expect(epoch1.flat().sort((p, q) => p - q)).toEqual([...Array(20).keys()]);
    expect(epoch2).not.toEqual(epoch1);
    const b = make();
    expect([ids(b), ids(b)]).toEqual([epoch1, epoch2]);
    expect(ids(new DataLoader(toy(20), { batchSize: 5, shuffle: true, generator: new Generator(8) }))).not.toEqual(epoch1);
  });

  it('uses the global generator when none is given (manualSeed)', () => {
    manualSeed(3);
    const a = ids(new DataLoader(toy(12), { batchSize: 4, shuffle: true }));
    manualSeed(3);
    expect(ids(new DataLoader(toy(12), { batchSize: 4, shuffle: true }))).toEqual(a);
  });

  it('pairs x and y rows under shuffling (the fast path gathers both with the same indices)', () => {
    for (const [x, y] of new DataLoader(toy(9), { batchSize: 4, shuffle: true, generator: new Generator(1) })) {
      expect(x.toArray()).toEqual((y.toArray() as number[]).map((i) => [i, 10 * i]));
    }
  });

  it('collates plain samples: tuples, objects, numbers and strings', () => {
    const ds: Dataset<{ x: Tensor; label: number; name: string }> = {
      length: 5,
      get: (i) => ({ x: tensor([i, -i]), label: i % 2, name: `s${i}` }),
    };
    const batches = [...new DataLoader(ds, { batchSize: 3 })];
    expect(batches.length).toBe(2);
    const b = batches[0]!;
    expect([b.x.shape, b.label.dtype, b.label.toArray(), b.name]).toEqual([[3, 2], 'f32', [0, 1, 0], ['s0', 's1', 's2']]);
    expect(batches[1]!.x.toArray()).toEqual([[3, -3], [4, -4]]);
  });

  it('uses a custom collate, and reports samples it cannot batch', () => {
    const loader = new DataLoader(toy(4), { batchSize: 2, collate: (samples) => samples.map(([, y]) => y.item() as number) });
    expect([...loader]).toEqual([[0, 1], [2, 3]]);
    const ragged: Dataset<Tensor> = { length: 2, get: (i) => arange(i + 1) };
    expect(() => [...new DataLoader(ragged, { batchSize: 2 })]).toThrow(
      'defaultCollate: sample has type f32[2] in batch element 1 but f32[1] in element 0; stacking needs equal types',
    );
    const mixed: Dataset<unknown> = { length: 2, get: (i) => (i === 0 ? [1, 2] : [1, 'a']) };
    expect(() => [...new DataLoader(mixed, { batchSize: 2 })]).toThrow('defaultCollate: sample[1] of batch element 1 is a string, but element 0 is a number');
  });

  it('checks its options', () => {
    expect(() => new DataLoader(toy(3), { batchSize: 0 })).toThrow('DataLoader: batchSize should be a positive integer, got 0');
    expect(() => new DataLoader(toy(3), { prefetch: -1 })).toThrow('DataLoader: prefetch should be a non-negative integer, got -1');
  });

  it('prefetching gives the same batches, already computed', () => {
    const plain = ids(new DataLoader(toy(11), { batchSize: 3, shuffle: true, generator: new Generator(5) }));
    const loader = new DataLoader(toy(11), { batchSize: 3, shuffle: true, generator: new Generator(5), prefetch: 2 });
    const seen: number[][] = [];
    for (const [x, y] of loader) {
      // realized ahead: reading the values compiles nothing new
      const misses = executableCache.misses;
      seen.push(y.toArray() as number[]);
      x.toArray();
      expect(executableCache.misses).toBe(misses);
    }
    expect(seen).toEqual(plain);
  });

  it('for await: prepares batches in macrotasks, same order as the sync iterator', async () => {
    const sync = ids(new DataLoader(toy(10), { batchSize: 3, shuffle: true, generator: new Generator(2) }));
    for (const prefetch of [0, 1, 3]) {
      const loader = new DataLoader(toy(10), { batchSize: 3, shuffle: true, generator: new Generator(2), prefetch });
      const got: number[][] = [];
      for await (const [, y] of loader) got.push(y.toArray() as number[]);
      expect(got).toEqual(sync);
    }
  });

  it('for await: overlaps preparation with the consumer awaiting', async () => {
    const log: string[] = [];
    const ds: Dataset<number> = {
      length: 4,
      get: (i) => {
        log.push(`get ${i}`);
        return i;
      },
    };
    for await (const b of new DataLoader(ds, { batchSize: 1, prefetch: 1 })) {
      log.push(`use ${b.toArray()}`);
      await new Promise((r) => setTimeout(r, 1)); // e.g. waiting on I/O
    }
    // batch k+1 was read while the consumer was waiting on batch k
    expect(log.indexOf('get 2')).toBeLessThan(log.indexOf('use 2'));
    expect(log.indexOf('get 2')).toBeGreaterThan(log.indexOf('use 1'));
    expect(log.filter((l) => l.startsWith('use'))).toEqual(['use 0', 'use 1', 'use 2', 'use 3']);
  });

  it('for await: an error in a prefetched batch surfaces when that batch is reached', async () => {
    const ds: Dataset<number> = {
      length: 3,
      get: (i) => {
        if (i === 2) throw new Error('sample 2 is corrupt');
        return i;
      },
    };
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const b of new DataLoader(ds, { batchSize: 1, prefetch: 2 })) got.push(b.item() as number);
      })(),
    ).rejects.toThrow('sample 2 is corrupt');
    expect(got).toEqual([0, 1]);
  });
});

describe('Subset and randomSplit', () => {
  it('Subset reads through its indices and keeps the batch fast path', () => {
    const sub = new Subset(toy(10), [7, 2, 5]);
    expect(sub.length).toBe(3);
    expect(sub.get(1)[1].item()).toBe(2);
    expect(ids(new DataLoader(sub, { batchSize: 2 }))).toEqual([[7, 2], [5]]);
    expect(sub.getBatch).toBeDefined();
    expect(() => new Subset(toy(3), [3])).toThrow('Subset: index 3 is out of range for a dataset of length 3');
  });

  it('splits by lengths into disjoint subsets covering the dataset', () => {
    const parts = randomSplit(toy(10), [3, 7], new Generator(0));
    expect(parts.map((p) => p.length)).toEqual([3, 7]);
    const all = parts.flatMap((p) => [...p.indices]);
    expect(all.sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
  });

  it('splits by fractions, handing out the remainder from the first subset', () => {
    expect(randomSplit(toy(10), [0.5, 0.3, 0.2], new Generator(0)).map((p) => p.length)).toEqual([5, 3, 2]);
    expect(randomSplit(toy(11), [0.25, 0.25, 0.5], new Generator(0)).map((p) => p.length)).toEqual([3, 3, 5]);
    expect(randomSplit(toy(1797), [0.8, 0.2], new Generator(0)).map((p) => p.length)).toEqual([1438, 359]);
  });

  it('is reproducible with a seeded generator', () => {
    const a = randomSplit(toy(20), [0.5, 0.5], new Generator(4)).map((p) => p.indices);
    const b = randomSplit(toy(20), [0.5, 0.5], new Generator(4)).map((p) => p.indices);
    expect(a).toEqual(b);
    expect(randomSplit(toy(20), [0.5, 0.5], new Generator(5))[0]!.indices).not.toEqual(a[0]);
  });

  it('rejects lengths that do not add up', () => {
    expect(() => randomSplit(toy(10), [3, 3])).toThrow('randomSplit: sum of input lengths [3, 3] does not equal the length of the input dataset (10)');
  });

  it('randperm is a permutation', () => {
    expect(randperm(50, new Generator(9)).sort((a, b) => a - b)).toEqual([...Array(50).keys()]);
  });
});

describe('transforms', () => {
  it('normalize: scalars, per-channel along dim 0, per-feature along dim 1 of a batch', () => {
    expect(normalize(1, 2)(tensor([1, 3, 5])).toArray()).toEqual([0, 1, 2]);
    const img = tensor([[[1, 3]], [[10, 20]]]); // [C=2, H=1, W=2]
    expect(normalize([1, 10], [2, 5])(img).toArray()).toEqual([[[0, 1]], [[0, 2]]]);
    const batch = tensor([[1, 10], [3, 20]]); // [N=2, F=2]
    expect(normalize([1, 10], [2, 10], { dim: 1 })(batch).toArray()).toEqual([[0, 0], [1, 1]]);
    expect(() => normalize([1, 2, 3], [1, 1, 1])(img)).toThrow('normalize: mean has 3 values but dim 0 of the input f32[2,1,2] does not match');
    expect(() => normalize(0, [1, 0])).toThrow('normalize: std evaluated to zero, leading to division by zero');
  });

  it('Compose applies in order; MapDataset transforms samples and, given a batch function, batches', () => {
    const t = new Compose([normalize(1, 2), (x) => x.mul(10)]);
    expect(t.apply(tensor([3])).toArray()).toEqual([10]);
    const norm = normalize([0, 0], [1, 10]);
    const mapped = new MapDataset(toy(4), ([x, y]: [Tensor, Tensor]): [Tensor, Tensor] => [norm(x), y]);
    expect(mapped.get(2)[0].toArray()).toEqual([2, 2]);
    expect(mapped.getBatch).toBeUndefined();
    const fast = new MapDataset(toy(4), ([x, y]: [Tensor, Tensor]): [Tensor, Tensor] => [norm(x), y], ([x, y]) => [normalize([0, 0], [1, 10], { dim: 1 })(x), y]);
    expect([...new DataLoader(fast, { batchSize: 4 })][0]![0].toArray()).toEqual([[0, 0], [1, 1], [2, 2], [3, 3]]);
  });
});

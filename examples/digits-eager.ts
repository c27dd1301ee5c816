/**
 * Train a small MLP on the bundled 8×8 handwritten digits with kiln's eager API:
 * tensors, autograd and a hand-written SGD step — the PyTorch tutorial loop, in TypeScript.
 *
 *   npm start            (builds, then runs this file)
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { F, manualSeed, noGrad, randn, type Tensor, tensor, zeros } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
// Works from examples/ (tsx) and from dist/examples/ (built).
const csvPath = [join(here, '../data/digits.csv'), join(here, '../../data/digits.csv')].find((p) => {
  try {
    readFileSync(p);
    return true;
  } catch {
    return false;
  }
})!;

/** Pixels scaled to [0, 1] and integer labels. */
function loadDigits(): { x: number[][]; y: number[] } {
  const rows = readFileSync(csvPath, 'utf8').trim().split('\n').slice(1);
  const x: number[][] = [];
  const y: number[] = [];
  for (const row of rows) {
    const v = row.split(',').map(Number);
    y.push(v.pop()!);
    x.push(v.map((p) => p / 16));
  }
  return { x, y };
}

/** PyTorch's default Linear init: U(-1/sqrt(fanIn), 1/sqrt(fanIn)) — here a scaled normal. */
function linear(fanIn: number, fanOut: number): { w: Tensor; b: Tensor } {
  const w = randn([fanIn, fanOut]).mul(Math.sqrt(2 / fanIn)).detach().requiresGrad_();
  const b = zeros([fanOut], { requiresGrad: true });
  return { w, b };
}

export function main(epochs = 15, log: (line: string) => void = console.log): { testAccuracy: number; losses: number[] } {
  manualSeed(0);
  const { x, y } = loadDigits();
  // A fixed shuffle, then 80% train / 20% test.
  const order = x.map((_, i) => i).sort((a, b) => ((a * 7919) % 1797) - ((b * 7919) % 1797));
  const split = Math.floor(order.length * 0.8);
  const pick = (idx: number[]) => ({
    x: tensor(idx.map((i) => x[i]!)),
    y: tensor(idx.map((i) => y[i]!), { dtype: 'i32' }),
  });
  const train = pick(order.slice(0, split));
  const test = pick(order.slice(split));

  const l1 = linear(64, 32);
  const l2 = linear(32, 10);
  const params = [l1.w, l1.b, l2.w, l2.b];
  const model = (inp: Tensor) => inp.matmul(l1.w).add(l1.b).relu().matmul(l2.w).add(l2.b);

  const batch = 64;
  const lr = 0.1;
  const losses: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    let total = 0;
    let steps = 0;
    for (let start = 0; start + batch <= split; start += batch) {
      const xb = train.x.narrow(0, start, batch);
      const yb = train.y.narrow(0, start, batch);
      const loss = F.crossEntropy(model(xb), yb);
      loss.backward();
      noGrad(() => {
        for (const p of params) {
          p.sub_(p.grad!.mul(lr));
          p.grad = null;
        }
      });
      total += loss.item() as number;
      steps++;
    }
    losses.push(total / steps);
    log(`epoch ${String(epoch + 1).padStart(2)}  loss ${(total / steps).toFixed(4)}`);
  }
  const predicted = noGrad(() => model(test.x).argmax(1));
  const correct = predicted.eq(test.y).float().sum().item() as number;
  const testAccuracy = correct / (x.length - split);
  log(`test accuracy ${(100 * testAccuracy).toFixed(1)}% on ${x.length - split} held-out digits`);
  return { testAccuracy, losses };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();

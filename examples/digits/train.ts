/**
 * Train the digits MLP (model.ts) on the bundled 8×8 handwritten digits, the way you would
 * in PyTorch: a dataset split, a DataLoader, Adam with a one-cycle schedule, and a
 * compiled training step (forward + backward + update as one graph). Then evaluate on the
 * held-out 20% and save the weights.
 *
 *   npm start            (builds, then runs this file)
 */
import { fileURLToPath } from 'node:url';
import { data, F, Generator, manualSeed, nn, noGrad, optim, saveFile, type Tensor } from '../../src/index.js';
import { ProgressBar } from '../../src/platform/progress.js';
import { DigitsMLP } from './model.js';

export interface TrainResult {
  testAccuracy: number;
  seconds: number;
  losses: number[];
}

export function train({ epochs = 12, batchSize = 64, out = '', quiet = false } = {}): TrainResult {
  const t0 = performance.now();
  manualSeed(0);
  const all = data.datasets.digits();
  const [trainSet, testSet] = data.randomSplit(all, [0.8, 0.2], new Generator(42));
  const loader = new data.DataLoader(trainSet!, { batchSize, shuffle: true, generator: new Generator(1) });

  const model = new DigitsMLP();
  const opt = new optim.Adam(model.parameters(), { lr: 0.005 });
  const sched = new optim.OneCycleLR(opt, { maxLr: 0.01, epochs, stepsPerEpoch: loader.length });
  const step = optim.compileStep(model, (logits, y) => F.crossEntropy(logits, y), opt);

  const losses: number[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const bar = quiet ? null : new ProgressBar(`epoch ${String(epoch).padStart(2)}/${epochs}`, loader.length);
    let total = 0;
    for (const [x, y] of loader) {
      const loss = step(x, y).item() as number;
      sched.step();
      total += loss;
      bar?.tick({ loss });
    }
    losses.push(total / loader.length);
    bar?.done(`loss ${(total / loader.length).toFixed(4)}  test acc ${(100 * accuracy(model, testSet!)).toFixed(1)}%`);
  }
  const testAccuracy = accuracy(model, testSet!);
  const seconds = (performance.now() - t0) / 1000;
  if (out) saveFile(model.stateDict(), out);
  if (!quiet) {
    console.log(
      `digits MLP: ${(100 * testAccuracy).toFixed(1)}% accuracy on ${testSet!.length} held-out images, ` +
        `${epochs} epochs in ${seconds.toFixed(1)}s${out ? `, weights saved to ${out}` : ''}`,
    );
  }
  return { testAccuracy, seconds, losses };
}

/** The share of `ds` the model classifies correctly (eval mode, no autograd). */
function accuracy(model: nn.Module, ds: data.Dataset<[Tensor, Tensor]>): number {
  const [x, y] = new data.DataLoader(ds, { batchSize: ds.length })[Symbol.iterator]().next().value!;
  model.eval();
  const correct = noGrad(() => (model.callWith([x]) as Tensor).argmax(1).eq(y).float().sum().item() as number);
  model.train();
  return correct / ds.length;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : 'digits-mlp.safetensors';
  train({ out });
}

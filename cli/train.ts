/**
 * `kiln train`: trains a model file on the digits or a CSV file.
 *
 * The model file is compiled to IR once (for the training batch size); each step replays
 * the graph's nodes through the eager op layer (`F.emit`), which records autograd, so the
 * usual `loss.backward()` and optimizer step apply to the instantiated parameters. Held-out
 * accuracy runs the eval-mode graph as one compiled executable.
 */
import type { Command } from 'commander';
import { basename } from 'node:path';
import { TensorDataset, randomSplit, type Subset } from '../src/data/dataset.js';
import { DataLoader } from '../src/data/dataloader.js';
import { fromStorage } from '../src/frontend-eager/factories.js';
import { runGraph } from '../src/frontend-eager/capture.js';
import { manualSeed, Generator } from '../src/frontend-eager/random.js';
import { F, type Tensor } from '../src/frontend-eager/tensor.js';
import type { Graph, Value } from '../src/ir/graph.js';
import { formatType } from '../src/ir/types.js';
import { Adam, AdamW } from '../src/optim/adam.js';
import { SGD } from '../src/optim/sgd.js';
import { ProgressBar } from '../src/platform/progress.js';
import { saveFile } from '../src/stdlib-nn/safetensors.js';
import { positiveInt, positiveNumber, stemOf } from './common.js';
import { CliError } from './errors.js';
import { type CompiledModel, compileModel } from './frontend.js';
import { loadTrainData, type TrainData } from './train-data.js';
import { prepareBackend } from './backend.js';

const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
type OptimizerName = (typeof OPTIMIZERS)[number];
const DEFAULT_LR: Record<OptimizerName, number> = { sgd: 0.05, adam: 0.001, adamw: 0.001 };

interface TrainFlags {
  data: string;
  epochs: number;
  batchSize: number;
  lr?: number;
  optimizer: string;
  out?: string;
  inputShape?: string;
  inputName: string;
  entry?: string;
  seed: number;
  valSplit: number;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a model file (a classifier) with cross-entropy on the bundled digits or a CSV file, and save a checkpoint')
    .argument('<model.ts>', 'a model file whose forward maps a batch of samples to class logits f32[batch, classes]')
    .requiredOption('--data <source>', "'digits' (bundled 8x8 digits, 64 features, 10 classes) or a .csv file: features, then the label in the last column")
    .option('--epochs <n>', 'passes over the training split', positiveInt('--epochs'), 10)
    .option('--batch-size <n>', 'samples per step (the model is compiled for this batch; a last partial batch is dropped)', positiveInt('--batch-size'), 64)
    .option('--lr <x>', `learning rate (default: sgd ${DEFAULT_LR.sgd}, adam/adamw ${DEFAULT_LR.adam})`, positiveNumber('--lr'))
    .option('--optimizer <name>', `${OPTIMIZERS.join(', ')} (sgd uses momentum 0.9, adamw weight decay 0.01)`, 'adam')
    .option('--out <ckpt.safetensors>', 'where to save the trained parameters (default: <model name>.safetensors); Ctrl-C saves here too')
    .option('--input-shape <dims>', 'the shape of one sample as the model takes it, e.g. 1,8,8 (default: the number of features)')
    .option('--input-name <name>', "the model input's name", 'x')
    .option('--entry <name>', 'the class or function to compile')
    .option('--seed <n>', 'seed for initialization, the split and shuffling', (v) => Number.parseInt(v, 10), 0)
    .option('--val-split <fraction>', 'share of the data held out for accuracy', (v) => {
      const f = Number(v);
      if (!(f > 0 && f < 1)) throw new CliError(`--val-split expects a fraction between 0 and 1, got '${v}'`);
      return f;
    }, 0.2)
    .addHelpText(
      'after',
      `
Examples:
  $ kiln train examples/mlp/model.ts --data digits --epochs 10 --out mlp.safetensors
  $ kiln train examples/cnn/model.ts --data digits --input-shape 1,8,8 --optimizer sgd --lr 0.05
  $ kiln train model.ts --data iris.csv --batch-size 16 --epochs 50

CSV data: numbers separated by commas, one sample per line; the LAST column is the
class label (an integer 0..C-1), the other columns are the features. A first line
that is not all numbers is taken as a header and skipped.

The data is split 80/20 (--val-split) into training and held-out samples. Each epoch
shows a progress bar with the loss and ETA, then the epoch's mean loss and held-out
accuracy. Ctrl-C saves a checkpoint (atomically) before exiting.`,
    )
    .action(async (file: string, flags: TrainFlags) => train(file, flags));
}

function parseDims(text: string): number[] {
  const dims = text.replace(/^\[|\]$/g, '').split(/[,x\s]+/).filter(Boolean).map(Number);
  if (dims.length === 0 || dims.some((d) => !Number.isInteger(d) || d <= 0)) throw new CliError(`--input-shape expects dims like 1,8,8, got '${text}'`);
  return dims;
}

/** Runs the graph's nodes on `args` through the eager op layer, recording autograd. */
function replay(graph: Graph, args: readonly Tensor[]): Tensor {
  const env = new Map<Value, Tensor>();
  graph.params.forEach((p, i) => env.set(p, args[i]!));
  for (const n of graph.nodes) env.set(n.out, F.emit(n.op, n.inputs.map((v) => env.get(v)!), n.attrs));
  return env.get(graph.outputs[0]!)!;
}

function checkLogits(model: CompiledModel, batch: number, data: TrainData): number {
  const out = model.graph.outputs[0];
  if (!out) throw new CliError(`${model.file}: the model returns nothing`);
  const t = out.type;
  if (t.dtype !== 'f32' || t.shape.length !== 2 || t.shape[0] !== batch) {
    throw new CliError(`${model.file}: train needs class logits f32[${batch},classes] from the model, got ${formatType(t)}`);
  }
  const classes = t.shape[1]!;
  if (data.classes > classes) throw new CliError(`--data ${data.name}: labels go up to ${data.classes - 1} but the model has ${classes} outputs`);
  return classes;
}

async function train(file: string, flags: TrainFlags): Promise<void> {
  const optName = flags.optimizer as OptimizerName;
  if (!OPTIMIZERS.includes(optName)) throw new CliError(`--optimizer expects one of ${OPTIMIZERS.join(', ')}, got '${flags.optimizer}'`);
  const lr = flags.lr ?? DEFAULT_LR[optName];
  const data = loadTrainData(flags.data);
  await prepareBackend(undefined);
  const sampleShape = flags.inputShape ? parseDims(flags.inputShape) : [data.features];
  const per = sampleShape.reduce((a, b) => a * b, 1);
  if (per !== data.features) throw new CliError(`--input-shape ${sampleShape.join(',')} holds ${per} values but ${data.name} has ${data.features} features per sample`);
  const B = flags.batchSize;
  const spec = `${flags.inputName}:f32[${[B, ...sampleShape].join(',')}]`;
  const entry = flags.entry ? { entry: flags.entry } : {};

  const model = await compileModel(file, [spec], { ...entry, training: true });
  const evalModel = await compileModel(file, [spec], { ...entry, training: false });
  checkLogits(model, B, data);
  const names = model.parameters.map((p) => p.name);
  if (evalModel.parameters.map((p) => p.name).join() !== names.join()) {
    throw new CliError(`${file}: the training and eval graphs have different parameters`);
  }
  manualSeed(flags.seed); // the parameters' initialization draws from the default generator
  const state = model.instantiate();
  for (const p of model.parameters) {
    const t = state.get(p.name);
    if (!t) throw new CliError(`${file}: instantiate() gave no value for '${p.name}'`);
    if (p.kind === 'parameter' && t.dtype === 'f32' && !t.requiresGrad) t.requiresGrad_(true);
  }
  const params = model.parameters.filter((p) => p.kind === 'parameter').map((p) => state.get(p.name)!);
  const weights = model.parameters.map((p) => state.get(p.name)!);
  const opt = optName === 'sgd' ? new SGD(params, { lr, momentum: 0.9 }) : optName === 'adam' ? new Adam(params, { lr }) : new AdamW(params, { lr, weightDecay: 0.01 });

  const all = new TensorDataset(fromStorage(data.x, [data.n, ...sampleShape]), fromStorage(data.y, [data.n], { dtype: 'i32' }));
  const [trainSet, heldOut] = randomSplit(all, [1 - flags.valSplit, flags.valSplit], new Generator(flags.seed + 42)) as [Subset<[Tensor, Tensor]>, Subset<[Tensor, Tensor]>];
  if (trainSet.length < B) throw new CliError(`--batch-size ${B} is larger than the training split (${trainSet.length} samples)`);
  const loader = new DataLoader(trainSet, { batchSize: B, shuffle: true, dropLast: true, generator: new Generator(flags.seed + 1) });
  const out = flags.out ?? `${stemOf(file)}.safetensors`;
  const nParams = params.reduce((n, t) => n + t.numel(), 0);
  const label = model.className ?? basename(file);
  process.stderr.write(
    `kiln train: ${label} (${nParams.toLocaleString('en-US')} parameters) on ${data.name}: ${trainSet.length} training / ${heldOut.length} held-out samples, ` +
      `${optName} lr ${lr}, batch ${B}, ${loader.length} steps per epoch\n`,
  );

  const checkpoint = (meta: Record<string, string>): void =>
    saveFile(new Map(model.parameters.map((p) => [p.name, state.get(p.name)!])), out, { format: 'pt', model: label, ...meta });
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130); // a second Ctrl-C while saving: give up at once
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  const t0 = performance.now();
  let lastLoss = Number.NaN;
  let acc = { correct: 0, total: 0 };
  try {
    for (let epoch = 1; epoch <= flags.epochs; epoch++) {
      const bar = new ProgressBar(`epoch ${String(epoch).padStart(String(flags.epochs).length)}/${flags.epochs}`, loader.length);
      let total = 0;
      let steps = 0;
      for (const [x, y] of loader) {
        const logits = replay(model.graph, [x, ...weights]);
        const loss = F.crossEntropy(logits, y);
        opt.zeroGrad();
        loss.backward();
        opt.step();
        const l = loss.item() as number;
        total += l;
        steps++;
        bar.tick({ loss: l });
        // NOTE: yield to the event loop so a Ctrl-C (SIGINT) is seen between steps.
        await new Promise((r) => setImmediate(r));
        if (interrupted) {
          checkpoint({ epoch: String(epoch - 1), interrupted: 'true' });
          process.stderr.write(`\ninterrupted in epoch ${epoch} at step ${steps}/${loader.length}: checkpoint saved to ${out}\n`);
          process.exitCode = 130;
          return;
        }
      }
      lastLoss = total / steps;
      acc = accuracy(evalModel.graph, weights, heldOut, B, sampleShape);
      bar.done(`loss ${lastLoss.toFixed(4)}  held-out acc ${pct(acc)}`);
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  checkpoint({ epoch: String(flags.epochs) });
  const secs = (performance.now() - t0) / 1000;
  process.stdout.write(
    `trained ${label} for ${flags.epochs} epoch${flags.epochs === 1 ? '' : 's'} in ${secs.toFixed(1)}s: final loss ${lastLoss.toFixed(4)}, ` +
      `held-out accuracy ${pct(acc)} (${acc.correct}/${acc.total}); checkpoint saved to ${out}\n`,
  );
}

const pct = (a: { correct: number; total: number }): string => `${((100 * a.correct) / Math.max(1, a.total)).toFixed(1)}%`;

/**
 * Held-out accuracy with the eval graph, in batches of the compiled size; the last batch is
 * padded with zeros and only its real rows are counted.
 */
function accuracy(graph: Graph, weights: readonly Tensor[], ds: Subset<[Tensor, Tensor]>, B: number, sampleShape: number[]): { correct: number; total: number } {
  const [xAll, yAll] = (ds.dataset as TensorDataset<[Tensor, Tensor]>).tensors;
  const xs = xAll.data();
  const ys = yAll.data();
  const per = sampleShape.reduce((a, b) => a * b, 1);
  let correct = 0;
  for (let start = 0; start < ds.length; start += B) {
    const idx = ds.indices.slice(start, start + B);
    const xb = new Float32Array(B * per);
    idx.forEach((row, i) => xb.set(xs.subarray(row * per, (row + 1) * per), i * per));
    const [logits] = runGraph(graph, [fromStorage(xb, [B, ...sampleShape]), ...weights]);
    const pred = logits!.argmax(1).data();
    idx.forEach((row, i) => {
      if (pred[i] === ys[row]) correct++;
    });
  }
  return { correct, total: ds.length };
}

/**
 * Training cases (FORMAT.md part 2): a whole PyTorch run, reproduced step by step through
 * the eager step (`backward(); clip; step(); zeroGrad()`) or the compiled step (one graph).
 */
import { dirname, join } from 'node:path';
import { F, fromStorage, type Tensor } from '../../src/frontend-eager/index.js';
import { ArgumentError } from '../../src/ir/errors.js';
import { clipGradNorm_ } from '../../src/optim/clip-grad.js';
import { Adagrad, Adam, AdamW, compileStep, CosineAnnealingLR, ExponentialLR, RMSprop, SGD, StepLR } from '../../src/optim/index.js';
import type { Optimizer, BaseHyper, ParamState } from '../../src/optim/optimizer.js';
import * as nn from '../../src/stdlib-nn/nn.js';
import { loadFile } from '../../src/stdlib-nn/safetensors.js';
import { compare, type JsonTensor } from './cases.js';

/** One layer of a training case's model (FORMAT.md), with the fields its types use. */
export interface Layer {
  type: string;
  in_features?: number;
  out_features?: number;
  bias?: boolean;
  in_channels?: number;
  out_channels?: number;
  kernel_size?: number;
  stride?: number;
  padding?: number;
  shape?: number[];
  normalized_shape?: number[];
  num_features?: number;
  [k: string]: unknown;
}
export interface TrainCase {
  format: 'conformance/train-1';
  name: string;
  model: Layer[];
  init: string;
  loss: { type: 'cross_entropy' | 'mse' };
  optimizer: { type: string } & Record<string, unknown>;
  scheduler?: ({ type: string } & Record<string, unknown>) | null;
  clip_grad_norm: number | null;
  batches: { x: JsonTensor; y: JsonTensor }[];
  expected: { losses: number[]; final: string };
  tolerance: { rtol: number; atol: number };
}

/** `reshape` layers (FORMAT.md: a shape with -1 allowed) as a module. */
class Reshape extends nn.Module {
  constructor(readonly shape: number[]) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return x.reshape(this.shape);
  }
}

const num = (l: Layer, k: string): number => l[k] as number;

function layer(l: Layer): nn.Module {
  switch (l.type) {
    case 'linear':
      return new nn.Linear(num(l, 'in_features'), num(l, 'out_features'), (l.bias as boolean | undefined) ?? true);
    case 'conv2d':
      return new nn.Conv2d(num(l, 'in_channels'), num(l, 'out_channels'), num(l, 'kernel_size'), {
        stride: (l.stride as number | undefined) ?? 1,
        padding: (l.padding as number | undefined) ?? 0,
      });
    case 'relu':
      return new nn.ReLU();
    case 'tanh':
      return new nn.Tanh();
    case 'gelu':
      return new nn.GELU();
    case 'max_pool2d':
      return new nn.MaxPool2d(num(l, 'kernel_size'));
    case 'flatten':
      return new nn.Flatten();
    case 'layer_norm':
      return new nn.LayerNorm(l.normalized_shape as number[]);
    case 'batch_norm1d':
      return new nn.BatchNorm1d(num(l, 'num_features'));
    case 'batch_norm2d':
      return new nn.BatchNorm2d(num(l, 'num_features'));
    case 'dropout':
      return new nn.Dropout(num(l, 'p'));
    case 'reshape':
      return new Reshape(l.shape as number[]);
    default:
      throw new ArgumentError(`training case: unknown layer type '${l.type}'`);
  }
}

type AnyOptimizer = Optimizer<BaseHyper, ParamState>;

function optimizer(spec: TrainCase['optimizer'], params: Tensor[]): AnyOptimizer {
  const o = spec as Record<string, unknown>;
  const n = (k: string) => o[k] as number | undefined;
  const b = (k: string) => o[k] as boolean | undefined;
  const pick = <T extends object>(x: T): T => Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as T;
  switch (spec.type) {
    case 'sgd':
      return new SGD(params, pick({ lr: n('lr'), momentum: n('momentum'), dampening: n('dampening'), nesterov: b('nesterov'), weightDecay: n('weight_decay') })) as unknown as AnyOptimizer;
    case 'adam':
    case 'adamw': {
      const opts = pick({ lr: n('lr'), betas: o.betas as [number, number] | undefined, eps: n('eps'), weightDecay: n('weight_decay'), amsgrad: b('amsgrad') });
      return (spec.type === 'adam' ? new Adam(params, opts) : new AdamW(params, opts)) as unknown as AnyOptimizer;
    }
    case 'rmsprop':
      return new RMSprop(params, pick({ lr: n('lr'), alpha: n('alpha'), eps: n('eps'), momentum: n('momentum'), weightDecay: n('weight_decay') })) as unknown as AnyOptimizer;
    case 'adagrad':
      return new Adagrad(params, pick({ lr: n('lr'), eps: n('eps'), weightDecay: n('weight_decay') })) as unknown as AnyOptimizer;
    default:
      throw new ArgumentError(`training case: unknown optimizer '${spec.type}'`);
  }
}

function scheduler(spec: TrainCase['scheduler'], opt: AnyOptimizer): { step(): void } | null {
  if (!spec) return null;
  const n = (k: string) => spec[k] as number;
  switch (spec.type) {
    case 'step':
      return new StepLR(opt, n('step_size'), n('gamma'));
    case 'cosine':
      return new CosineAnnealingLR(opt, n('T_max'), (spec.eta_min as number | undefined) ?? 0);
    case 'exponential':
      return new ExponentialLR(opt, n('gamma'));
    default:
      throw new ArgumentError(`training case: unknown scheduler '${spec.type}'`);
  }
}

function tensorOf(t: JsonTensor, dtype: 'f32' | 'i32'): Tensor {
  const data = dtype === 'f32' ? Float32Array.from(t.data as number[]) : Int32Array.from(t.data as number[]);
  return fromStorage(data, t.shape, { dtype });
}

/** Runs a training case on one path; null when every loss and final parameter matches. */
export function runTraining(c: TrainCase, casePath: string, path: 'eager' | 'compiled'): string | null {
  const model = new nn.Sequential(...c.model.map(layer));
  const dir = dirname(casePath);
  const init = loadFile(join(dir, c.init));
  const params = new Map(model.namedParameters());
  for (const k of Object.keys(init)) if (!params.has(k)) return `init has '${k}', which the model does not`;
  for (const k of params.keys()) if (!(k in init)) return `init lacks parameter '${k}'`;
  model.loadStateDict(init, { strict: false });
  model.train();
  const opt = optimizer(c.optimizer, [...params.values()]);
  const sched = scheduler(c.scheduler ?? null, opt);
  const lossFn = (out: Tensor, y: Tensor) => (c.loss.type === 'mse' ? F.mseLoss(out, y) : F.crossEntropy(out, y));
  const step = path === 'compiled' ? compileStep(model, lossFn, opt, { clipGradNorm: c.clip_grad_norm }) : null;

  const tol = c.tolerance;
  for (let i = 0; i < c.batches.length; i++) {
    const batch = c.batches[i]!;
    const x = tensorOf(batch.x, 'f32');
    const y = tensorOf(batch.y, c.loss.type === 'mse' ? 'f32' : 'i32');
    let loss: number;
    if (step) loss = step(x, y).item() as number;
    else {
      const l = lossFn(model.callWith([x]) as Tensor, y);
      loss = l.item() as number;
      l.backward();
      if (c.clip_grad_norm !== null) clipGradNorm_([...params.values()], c.clip_grad_norm);
      opt.step();
      opt.zeroGrad();
    }
    sched?.step();
    const want = c.expected.losses[i]!;
    if (!(Math.abs(loss - want) <= tol.atol + tol.rtol * Math.abs(want))) return `step ${i}: loss ${loss}, expected ${want}`;
  }
  const final = loadFile(join(dir, c.expected.final));
  for (const [name, want] of Object.entries(final)) {
    const got = params.get(name);
    if (!got) return `final: the model has no parameter '${name}'`;
    const err = compare(`final ${name}`, { shape: got.shape, data: got.data() }, { shape: want.shape, data: Array.from(want.data()) }, tol, false);
    if (err) return err;
  }
  return null;
}

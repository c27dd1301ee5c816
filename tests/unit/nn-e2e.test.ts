/**
 * End to end with PyTorch's numbers: build the conformance models from nn layers, load the
 * PyTorch-written initial parameters with loadStateDict, and reproduce the recorded losses
 * (and, for plain SGD, the whole run and the final parameters).
 */
import { toNumber } from '../conformance/cases.js';
import type { Layer, TrainCase } from '../conformance/training.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromStorage, noGrad, type Tensor } from '../../src/index.js';
import {
  Conv2d,
  CrossEntropyLoss,
  Flatten,
  Linear,
  loadFile,
  MaxPool2d,
  Module,
  ReLU,
  Sequential,
  Tanh,
} from '../../src/stdlib-nn/index.js';

const CASES = join(import.meta.dirname, '../conformance/cases/training');

const readCase = (name: string): TrainCase => JSON.parse(readFileSync(join(CASES, `${name}.json`), 'utf8')) as TrainCase;

/** The conformance format's `reshape` layer (PyTorch has no such module; the case's author wrote one). */
class Reshape extends Module {
  constructor(readonly shape: number[]) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return x.reshape(this.shape);
  }
}

function buildModel(spec: readonly Layer[]): Sequential {
  return new Sequential(
    ...spec.map((l): Module => {
      switch (l.type) {
        case 'linear':
          return new Linear(l.in_features!, l.out_features!, l.bias ?? true);
        case 'conv2d':
          return new Conv2d(l.in_channels!, l.out_channels!, l.kernel_size!, { stride: l.stride ?? 1, padding: l.padding ?? 0 });
        case 'relu':
          return new ReLU();
        case 'tanh':
          return new Tanh();
        case 'max_pool2d':
          return new MaxPool2d(l.kernel_size!);
        case 'flatten':
          return new Flatten();
        case 'reshape':
          return new Reshape(l.shape!);
        default:
          throw new Error(`no layer for ${l.type}`);
      }
    }),
  );
}

function batch(c: TrainCase, i: number): [Tensor, Tensor] {
  const b = c.batches[i]!;
  return [fromStorage(Float32Array.from(b.x.data!, toNumber), b.x.shape), fromStorage(Int32Array.from(b.y.data!, toNumber), b.y.shape, { dtype: 'i32' })];
}

function expectWithin(got: number, want: number, tol: { rtol: number; atol: number }, what: string): void {
  expect(Math.abs(got - want), `${what}: got ${got}, want ${want}`).toBeLessThanOrEqual(tol.atol + tol.rtol * Math.abs(want));
}

describe('PyTorch training cases through nn modules', () => {
  it("reproduces mlp_digits_sgd_momentum's first loss", () => {
    const c = readCase('mlp_digits_sgd_momentum');
    const model = new Sequential(new Linear(64, 32), new ReLU(), new Linear(32, 10));
    expect(model.loadStateDict(loadFile(join(CASES, c.init)))).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const [x, y] = batch(c, 0);
    const loss = new CrossEntropyLoss().call(model.call(x), y);
    expectWithin(loss.item() as number, c.expected.losses[0]!, c.tolerance, 'loss 0');
  });

  for (const name of ['mlp_digits_tanh_adam', 'cnn_digits_sgd']) {
    it(`reproduces ${name}'s first loss from its model spec`, () => {
      const c = readCase(name);
      const model = buildModel(c.model);
      model.loadStateDict(loadFile(join(CASES, c.init)));
      const [x, y] = batch(c, 0);
      expectWithin(new CrossEntropyLoss().call(model.call(x), y).item() as number, c.expected.losses[0]!, c.tolerance, 'loss 0');
    });
  }

  it('reproduces the whole cnn_digits_sgd run (plain SGD by hand) and its final parameters', () => {
    const c = readCase('cnn_digits_sgd');
    const lr = 0.3;
    const model = buildModel(c.model);
    model.loadStateDict(loadFile(join(CASES, c.init)));
    const lossFn = new CrossEntropyLoss();
    c.batches.forEach((_, i) => {
      const [x, y] = batch(c, i);
      const loss = lossFn.call(model.call(x), y);
      expectWithin(loss.item() as number, c.expected.losses[i]!, c.tolerance, `loss ${i}`);
      loss.backward();
      noGrad(() => {
        for (const p of model.parameters()) p.sub_(p.grad!.mul(lr));
      });
      model.zeroGrad();
    });
    const final = loadFile(join(CASES, c.expected.final));
    for (const [name, t] of Object.entries(model.stateDict())) {
      const want = final[name]!.data();
      const got = t.data();
      got.forEach((g, k) => expectWithin(g, want[k]!, c.tolerance, `${name}[${k}]`));
    }
  });
});

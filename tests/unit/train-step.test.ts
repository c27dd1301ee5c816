/**
 * The compiled training step: one graph per step, the same numbers as the eager step.
 */
import { describe, expect, it } from 'vitest';
import { F, manualSeed, randn, type Tensor, tensor } from '../../src/frontend-eager/index.js';
import { executableCache } from '../../src/frontend-eager/lazy.js';
import { compileStep, SGD, Adam } from '../../src/optim/index.js';
import * as nn from '../../src/stdlib-nn/nn.js';

function model(): nn.Sequential {
  manualSeed(3);
  // NOTE: no bias before the batch norm: its gradient is zero up to rounding, and Adam turns
  // rounding noise into full-size steps, so it would compare noise.
  return new nn.Sequential(new nn.Linear(6, 8, false), new nn.BatchNorm1d(8), new nn.ReLU(), new nn.Linear(8, 3));
}

const x = (() => {
  manualSeed(9);
  return randn([5, 6]);
})();
const y = tensor([0, 2, 1, 1, 0], { dtype: 'i32' });
const lossFn = (out: Tensor, t: Tensor) => F.crossEntropy(out, t);

describe('compileStep', () => {
  it('runs forward, backward and update as one graph per step', () => {
    const m = model();
    const step = compileStep(m, lossFn, new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 }));
    step(x, y);
    step(x, y);
    const before = executableCache.hits + executableCache.misses;
    step(x, y);
    expect(executableCache.hits + executableCache.misses - before).toBe(1);
  });

  it('gives the same numbers as the eager step (parameters and batch-norm statistics)', () => {
    for (const Opt of [SGD, Adam] as const) {
      const a = model();
      const b = model();
      const optA = new Opt(a.parameters(), { lr: 0.05 });
      const optB = new Opt(b.parameters(), { lr: 0.05 });
      const step = compileStep(b, lossFn, optB);
      for (let i = 0; i < 5; i++) {
        const la = lossFn(a.callWith([x]) as Tensor, y);
        const lossA = la.item() as number;
        la.backward();
        optA.step();
        optA.zeroGrad();
        const lossB = step(x, y).item() as number;
        expect(lossB).toBeCloseTo(lossA, 5);
      }
      const sa = a.stateDict();
      const sb = b.stateDict();
      for (const [k, t] of Object.entries(sa)) {
        const want = Array.from(t.data());
        Array.from(sb[k]!.data()).forEach((v, i) => expect(v, `${Opt.name} ${k}[${i}]`).toBeCloseTo(want[i]!, 5));
      }
    }
  });
});

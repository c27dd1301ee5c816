/**
 * The optimizer base: state dicts (structure, round trip, mismatches), zeroGrad, parameter
 * groups, argument checks; and gradient clipping.
 */
import { describe, expect, it } from 'vitest';
import { tensor, type Tensor, zeros } from '../../src/frontend-eager/index.js';
import { Adagrad, Adam, AdamW, clipGradNorm_, clipGradValue_, type Optimizer, RMSprop, SGD } from '../../src/optim/index.js';
import type { BaseHyper } from '../../src/optim/index.js';

function params(): Tensor[] {
  return [tensor([1, -2, 3], { requiresGrad: true }), tensor([[0.5, 1], [-1, 2]], { requiresGrad: true })];
}

function lossOf(ps: Tensor[]): Tensor {
  return ps[0]!.sub(0.5).square().sum().add(ps[1]!.tanh().mul(ps[1]!).sum());
}

function train(opt: Optimizer<BaseHyper>, ps: Tensor[], steps: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    lossOf(ps).backward();
    opt.step();
    out.push(ps.flatMap((p) => Array.from(p.data())));
  }
  return out;
}

const MAKERS: [string, (ps: Tensor[]) => Optimizer<BaseHyper>][] = [
  ['SGD nesterov', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true })],
  ['Adam amsgrad', (ps) => new Adam(ps, { lr: 0.05, amsgrad: true })],
  ['AdamW', (ps) => new AdamW(ps, { lr: 0.05 })],
  ['RMSprop centered momentum', (ps) => new RMSprop(ps, { lr: 0.01, centered: true, momentum: 0.5 })],
  ['Adagrad', (ps) => new Adagrad(ps, { lr: 0.1, lrDecay: 0.01 })],
];

describe('optimizer state dicts', () => {
  it.each(MAKERS)('%s: a restored optimizer continues identically', (_name, make) => {
    const ps = params();
    const opt = make(ps);
    train(opt, ps, 3);
    const saved = opt.stateDict();
    const values = ps.map((p) => p.data());
    const expected = train(opt, ps, 3);

    // fresh parameters holding the values at the time of the snapshot
    const fresh = ps.map((p, i) => tensor(Array.from(values[i]!)).reshape(p.shape).requiresGrad_());
    const opt2 = make(fresh);
    opt2.loadStateDict(saved);
    expect(train(opt2, fresh, 3)).toEqual(expected);
  });

  it("has PyTorch's structure: state by parameter index, groups with hyperparameters and indices", () => {
    const [a, b, c] = [zeros([2], { requiresGrad: true }), zeros([3], { requiresGrad: true }), zeros([1], { requiresGrad: true })];
    const opt = new Adam([{ params: [a!, b!] }, { params: [c!], lr: 0.1 }]);
    a!.sum().backward();
    c!.sum().backward();
    opt.step();
    const sd = opt.stateDict();
    expect(Object.keys(sd.state)).toEqual(['0', '2']);
    expect(Object.keys(sd.state[0]!).sort()).toEqual(['expAvg', 'expAvgSq', 'step']);
    expect(sd.state[0]!.step).toBe(1);
    expect((sd.state[2]!.expAvg as Tensor).shape).toEqual([1]);
    expect(sd.paramGroups).toEqual([
      { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, params: [0, 1] },
      { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, params: [2] },
    ]);
    // a snapshot: later steps do not change it
    const before = Array.from((sd.state[0]!.expAvg as Tensor).data());
    a!.sum().backward();
    opt.step();
    expect(Array.from((sd.state[0]!.expAvg as Tensor).data())).toEqual(before);
  });

  it('loading restores hyperparameters', () => {
    const opt = new SGD(params(), { lr: 0.1 });
    const sd = opt.stateDict();
    sd.paramGroups[0]!.lr = 0.5;
    const opt2 = new SGD(params(), { lr: 0.1 });
    opt2.loadStateDict(sd);
    expect(opt2.paramGroups[0]!.lr).toBe(0.5);
  });

  it('rejects state dicts that do not fit, naming what differs', () => {
    const opt = new SGD(params(), { lr: 0.1, momentum: 0.9 });
    train(opt, opt.paramGroups[0]!.params, 1);
    const sd = opt.stateDict();
    expect(() => new SGD([{ params: [zeros([3], { requiresGrad: true })] }, { params: [zeros([2, 2], { requiresGrad: true })] }]).loadStateDict(sd)).toThrow(
      'SGD.loadStateDict: loaded state dict has 1 parameter groups, the optimizer has 2',
    );
    expect(() => new SGD([zeros([3], { requiresGrad: true })]).loadStateDict(sd)).toThrow(
      "SGD.loadStateDict: loaded parameter group 0 has 2 parameters, the optimizer's group has 1",
    );
    expect(() => new SGD([zeros([3], { requiresGrad: true }), zeros([4], { requiresGrad: true })]).loadStateDict(sd)).toThrow(
      "SGD.loadStateDict: state 'momentumBuffer' of parameter 1 is f32[2,2], the parameter is f32[4]",
    );
  });
});

describe('Optimizer base', () => {
  it('zeroGrad sets grads to null by default, or zeroes them in place', () => {
    const ps = params();
    const opt = new SGD(ps, { lr: 0.1 });
    lossOf(ps).backward();
    opt.zeroGrad({ setToNone: false });
    const g = ps[0]!.grad!;
    expect(Array.from(g.data())).toEqual([0, 0, 0]);
    lossOf(ps).backward();
    expect(ps[0]!.grad).toBe(g); // accumulated into the same tensor
    opt.zeroGrad();
    expect(ps.map((p) => p.grad)).toEqual([null, null]);
  });

  it('stepLazy records the step without computing it and returns what it updated', () => {
    const [a, b] = [params(), params()];
    const [optA, optB] = [new Adam(a, { lr: 0.1 }), new Adam(b, { lr: 0.1 })];
    lossOf(a).backward();
    lossOf(b).backward();
    optA.step();
    const updated = optB.stepLazy();
    expect(updated[0] === b[0] && updated[1] === b[1]).toBe(true);
    expect(updated.length).toBe(2 + 2 * 2); // params, then expAvg and expAvgSq of each
    expect(b[0]!._buf.realized).toBe(false);
    expect(b.map((p) => Array.from(p.data()))).toEqual(a.map((p) => Array.from(p.data())));
  });

  it('addParamGroup fills defaults and refuses duplicates', () => {
    const [a, b] = params();
    const opt = new SGD([a!], { lr: 0.1, momentum: 0.9 });
    opt.addParamGroup({ params: [b!], lr: 0.01 });
    expect(opt.paramGroups[1]).toMatchObject({ lr: 0.01, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0 });
    expect(() => opt.addParamGroup({ params: [a!] })).toThrow('SGD: some parameters appear in more than one parameter group');
  });

  it('checks its arguments like PyTorch', () => {
    const ps = params();
    expect(() => new SGD([])).toThrow('SGD: optimizer got an empty parameter list');
    expect(() => new SGD(ps, { lr: -1 })).toThrow('SGD: invalid learning rate: -1');
    expect(() => new SGD(ps, { lr: 0.1, nesterov: true })).toThrow('SGD: invalid nesterov setting (Nesterov momentum requires a momentum and zero dampening)');
    expect(() => new Adam(ps, { betas: [1, 0.999] })).toThrow('Adam: invalid beta parameter at index 0: 1');
    expect(() => new AdamW(ps, { eps: -1 })).toThrow('AdamW: invalid epsilon value: -1');
    expect(() => new RMSprop(ps, { alpha: -0.1 })).toThrow('RMSprop: invalid alpha value: -0.1');
    expect(() => new Adagrad(ps, { lrDecay: -1 })).toThrow('Adagrad: invalid lrDecay value: -1');
    expect(() => new SGD([ps[0]!.mul(2)])).toThrow("SGD: can't optimize a non-leaf Tensor (f32[3])");
  });

  it('keeps PyTorch defaults', () => {
    const ps = params();
    expect(new SGD(ps).defaults).toEqual({ lr: 1e-3, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false });
    expect(new Adam(ps).defaults).toMatchObject({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false });
    expect(new AdamW(ps).defaults).toMatchObject({ lr: 1e-3, weightDecay: 1e-2 });
    expect(new RMSprop(ps).defaults).toMatchObject({ lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false });
    expect(new Adagrad(ps).defaults).toMatchObject({ lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 });
  });
});

describe('clipGradNorm_ / clipGradValue_', () => {
  function withGrads(...grads: number[][]): Tensor[] {
    return grads.map((g) => {
      const p = zeros([g.length], { requiresGrad: true });
      p.grad = tensor(g);
      return p;
    });
  }

  it('scales grads by maxNorm / (total + 1e-6) when the total norm is larger', () => {
    const ps = withGrads([3, 4], [12]);
    const total = clipGradNorm_(ps, 6.5);
    expect(total.item()).toBeCloseTo(13, 5);
    const coef = 6.5 / (13 + 1e-6);
    expect(Array.from(ps[0]!.grad!.data())).toEqual(Array.from(new Float32Array([3 * coef, 4 * coef])));
    expect(ps[1]!.grad!.data()[0]).toBeCloseTo(12 * coef, 5);
  });

  it('leaves grads unchanged below maxNorm, and supports other norms', () => {
    const ps = withGrads([3, 4], [12]);
    expect(clipGradNorm_(ps, 100).item()).toBeCloseTo(13, 5);
    expect(Array.from(ps[0]!.grad!.data())).toEqual([3, 4]);
    expect(clipGradNorm_(withGrads([3, -4], [12]), 100, 1).item()).toBeCloseTo(19, 5);
    const inf = withGrads([3, -40], [12]);
    expect(clipGradNorm_(inf, 20, Infinity).item()).toBe(40);
    expect(inf[0]!.grad!.data()[1]).toBeCloseTo((-40 * 20) / (40 + 1e-6), 5);
  });

  it('returns 0 without grads; errorIfNonfinite reports a NaN norm', () => {
    expect(clipGradNorm_([zeros([2], { requiresGrad: true })], 1).item()).toBe(0);
    expect(() => clipGradNorm_(withGrads([Number.NaN, 1]), 1, 2, { errorIfNonfinite: true })).toThrow(
      'clipGradNorm_: the total norm of order 2 for gradients from `parameters` is non-finite (NaN), so it cannot be clipped.',
    );
  });

  it('clipGradValue_ clamps every element', () => {
    const ps = withGrads([3, -4, 0.5]);
    clipGradValue_(ps, 1);
    expect(Array.from(ps[0]!.grad!.data())).toEqual([1, -1, 0.5]);
  });
});

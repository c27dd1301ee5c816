/**
 * Learning-rate schedulers: each sequence against its closed form (PyTorch's docs), OneCycle
 * phases and momentum cycling, and scheduler state dicts.
 */
import { describe, expect, it } from 'vitest';
import { zeros } from '../../src/frontend-eager/index.js';
import { Adagrad, Adam, CosineAnnealingLR, ExponentialLR, type LRScheduler, OneCycleLR, SGD, StepLR } from '../../src/optim/index.js';

const param = () => zeros([2], { requiresGrad: true });

/** The lr after construction and after each of `n` steps. */
function lrs(s: LRScheduler, n: number): number[] {
  const out = [s.getLastLr()[0]!];
  for (let i = 0; i < n; i++) {
    s.step();
    out.push(s.getLastLr()[0]!);
  }
  return out;
}

function expectSeq(actual: number[], expected: number[], tol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => {
    if (Math.abs(v - expected[i]!) > tol * Math.max(1, Math.abs(expected[i]!))) throw new Error(`epoch ${i}: got ${v}, expected ${expected[i]}`);
  });
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('StepLR / ExponentialLR / CosineAnnealingLR', () => {
  it('StepLR: lr = base * gamma ** floor(epoch / stepSize)', () => {
    const opt = new SGD([param()], { lr: 0.1 });
    expectSeq(lrs(new StepLR(opt, 3, 0.5), 10), range(11).map((e) => 0.1 * 0.5 ** Math.floor(e / 3)));
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(0.1 * 0.5 ** 3, 14);
  });

  it('StepLR default gamma is 0.1', () => {
    expectSeq(lrs(new StepLR(new SGD([param()], { lr: 1 }), 2), 4), [1, 1, 0.1, 0.1, 0.01]);
  });

  it('ExponentialLR: lr = base * gamma ** epoch', () => {
    expectSeq(lrs(new ExponentialLR(new Adam([param()], { lr: 0.01 }), 0.9), 8), range(9).map((e) => 0.01 * 0.9 ** e));
  });

  it('CosineAnnealingLR: the recursive form follows the closed form, restarts included', () => {
    const tMax = 5;
    const etaMin = 0.001;
    const closed = (e: number) => etaMin + ((0.1 - etaMin) * (1 + Math.cos((Math.PI * e) / tMax))) / 2;
    expectSeq(lrs(new CosineAnnealingLR(new SGD([param()], { lr: 0.1 }), tMax, etaMin), 3 * tMax), range(3 * tMax + 1).map(closed), 1e-10);
  });

  it('applies to every group from its own initial lr', () => {
    const opt = new SGD([{ params: [param()] }, { params: [param()], lr: 0.5 }], { lr: 0.1 });
    const s = new StepLR(opt, 1, 0.5);
    s.step();
    expect(s.getLastLr()).toEqual([0.05, 0.25]);
    expect(opt.paramGroups.map((g) => g.initialLr)).toEqual([0.1, 0.5]);
  });

  it('rejects bad arguments with a message', () => {
    expect(() => new StepLR(new SGD([param()]), 0)).toThrow('StepLR: stepSize must be a positive integer, got 0');
    expect(() => new CosineAnnealingLR(new SGD([param()]), 0)).toThrow('CosineAnnealingLR: tMax must be positive, got 0');
  });
});

describe('OneCycleLR', () => {
  const cos = (start: number, end: number, pct: number) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);

  it('two phases with cosine annealing (PyTorch defaults)', () => {
    const total = 10;
    const s = new OneCycleLR(new SGD([param()], { lr: 0.1, momentum: 0.9 }), { maxLr: 1, totalSteps: total });
    const initial = 1 / 25;
    const min = initial / 1e4;
    const end1 = 0.3 * total - 1;
    const expected = range(total).map((t) => (t <= end1 ? cos(initial, 1, t / end1) : cos(1, min, (t - end1) / (total - 1 - end1))));
    const got = lrs(s, total - 1);
    expectSeq(got, expected);
    expect(got.slice(0, 3).map((v) => +v.toFixed(12))).toEqual([0.04, 0.52, 1]);
    expect(got[total - 1]).toBeCloseTo(4e-6, 15);
  });

  it('epochs * stepsPerEpoch, linear annealing', () => {
    const s = new OneCycleLR(new SGD([param()], { lr: 0.1, momentum: 0.9 }), { maxLr: 1, epochs: 2, stepsPerEpoch: 5, pctStart: 0.4, annealStrategy: 'linear' });
    const got = lrs(s, 9);
    // phase 1 ends at step 0.4 * 10 - 1 = 3
    expectSeq(got.slice(0, 4), [0.04, 0.04 + 0.96 / 3, 0.04 + (2 * 0.96) / 3, 1]);
    expect(got[9]).toBeCloseTo(4e-6, 15);
  });

  it('three phases: up to maxLr, back down to the initial lr, then to minLr', () => {
    const s = new OneCycleLR(new SGD([param()], { momentum: 0.9 }), { maxLr: 0.5, totalSteps: 20, pctStart: 0.25, threePhase: true });
    const got = lrs(s, 19);
    expect(got[0]).toBeCloseTo(0.02, 15);
    expect(got[4]).toBeCloseTo(0.5, 15); // end of phase 1: 0.25 * 20 - 1
    expect(got[8]).toBeCloseTo(0.02, 15); // end of phase 2: 2 * 0.25 * 20 - 2
    expect(got[19]).toBeCloseTo(0.02 / 1e4, 15);
    expect(got[6]).toBeCloseTo(cos(0.5, 0.02, 0.5), 15);
  });

  it('cycles SGD momentum inversely to the lr', () => {
    const opt = new SGD([param()], { lr: 0.1 });
    const s = new OneCycleLR(opt, { maxLr: 1, totalSteps: 10 });
    const mom = [opt.paramGroups[0]!.momentum];
    for (let i = 0; i < 9; i++) {
      s.step();
      mom.push(opt.paramGroups[0]!.momentum);
    }
    expect(mom[0]).toBeCloseTo(0.95, 15);
    expect(mom[2]).toBeCloseTo(0.85, 15);
    expect(mom[1]).toBeCloseTo(0.9, 15);
    expect(mom[9]).toBeCloseTo(0.95, 15);
  });

  it("cycles Adam's beta1 and keeps beta2", () => {
    const opt = new Adam([param()], { betas: [0.9, 0.99] });
    const s = new OneCycleLR(opt, { maxLr: 0.01, totalSteps: 10, baseMomentum: 0.8, maxMomentum: 0.9 });
    expect(opt.paramGroups[0]!.betas).toEqual([0.9, 0.99]);
    s.step();
    s.step();
    expect(opt.paramGroups[0]!.betas[0]).toBeCloseTo(0.8, 15);
    expect(opt.paramGroups[0]!.betas[1]).toBe(0.99);
  });

  it('errors: no length, stepping past the end, no momentum to cycle', () => {
    const opt = () => new SGD([param()], { lr: 0.1 });
    expect(() => new OneCycleLR(opt(), { maxLr: 1 })).toThrow('OneCycleLR: you must define either totalSteps OR (epochs AND stepsPerEpoch)');
    const s = new OneCycleLR(opt(), { maxLr: 1, totalSteps: 3 });
    s.step();
    s.step();
    s.step();
    expect(() => s.step()).toThrow('OneCycleLR: tried to step 4 times; the specified number of total steps is 3');
    expect(() => new OneCycleLR(new Adagrad([param()]), { maxLr: 1, totalSteps: 3 })).toThrow(
      'OneCycleLR: optimizer must support momentum or beta1 with the `cycleMomentum` option enabled',
    );
    expect(() => new OneCycleLR(new Adagrad([param()]), { maxLr: 1, totalSteps: 3, cycleMomentum: false })).not.toThrow();
  });
});

describe('scheduler state dicts', () => {
  it('a scheduler restored from a state dict continues the same sequence', () => {
    const make = () => {
      const opt = new SGD([param()], { lr: 0.1, momentum: 0.9 });
      return { opt, s: new CosineAnnealingLR(opt, 7, 0.01) };
    };
    const a = make();
    for (let i = 0; i < 4; i++) a.s.step();
    const saved = JSON.parse(JSON.stringify(a.s.stateDict())) as ReturnType<LRScheduler['stateDict']>;
    const optSaved = a.opt.stateDict();
    const b = make();
    b.opt.loadStateDict(optSaved);
    b.s.loadStateDict(saved);
    expect(lrs(b.s, 6)).toEqual(lrs(a.s, 6));
    expect(saved.lastEpoch).toBe(4);
    expect(saved.tMax).toBe(7);
    expect(saved).not.toHaveProperty('optimizer');
  });

  it('OneCycleLR state round-trips', () => {
    const make = () => new OneCycleLR(new Adam([param()]), { maxLr: 0.1, totalSteps: 12, threePhase: true });
    const a = make();
    for (let i = 0; i < 5; i++) a.step();
    const b = make();
    b.loadStateDict(a.stateDict());
    b.optimizer.loadStateDict(a.optimizer.stateDict());
    expect(lrs(b, 6)).toEqual(lrs(a, 6));
    expect(() => b.loadStateDict({ bogus: 1 })).toThrow("OneCycleLR.loadStateDict: unexpected key 'bogus'");
  });
});

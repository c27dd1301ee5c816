/**
 * Each optimizer's parameter trajectory on a small quadratic, checked against a plain
 * float64 transcription of PyTorch's documented algorithm (torch.optim docs' pseudo-code and
 * the single-tensor implementations), step by step.
 */
import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../../src/frontend-eager/index.js';
import { Adagrad, Adam, AdamW, type Optimizer, RMSprop, SGD } from '../../src/optim/index.js';
import type { BaseHyper } from '../../src/optim/index.js';

// ---- the problem: L(p) = sum 0.5 * a * (p - c)^2 over two parameters, grad = a * (p - c) ----

const A = [[1.0, 2.0, 0.5], [1.5, 3.0, 0.7, 1.1]];
const C = [[0.3, -1.2, 2.0], [1.0, -0.5, 0.25, -2.0]];
const P0 = [[1.0, 0.5, -1.0], [0.2, 0.4, -0.6, 0.8]];
const SHAPES = [[3], [2, 2]];

function makeParams(): Tensor[] {
  return P0.map((p, i) => tensor(p, { requiresGrad: true }).detach().reshape(SHAPES[i]!).requiresGrad_());
}

function loss(params: Tensor[]): Tensor {
  return params
    .map((p, i) => p.reshape([-1]).sub(tensor(C[i]!)).square().mul(tensor(A[i]!)).sum().mul(0.5))
    .reduce((x, y) => x.add(y));
}

function gradAt(ps: number[][]): number[][] {
  return ps.map((p, i) => p.map((v, j) => A[i]![j]! * (v - C[i]![j]!)));
}

/** A reference optimizer: updates `ps` in place from `gs` (float64, elementwise). */
type RefStep = (ps: number[][], gs: number[][], groupOf: (i: number) => number) => void;

/** Per-element state, keyed by parameter and element. */
function stateTable<S>(init: () => S): (i: number, j: number) => S {
  const m = new Map<string, S>();
  return (i, j) => {
    const k = `${i}.${j}`;
    if (!m.has(k)) m.set(k, init());
    return m.get(k)!;
  };
}

interface SgdCfg { lr: number; momentum?: number; dampening?: number; nesterov?: boolean; weightDecay?: number; maximize?: boolean }
function refSgd(cfgs: SgdCfg[]): RefStep {
  const st = stateTable<{ b: number | null }>(() => ({ b: null }));
  return (ps, gs, groupOf) =>
    ps.forEach((p, i) => {
      const { lr, momentum = 0, dampening = 0, nesterov = false, weightDecay = 0, maximize = false } = cfgs[groupOf(i)]!;
      p.forEach((v, j) => {
        let g = maximize ? -gs[i]![j]! : gs[i]![j]!;
        if (weightDecay !== 0) g += weightDecay * v;
        if (momentum !== 0) {
          const s = st(i, j);
          s.b = s.b === null ? g : momentum * s.b + (1 - dampening) * g;
          g = nesterov ? g + momentum * s.b : s.b;
        }
        p[j] = v - lr * g;
      });
    });
}

interface AdamCfg { lr?: number; betas?: [number, number]; eps?: number; weightDecay?: number; amsgrad?: boolean; maximize?: boolean; decoupled?: boolean }
function refAdam(cfg: AdamCfg): RefStep {
  const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, amsgrad = false, maximize = false, decoupled = false } = cfg;
  const weightDecay = cfg.weightDecay ?? (decoupled ? 1e-2 : 0);
  const [b1, b2] = betas;
  const st = stateTable(() => ({ t: 0, m: 0, v: 0, vmax: 0 }));
  return (ps, gs) =>
    ps.forEach((p, i) =>
      p.forEach((v0, j) => {
        const s = st(i, j);
        let v = v0;
        s.t += 1;
        let g = maximize ? -gs[i]![j]! : gs[i]![j]!;
        if (weightDecay !== 0) {
          if (decoupled) v *= 1 - lr * weightDecay;
          else g += weightDecay * v;
        }
        s.m = s.m + (1 - b1) * (g - s.m);
        s.v = b2 * s.v + (1 - b2) * g * g;
        const bc1 = 1 - b1 ** s.t;
        const bc2 = 1 - b2 ** s.t;
        s.vmax = Math.max(s.vmax, s.v);
        const denom = Math.sqrt(amsgrad ? s.vmax : s.v) / Math.sqrt(bc2) + eps;
        p[j] = v - (lr / bc1) * (s.m / denom);
      }),
    );
}

interface RmsCfg { lr?: number; alpha?: number; eps?: number; weightDecay?: number; momentum?: number; centered?: boolean; maximize?: boolean }
function refRmsprop(cfg: RmsCfg): RefStep {
  const { lr = 1e-2, alpha = 0.99, eps = 1e-8, weightDecay = 0, momentum = 0, centered = false, maximize = false } = cfg;
  const st = stateTable(() => ({ sq: 0, gAvg: 0, b: 0 }));
  return (ps, gs) =>
    ps.forEach((p, i) =>
      p.forEach((v, j) => {
        const s = st(i, j);
        let g = maximize ? -gs[i]![j]! : gs[i]![j]!;
        if (weightDecay !== 0) g += weightDecay * v;
        s.sq = alpha * s.sq + (1 - alpha) * g * g;
        let avg: number;
        if (centered) {
          s.gAvg = s.gAvg + (1 - alpha) * (g - s.gAvg);
          avg = Math.sqrt(s.sq - s.gAvg * s.gAvg) + eps;
        } else {
          avg = Math.sqrt(s.sq) + eps;
        }
        if (momentum > 0) {
          s.b = momentum * s.b + g / avg;
          p[j] = v - lr * s.b;
        } else {
          p[j] = v - (lr * g) / avg;
        }
      }),
    );
}

interface AdagradCfg { lr?: number; lrDecay?: number; weightDecay?: number; initialAccumulatorValue?: number; eps?: number; maximize?: boolean }
function refAdagrad(cfg: AdagradCfg): RefStep {
  const { lr = 1e-2, lrDecay = 0, weightDecay = 0, initialAccumulatorValue = 0, eps = 1e-10, maximize = false } = cfg;
  const st = stateTable(() => ({ t: 0, sum: initialAccumulatorValue }));
  return (ps, gs) =>
    ps.forEach((p, i) =>
      p.forEach((v, j) => {
        const s = st(i, j);
        s.t += 1;
        let g = maximize ? -gs[i]![j]! : gs[i]![j]!;
        if (weightDecay !== 0) g += weightDecay * v;
        const clr = lr / (1 + (s.t - 1) * lrDecay);
        s.sum += g * g;
        p[j] = v - (clr * g) / (Math.sqrt(s.sum) + eps);
      }),
    );
}

interface Case {
  name: string;
  make: (params: Tensor[]) => Optimizer<BaseHyper>;
  ref: RefStep;
  /** Which group each parameter is in (default: one group). */
  groupOf?: (i: number) => number;
}

const CASES: Case[] = [
  { name: 'SGD', make: (ps) => new SGD(ps, { lr: 0.1 }), ref: refSgd([{ lr: 0.1 }]) },
  { name: 'SGD momentum', make: (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9 }), ref: refSgd([{ lr: 0.1, momentum: 0.9 }]) },
  {
    name: 'SGD momentum + dampening',
    make: (ps) => new SGD(ps, { lr: 0.1, momentum: 0.8, dampening: 0.3 }),
    ref: refSgd([{ lr: 0.1, momentum: 0.8, dampening: 0.3 }]),
  },
  { name: 'SGD nesterov', make: (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true }), ref: refSgd([{ lr: 0.05, momentum: 0.9, nesterov: true }]) },
  {
    name: 'SGD momentum + weight decay',
    make: (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }),
    ref: refSgd([{ lr: 0.1, momentum: 0.9, weightDecay: 0.01 }]),
  },
  { name: 'SGD maximize', make: (ps) => new SGD(ps, { lr: 0.01, maximize: true }), ref: refSgd([{ lr: 0.01, maximize: true }]) },
  {
    name: 'SGD two param groups',
    make: (ps) => new SGD([{ params: [ps[0]!] }, { params: [ps[1]!], lr: 0.02, momentum: 0.5 }], { lr: 0.1 }),
    ref: refSgd([{ lr: 0.1 }, { lr: 0.02, momentum: 0.5 }]),
    groupOf: (i) => i,
  },
  { name: 'Adam', make: (ps) => new Adam(ps, { lr: 0.05 }), ref: refAdam({ lr: 0.05 }) },
  { name: 'Adam defaults', make: (ps) => new Adam(ps), ref: refAdam({}) },
  { name: 'Adam weight decay', make: (ps) => new Adam(ps, { lr: 0.05, weightDecay: 0.1 }), ref: refAdam({ lr: 0.05, weightDecay: 0.1 }) },
  // beta2 = 0.5 makes v fall within 5 steps, so the running max matters
  { name: 'Adam amsgrad', make: (ps) => new Adam(ps, { lr: 0.05, amsgrad: true, betas: [0.8, 0.5] }), ref: refAdam({ lr: 0.05, amsgrad: true, betas: [0.8, 0.5] }) },
  { name: 'Adam maximize', make: (ps) => new Adam(ps, { lr: 0.01, maximize: true }), ref: refAdam({ lr: 0.01, maximize: true }) },
  { name: 'Adam beta1 >= 0.5 lerp branch', make: (ps) => new Adam(ps, { lr: 0.05, betas: [0.3, 0.99] }), ref: refAdam({ lr: 0.05, betas: [0.3, 0.99] }) },
  { name: 'AdamW', make: (ps) => new AdamW(ps, { lr: 0.05 }), ref: refAdam({ lr: 0.05, decoupled: true }) },
  {
    name: 'AdamW amsgrad + weight decay',
    make: (ps) => new AdamW(ps, { lr: 0.05, weightDecay: 0.2, amsgrad: true, betas: [0.9, 0.5] }),
    ref: refAdam({ lr: 0.05, weightDecay: 0.2, amsgrad: true, decoupled: true, betas: [0.9, 0.5] }),
  },
  { name: 'RMSprop', make: (ps) => new RMSprop(ps, { lr: 0.01 }), ref: refRmsprop({ lr: 0.01 }) },
  { name: 'RMSprop momentum', make: (ps) => new RMSprop(ps, { lr: 0.01, momentum: 0.9 }), ref: refRmsprop({ lr: 0.01, momentum: 0.9 }) },
  { name: 'RMSprop centered', make: (ps) => new RMSprop(ps, { lr: 0.01, centered: true }), ref: refRmsprop({ lr: 0.01, centered: true }) },
  {
    name: 'RMSprop centered + momentum + weight decay',
    make: (ps) => new RMSprop(ps, { lr: 0.005, alpha: 0.9, centered: true, momentum: 0.5, weightDecay: 0.1 }),
    ref: refRmsprop({ lr: 0.005, alpha: 0.9, centered: true, momentum: 0.5, weightDecay: 0.1 }),
  },
  { name: 'Adagrad', make: (ps) => new Adagrad(ps, { lr: 0.1 }), ref: refAdagrad({ lr: 0.1 }) },
  { name: 'Adagrad defaults', make: (ps) => new Adagrad(ps), ref: refAdagrad({}) },
  {
    name: 'Adagrad lr decay + weight decay + initial accumulator',
    make: (ps) => new Adagrad(ps, { lr: 0.1, lrDecay: 0.05, weightDecay: 0.1, initialAccumulatorValue: 0.5 }),
    ref: refAdagrad({ lr: 0.1, lrDecay: 0.05, weightDecay: 0.1, initialAccumulatorValue: 0.5 }),
  },
];

const STEPS = 5;

function expectClose(actual: number[][], expected: number[][], what: string): void {
  actual.forEach((p, i) =>
    p.forEach((v, j) => {
      const e = expected[i]![j]!;
      if (!(Math.abs(v - e) <= 1e-5 + 1e-5 * Math.abs(e))) {
        throw new Error(`${what}: parameter ${i} element ${j}: kiln ${v}, reference ${e}`);
      }
    }),
  );
}

describe('optimizers follow PyTorch update rules', () => {
  it.each(CASES)('$name', ({ make, ref, groupOf = () => 0 }) => {
    const params = makeParams();
    const opt = make(params);
    const ps = P0.map((p) => [...p]);
    for (let step = 1; step <= STEPS; step++) {
      opt.zeroGrad();
      loss(params).backward();
      opt.step();
      ref(ps, gradAt(ps), groupOf);
      expectClose(
        params.map((p) => Array.from(p.data())),
        ps,
        `step ${step}`,
      );
    }
    // the parameters kept their identity and stay leaves that require grad
    expect(params.every((p) => p.isLeaf && p.requiresGrad)).toBe(true);
  });

  it('uses an amsgrad setting where the running max changes the trajectory', () => {
    const run = (amsgrad: boolean) => {
      const ref = refAdam({ lr: 0.05, amsgrad, betas: [0.8, 0.5] });
      const ps = P0.map((p) => [...p]);
      for (let i = 0; i < STEPS; i++) ref(ps, gradAt(ps), () => 0);
      return ps.flat();
    };
    const diff = Math.max(...run(true).map((v, k) => Math.abs(v - run(false)[k]!)));
    expect(diff).toBeGreaterThan(1e-3);
  });

  it('skips parameters without a gradient and creates no state for them', () => {
    const [a, b] = makeParams();
    const opt = new Adam([a!, b!], { lr: 0.1 });
    a!.mul(a!).sum().backward();
    const before = b!.data();
    opt.step();
    expect(Array.from(b!.data())).toEqual(Array.from(before));
    expect(opt.state.has(b!)).toBe(false);
    expect(opt.state.get(a!)?.step).toBe(1);
  });

  it('returns the closure loss from step(closure)', () => {
    const params = makeParams();
    const opt = new SGD(params, { lr: 0.1 });
    const l = opt.step(() => {
      opt.zeroGrad();
      const v = loss(params);
      v.backward();
      return v;
    });
    const expected = gradAt(P0).flat().reduce((s, g, k) => s + 0.5 * g * g / A.flat()[k]!, 0);
    expect(l!.item()).toBeCloseTo(expected, 5);
  });

  it('reuses one compiled update graph across steps (scalars enter as inputs)', async () => {
    const { executableCache } = await import('../../src/frontend-eager/lazy.js');
    const params = makeParams();
    const opt = new Adam(params, { lr: 0.05, amsgrad: true });
    const run = () => {
      opt.zeroGrad();
      loss(params).backward();
      opt.step();
    };
    run();
    run();
    const misses = executableCache.misses;
    for (let i = 0; i < 4; i++) run();
    expect(executableCache.misses).toBe(misses);
  });
});

/**
 * nn layers, losses and init: each forward checked against values computed here directly
 * (plain loops over the parameters' numbers), batch-norm running statistics checked
 * number by number, parameter shapes and PyTorch's default initialization bounds.
 */
import { describe, expect, it } from 'vitest';
import { ArgumentError, Generator, manualSeed, ones, randn, ShapeError, type Tensor, tensor, zeros } from '../../src/index.js';
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  BCELoss,
  BCEWithLogitsLoss,
  calculateFanInAndFanOut,
  calculateGain,
  constant_,
  Conv1d,
  Conv2d,
  CrossEntropyLoss,
  Dropout,
  ELU,
  Embedding,
  Flatten,
  GELU,
  Identity,
  init,
  kaimingNormal_,
  kaimingUniform_,
  L1Loss,
  LayerNorm,
  LeakyReLU,
  Linear,
  LogSoftmax,
  MaxPool2d,
  MSELoss,
  NLLLoss,
  normal_,
  ones_,
  ReLU,
  Sigmoid,
  SiLU,
  SmoothL1Loss,
  Softmax,
  Softplus,
  Tanh,
  Unflatten,
  uniform_,
  xavierNormal_,
  xavierUniform_,
  zeros_,
} from '../../src/stdlib-nn/index.js';

const vals = (t: Tensor): number[] => Array.from(t.data(), Number);

function expectClose(got: readonly number[], want: readonly number[], atol = 1e-5, rtol = 1e-5): void {
  expect(got.length).toBe(want.length);
  const bad = got.findIndex((g, i) => !(Math.abs(g - want[i]!) <= atol + rtol * Math.abs(want[i]!)));
  if (bad >= 0) expect.fail(`element ${bad}: got ${got[bad]}, want ${want[bad]}`);
}

/** Row-major index helper for a shape. */
const at = (shape: readonly number[]) => (...idx: number[]): number => idx.reduce((acc, v, i) => acc * shape[i]! + v, 0);

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
function variance(xs: readonly number[], correction: number): number {
  const m = mean(xs);
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - correction);
}

/** erf to ~1e-7 (Abramowitz & Stegun 7.1.26 is 1.5e-7; this series/continued form is plenty). */
function erf(x: number): number {
  // Maclaurin series converges fast for |x| < 3, which covers the test values.
  let sum = 0;
  let term = x;
  for (let n = 0; n < 60; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

describe('Linear', () => {
  it('computes x W^T + b with weight [out, in]', () => {
    manualSeed(1);
    const fc = new Linear(3, 2);
    expect(fc.weight.shape).toEqual([2, 3]);
    expect(fc.bias!.shape).toEqual([2]);
    const x = randn([4, 3]);
    const [w, b, xv] = [vals(fc.weight), vals(fc.bias!), vals(x)];
    const want: number[] = [];
    for (let n = 0; n < 4; n++) for (let o = 0; o < 2; o++) want.push(b[o]! + [0, 1, 2].reduce((s, i) => s + xv[n * 3 + i]! * w[o * 3 + i]!, 0));
    expectClose(vals(fc.call(x)), want);
    const noBias = new Linear(3, 2, false);
    expect(noBias.bias).toBeNull();
    expect(noBias.parameters().length).toBe(1);
  });

  it('draws PyTorch default init: weight and bias in ±1/sqrt(fan_in), reproducibly', () => {
    manualSeed(7);
    const fc = new Linear(50, 40);
    const bound = 1 / Math.sqrt(50);
    const w = vals(fc.weight);
    const b = vals(fc.bias!);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.95 * bound);
    expect(Math.abs(mean(w))).toBeLessThan(0.01);
    // U(-a, a) has variance a^2 / 3.
    expect(variance(w, 0)).toBeCloseTo((bound * bound) / 3, 3);
    expect(Math.max(...b.map(Math.abs))).toBeLessThanOrEqual(bound);
    manualSeed(7);
    expect(vals(new Linear(50, 40).weight)).toEqual(w);
  });
});

describe('convolution', () => {
  /** Direct convolution of x [N,C,H,W] with w [O,C/g,kh,kw]. */
  function conv2dRef(x: number[], xs: number[], w: number[], ws: number[], b: number[] | null, stride: number[], pad: number[], dil: number[], groups: number) {
    const [N, , H, W] = xs as [number, number, number, number];
    const [O, Cg, KH, KW] = ws as [number, number, number, number];
    const OH = Math.floor((H + 2 * pad[0]! - dil[0]! * (KH - 1) - 1) / stride[0]!) + 1;
    const OW = Math.floor((W + 2 * pad[1]! - dil[1]! * (KW - 1) - 1) / stride[1]!) + 1;
    const xi = at(xs);
    const wi = at(ws);
    const out: number[] = [];
    for (let n = 0; n < N; n++)
      for (let o = 0; o < O; o++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++) {
            let s = b ? b[o]! : 0;
            const g = Math.floor(o / (O / groups));
            for (let c = 0; c < Cg; c++)
              for (let kh = 0; kh < KH; kh++)
                for (let kw = 0; kw < KW; kw++) {
                  const h = oh * stride[0]! - pad[0]! + kh * dil[0]!;
                  const ww = ow * stride[1]! - pad[1]! + kw * dil[1]!;
                  if (h >= 0 && h < H && ww >= 0 && ww < W) s += x[xi(n, g * Cg + c, h, ww)]! * w[wi(o, c, kh, kw)]!;
                }
            out.push(s);
          }
    return { out, shape: [N, O, OH, OW] };
  }

  it('Conv2d matches a direct convolution (stride, padding)', () => {
    manualSeed(2);
    const conv = new Conv2d(2, 3, 3, { stride: 2, padding: 1 });
    expect(conv.weight.shape).toEqual([3, 2, 3, 3]);
    const x = randn([2, 2, 5, 5]);
    const ref = conv2dRef(vals(x), x.shape, vals(conv.weight), conv.weight.shape, vals(conv.bias!), [2, 2], [1, 1], [1, 1], 1);
    const y = conv.call(x);
    expect(y.shape).toEqual(ref.shape);
    expectClose(vals(y), ref.out, 1e-5);
  });

  it('Conv2d matches a direct convolution (groups, dilation, no bias)', () => {
    manualSeed(3);
    const conv = new Conv2d(4, 2, [2, 3], { dilation: 2, groups: 2, bias: false });
    expect(conv.weight.shape).toEqual([2, 2, 2, 3]);
    expect(conv.bias).toBeNull();
    const x = randn([1, 4, 6, 7]);
    const ref = conv2dRef(vals(x), x.shape, vals(conv.weight), conv.weight.shape, null, [1, 1], [0, 0], [2, 2], 2);
    expectClose(vals(conv.call(x)), ref.out, 1e-5);
  });

  it('Conv1d is Conv2d with H = 1', () => {
    manualSeed(4);
    const conv = new Conv1d(2, 3, 3, { padding: 2, stride: 1 });
    expect(conv.weight.shape).toEqual([3, 2, 3]);
    const x = randn([2, 2, 6]);
    const ref = conv2dRef(vals(x), [2, 2, 1, 6], vals(conv.weight), [3, 2, 1, 3], vals(conv.bias!), [1, 1], [0, 2], [1, 1], 1);
    const y = conv.call(x);
    expect(y.shape).toEqual([2, 3, 8]);
    expectClose(vals(y), ref.out, 1e-5);
  });

  it('initializes with bound 1/sqrt(C/groups * kh * kw) and checks its arguments', () => {
    manualSeed(5);
    const conv = new Conv2d(6, 8, 5, { groups: 2 });
    const bound = 1 / Math.sqrt(3 * 25);
    expect(Math.max(...vals(conv.weight).map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...vals(conv.weight).map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(Math.max(...vals(conv.bias!).map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow('Conv2d: in_channels (3) must be divisible by groups (2)');
    expect(() => new Conv2d(1, 1, 3, { stride: 2, padding: 'same' })).toThrow("Conv2d: padding='same' is not supported for strided convolutions");
    expect(() => new Conv2d(1, 1, [3, 0])).toThrow('Conv2d: kernel_size must be an integer or 2 integers >= 1, got [3,0]');
  });
});

describe('pooling', () => {
  const x = randn([2, 3, 5, 6], { generator: new Generator(11) });
  const xv = vals(x);
  const xi = at([2, 3, 5, 6]);

  /** Windows of size k, stride s, padding p over 5x6 planes; `f` reduces the in-bounds values. */
  function pool(k: number, s: number, p: number, f: (v: number[]) => number): number[] {
    const OH = Math.floor((5 + 2 * p - k) / s) + 1;
    const OW = Math.floor((6 + 2 * p - k) / s) + 1;
    const out: number[] = [];
    for (let n = 0; n < 2; n++)
      for (let c = 0; c < 3; c++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++) {
            const win: number[] = [];
            for (let i = 0; i < k; i++)
              for (let j = 0; j < k; j++) {
                const h = oh * s - p + i;
                const w = ow * s - p + j;
                if (h >= 0 && h < 5 && w >= 0 && w < 6) win.push(xv[xi(n, c, h, w)]!);
              }
            out.push(f(win));
          }
    return out;
  }

  it('MaxPool2d takes the window maximum (stride defaults to the kernel)', () => {
    expect(new MaxPool2d(2).call(x).shape).toEqual([2, 3, 2, 3]);
    expectClose(vals(new MaxPool2d(2).call(x)), pool(2, 2, 0, (v) => Math.max(...v)));
    expectClose(vals(new MaxPool2d(3, { stride: 2, padding: 1 }).call(x)), pool(3, 2, 1, (v) => Math.max(...v)));
  });

  it('AvgPool2d divides by the kernel area, padding included by default', () => {
    const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
    expectClose(vals(new AvgPool2d(2).call(x)), pool(2, 2, 0, (v) => sum(v) / 4));
    expectClose(vals(new AvgPool2d(3, { stride: 2, padding: 1 }).call(x)), pool(3, 2, 1, (v) => sum(v) / 9));
    expectClose(vals(new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }).call(x)), pool(3, 2, 1, (v) => sum(v) / v.length));
  });

  it('AdaptiveAvgPool2d averages rows floor(i*H/o) .. ceil((i+1)*H/o)', () => {
    const [OH, OW] = [2, 4];
    const want: number[] = [];
    for (let n = 0; n < 2; n++)
      for (let c = 0; c < 3; c++)
        for (let i = 0; i < OH; i++)
          for (let j = 0; j < OW; j++) {
            const win: number[] = [];
            for (let h = Math.floor((i * 5) / OH); h < Math.ceil(((i + 1) * 5) / OH); h++)
              for (let w = Math.floor((j * 6) / OW); w < Math.ceil(((j + 1) * 6) / OW); w++) win.push(xv[xi(n, c, h, w)]!);
            want.push(mean(win));
          }
    expectClose(vals(new AdaptiveAvgPool2d([OH, OW]).call(x)), want);
    expect(new AdaptiveAvgPool2d(1).call(x).shape).toEqual([2, 3, 1, 1]);
  });
});

describe('BatchNorm', () => {
  /** Per-channel values of x [N, C, ...rest]. */
  function channels(x: Tensor): number[][] {
    const [N, C] = x.shape as [number, number];
    const inner = x.numel() / (N * C);
    const v = vals(x);
    return Array.from({ length: C }, (_, c) => Array.from({ length: N * inner }, (_, k) => v[(Math.floor(k / inner) * C + c) * inner + (k % inner)]!));
  }

  it('training: normalizes with batch stats and updates the running stats in place (unbiased var)', () => {
    const bn = new BatchNorm2d(3);
    expect(vals(bn.weight!)).toEqual([1, 1, 1]);
    expect(vals(bn.bias!)).toEqual([0, 0, 0]);
    const rm = bn.runningMean!;
    const g = new Generator(3);
    const x1 = randn([4, 3, 2, 2], { generator: g }).mul(2).add(1);
    const x2 = randn([4, 3, 2, 2], { generator: g }).sub(0.5);
    setAffine(bn, [0.5, 2, -1], [0.1, 0, 0.2]);
    const y = bn.call(x1);
    // y = (x - mean) / sqrt(biased var + eps) * w + b
    const ch = channels(x1);
    const yc = channels(y);
    ch.forEach((xs, c) => {
      const m = mean(xs);
      const v = variance(xs, 0);
      expectClose(yc[c]!, xs.map((x) => ((x - m) / Math.sqrt(v + 1e-5)) * [0.5, 2, -1][c]! + [0.1, 0, 0.2][c]!), 1e-4);
    });
    const m1 = ch.map((xs) => mean(xs));
    const v1 = ch.map((xs) => variance(xs, 1));
    expect(bn.runningMean).toBe(rm);
    expectClose(vals(bn.runningMean!), m1.map((m) => 0.1 * m));
    expectClose(vals(bn.runningVar!), v1.map((v) => 0.9 + 0.1 * v));
    expect(bn.numBatchesTracked!.item()).toBe(1);
    bn.call(x2);
    const ch2 = channels(x2);
    expectClose(vals(bn.runningMean!), m1.map((m, c) => 0.9 * 0.1 * m + 0.1 * mean(ch2[c]!)));
    expectClose(vals(bn.runningVar!), v1.map((v, c) => 0.9 * (0.9 + 0.1 * v) + 0.1 * variance(ch2[c]!, 1)));
    expect(bn.numBatchesTracked!.item()).toBe(2);
    expect(bn.runningMean!.requiresGrad).toBe(false);
  });

  it('eval: normalizes with the running stats and leaves them alone', () => {
    const bn = new BatchNorm1d(2);
    bn.loadStateDict({ ...bn.stateDict(), running_mean: tensor([1, -2]), running_var: tensor([4, 0.25]) });
    bn.eval();
    const x = tensor([[3, -2], [1, 0]]);
    const y = bn.call(x);
    expectClose(vals(y), [2 / Math.sqrt(4 + 1e-5), 0, 0, 2 / Math.sqrt(0.25 + 1e-5)]);
    expect(vals(bn.runningMean!)).toEqual([1, -2]);
    expect(bn.numBatchesTracked!.item()).toBe(0);
  });

  it('momentum null keeps a cumulative average; no tracking uses batch stats always', () => {
    const bn = new BatchNorm1d(1, { momentum: null });
    bn.call(tensor([[1], [3]]));
    bn.call(tensor([[5], [9]]));
    expectClose(vals(bn.runningMean!), [(2 + 7) / 2]);
    expectClose(vals(bn.runningVar!), [(2 + 8) / 2]);
    const free = new BatchNorm1d(2, { trackRunningStats: false, affine: false });
    expect(free.runningMean).toBeNull();
    expect(free.parameters()).toEqual([]);
    expect(Object.keys(free.stateDict())).toEqual([]);
    free.eval();
    expectClose(vals(free.call(tensor([[1, 0], [3, 4]]))), [-1, -1, 1, 1], 1e-4);
  });

  it('BatchNorm1d takes [N, C, L]; gradients reach weight and bias', () => {
    const bn = new BatchNorm1d(3);
    const x = randn([4, 3, 5], { generator: new Generator(1) });
    const y = bn.call(x);
    expect(y.shape).toEqual([4, 3, 5]);
    y.mul(x).sum().backward();
    expect(bn.weight!.grad!.shape).toEqual([3]);
    expectClose(vals(bn.bias!.grad!), channels(x).map((xs) => xs.reduce((a, b) => a + b, 0)), 1e-4);
    expect(() => bn.call(zeros([2, 3, 4, 4]))).toThrow('BatchNorm1d: expected 2D or 3D input (got 4D input f32[2,3,4,4])');
    expect(() => new BatchNorm2d(3).call(zeros([2, 3]))).toThrow(ShapeError);
  });
});

function setAffine(bn: BatchNorm2d, w: number[], b: number[]): void {
  bn.loadStateDict({ ...bn.stateDict(), weight: tensor(w), bias: tensor(b) });
}

describe('LayerNorm, Dropout, Embedding, shapes', () => {
  it('LayerNorm normalizes the trailing dims with the biased variance', () => {
    const ln = new LayerNorm([2, 2]);
    expect(ln.weight!.shape).toEqual([2, 2]);
    ln.loadStateDict({ weight: tensor([[1, 2], [3, 4]]), bias: tensor([[0, 0], [0, 1]]) });
    const x = tensor([[[1, 2], [3, 4]], [[0, 0], [0, 8]]]);
    const want: number[] = [];
    for (const row of [[1, 2, 3, 4], [0, 0, 0, 8]]) {
      const m = mean(row);
      const v = variance(row, 0);
      row.forEach((r, i) => want.push(((r - m) / Math.sqrt(v + 1e-5)) * [1, 2, 3, 4][i]! + [0, 0, 0, 1][i]!));
    }
    expectClose(vals(ln.call(x)), want, 1e-4);
    expect(new LayerNorm(4, { elementwiseAffine: false }).parameters()).toEqual([]);
    expect(new LayerNorm(4, { bias: false }).namedParameters().map(([n]) => n)).toEqual(['weight']);
  });

  it('Dropout zeroes about p of the elements and scales the rest while training; identity in eval', () => {
    manualSeed(0);
    const drop = new Dropout(0.25);
    const x = ones([100, 100]);
    const y = vals(drop.call(x));
    expect(y.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6)).toBe(true);
    expect(y.filter((v) => v === 0).length / y.length).toBeCloseTo(0.25, 1);
    drop.eval();
    expect(drop.call(x)).toBe(x);
    expect(new Dropout(0).train().call(x)).toBe(x);
    expect(() => new Dropout(1.5)).toThrow('Dropout: dropout probability has to be between 0 and 1, but got 1.5');
  });

  it('Embedding picks rows of an N(0, 1) table', () => {
    manualSeed(9);
    const emb = new Embedding(1000, 8);
    const w = vals(emb.weight);
    expect(Math.abs(mean(w))).toBeLessThan(0.05);
    expect(Math.sqrt(variance(w, 1))).toBeCloseTo(1, 1);
    const y = emb.call(tensor([[3, 0], [999, 3]], { dtype: 'i32' }));
    expect(y.shape).toEqual([2, 2, 8]);
    const yv = vals(y);
    [3, 0, 999, 3].forEach((r, k) => expect(yv.slice(k * 8, k * 8 + 8)).toEqual(w.slice(r * 8, r * 8 + 8)));
  });

  it('Flatten, Unflatten and Identity reshape (or not)', () => {
    expect(new Flatten().call(zeros([2, 3, 4, 5])).shape).toEqual([2, 60]);
    expect(new Flatten(0, 2).call(zeros([2, 3, 4, 5])).shape).toEqual([24, 5]);
    expect(new Unflatten(1, [1, 8, 8]).call(zeros([3, 64])).shape).toEqual([3, 1, 8, 8]);
    expect(new Unflatten(-1, [-1, 2]).call(zeros([3, 4])).shape).toEqual([3, 2, 2]);
    const x = zeros([2]);
    expect(new Identity().call(x)).toBe(x);
  });
});

describe('activations', () => {
  const xs = [-3, -1.5, -0.2, 0.3, 1, 2.5];
  const x = tensor(xs);
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const cases: [string, Tensor, (v: number) => number][] = [
    ['ReLU', new ReLU().call(x), (v) => Math.max(v, 0)],
    ['Tanh', new Tanh().call(x), Math.tanh],
    ['Sigmoid', new Sigmoid().call(x), sig],
    ['GELU', new GELU().call(x), (v) => 0.5 * v * (1 + erf(v / Math.SQRT2))],
    ['GELU tanh', new GELU({ approximate: 'tanh' }).call(x), (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))],
    ['SiLU', new SiLU().call(x), (v) => v * sig(v)],
    ['LeakyReLU', new LeakyReLU(0.2).call(x), (v) => (v > 0 ? v : 0.2 * v)],
    ['ELU', new ELU(0.5).call(x), (v) => (v > 0 ? v : 0.5 * Math.expm1(v))],
    ['Softplus', new Softplus(2, 4).call(x), (v) => (2 * v > 4 ? v : Math.log1p(Math.exp(2 * v)) / 2)],
  ];
  for (const [name, y, f] of cases) {
    it(`${name} matches its formula`, () => expectClose(vals(y), xs.map(f), 1e-5));
  }

  it('Softmax and LogSoftmax work along dim', () => {
    const z = tensor([[1, 2, 3], [0, -1, 5]]);
    const rows = [[1, 2, 3], [0, -1, 5]];
    const sm = rows.flatMap((r) => r.map((v) => Math.exp(v) / r.reduce((a, b) => a + Math.exp(b), 0)));
    expectClose(vals(new Softmax(1).call(z)), sm);
    expectClose(vals(new LogSoftmax(-1).call(z)), sm.map(Math.log));
    const cols = vals(new Softmax(0).call(z));
    expectClose([cols[0]! + cols[3]!, cols[1]! + cols[4]!], [1, 1]);
  });
});

describe('losses', () => {
  const logits = [[2, -1, 0.5], [0.1, 0.2, 3], [-1, 1, 0]];
  const target = [0, 2, 1];
  const logp = logits.map((r) => {
    const lse = Math.log(r.reduce((a, b) => a + Math.exp(b), 0));
    return r.map((v) => v - lse);
  });
  const L = tensor(logits);
  const T = tensor(target, { dtype: 'i32' });

  it('CrossEntropyLoss: mean of -log p[target], with label smoothing and reductions', () => {
    const per = logp.map((r, i) => -r[target[i]!]!);
    expectClose(vals(new CrossEntropyLoss().call(L, T)), [mean(per)]);
    expectClose(vals(new CrossEntropyLoss({ reduction: 'sum' }).call(L, T)), [per.reduce((a, b) => a + b)]);
    expectClose(vals(new CrossEntropyLoss({ reduction: 'none' }).call(L, T)), per);
    const s = 0.1;
    const smooth = logp.map((r, i) => (1 - s) * -r[target[i]!]! + (s / 3) * -r.reduce((a, b) => a + b, 0));
    expectClose(vals(new CrossEntropyLoss({ labelSmoothing: s }).call(L, T)), [mean(smooth)]);
    const ign = new CrossEntropyLoss({ ignoreIndex: 2 }).call(L, T);
    expectClose(vals(ign), [(per[0]! + per[2]!) / 2]);
    expect(() => new CrossEntropyLoss({ labelSmoothing: 2 })).toThrow('CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, got 2');
  });

  it('NLLLoss picks -input[n, target[n]]', () => {
    expectClose(vals(new NLLLoss().call(new LogSoftmax(1).call(L), T)), [mean(logp.map((r, i) => -r[target[i]!]!))]);
  });

  const a = [0.2, -1, 3, 0.5];
  const b = [0, 1, 2.2, 0.45];
  const A = tensor(a);
  const B = tensor(b);
  const d = a.map((v, i) => v - b[i]!);

  it('MSELoss, L1Loss and SmoothL1Loss match their formulas', () => {
    expectClose(vals(new MSELoss().call(A, B)), [mean(d.map((v) => v * v))]);
    expectClose(vals(new L1Loss({ reduction: 'sum' }).call(A, B)), [d.reduce((s, v) => s + Math.abs(v), 0)]);
    const beta = 0.5;
    const huber = d.map((v) => (Math.abs(v) < beta ? (0.5 * v * v) / beta : Math.abs(v) - 0.5 * beta));
    expectClose(vals(new SmoothL1Loss({ beta, reduction: 'none' }).call(A, B)), huber);
    expect(() => new MSELoss({ reduction: 'avg' as 'mean' })).toThrow(`MSELoss: reduction must be 'none', 'mean' or 'sum', got "avg"`);
  });

  it('BCELoss and BCEWithLogitsLoss agree with -(t log p + (1-t) log(1-p))', () => {
    const z = [-2, 0.3, 1.5, 4];
    const t = [0, 1, 1, 0.25];
    const p = z.map((v) => 1 / (1 + Math.exp(-v)));
    const bce = p.map((pv, i) => -(t[i]! * Math.log(pv) + (1 - t[i]!) * Math.log(1 - pv)));
    expectClose(vals(new BCELoss().call(tensor(p), tensor(t))), [mean(bce)]);
    expectClose(vals(new BCEWithLogitsLoss({ reduction: 'none' }).call(tensor(z), tensor(t))), bce, 1e-5);
  });
});

describe('init', () => {
  it('computes gains and fans like torch.nn.init', () => {
    expect(calculateGain('linear')).toBe(1);
    expect(calculateGain('conv2d')).toBe(1);
    expect(calculateGain('sigmoid')).toBe(1);
    expect(calculateGain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(calculateGain('relu')).toBeCloseTo(Math.SQRT2, 12);
    expect(calculateGain('leaky_relu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.01 ** 2)), 12);
    expect(calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(calculateGain('selu')).toBe(0.75);
    expect(() => calculateGain('swish' as 'relu')).toThrow('calculateGain: unsupported nonlinearity "swish"');
    expect(calculateFanInAndFanOut(zeros([4, 2, 3, 3]))).toEqual([18, 36]);
    expect(calculateFanInAndFanOut(zeros([10, 5]))).toEqual([5, 10]);
    expect(() => calculateFanInAndFanOut(zeros([5]))).toThrow(
      'calculateFanInAndFanOut: fan in and fan out can not be computed for tensor with fewer than 2 dimensions, got f32[5]',
    );
  });

  it('fills uniform and normal distributions with the right bounds and spread', () => {
    const g = new Generator(5);
    const w = zeros([200, 100]);
    const absMax = (t: Tensor) => Math.max(...vals(t).map(Math.abs));
    kaimingUniform_(w, { nonlinearity: 'relu', generator: g });
    const kb = Math.SQRT2 * Math.sqrt(3 / 100);
    expect(absMax(w)).toBeLessThanOrEqual(kb);
    expect(absMax(w)).toBeGreaterThan(0.99 * kb);
    kaimingUniform_(w, { mode: 'fan_out', nonlinearity: 'relu', generator: g });
    expect(absMax(w)).toBeLessThanOrEqual(Math.SQRT2 * Math.sqrt(3 / 200));
    kaimingNormal_(w, { nonlinearity: 'relu', generator: g });
    expect(Math.sqrt(variance(vals(w), 1))).toBeCloseTo(Math.SQRT2 / Math.sqrt(100), 2);
    xavierUniform_(w, 2, { generator: g });
    const xb = 2 * Math.sqrt(6 / 300);
    expect(absMax(w)).toBeLessThanOrEqual(xb);
    expect(absMax(w)).toBeGreaterThan(0.99 * xb);
    xavierNormal_(w, 1, { generator: g });
    expect(Math.sqrt(variance(vals(w), 1))).toBeCloseTo(Math.sqrt(2 / 300), 2);
    uniform_(w, 2, 3, { generator: g });
    expect(vals(w).every((v) => v >= 2 && v < 3)).toBe(true);
    normal_(w, 5, 0.5, { generator: g });
    expect(mean(vals(w))).toBeCloseTo(5, 1);
  });

  it('is reproducible from a generator, in place, without history', () => {
    const p = zeros([3, 4], { requiresGrad: true });
    const v0 = p.version;
    init.uniform_(p, -1, 1, { generator: new Generator(42) });
    expect(p.version).toBeGreaterThan(v0);
    expect(p.isLeaf && p.requiresGrad).toBe(true);
    const q = zeros([3, 4]);
    uniform_(q, -1, 1, { generator: new Generator(42) });
    expect(vals(p)).toEqual(vals(q));
    zeros_(p);
    expect(vals(p)).toEqual(new Array(12).fill(0));
    ones_(p);
    expect(vals(p)).toEqual(new Array(12).fill(1));
    constant_(p, 0.5);
    expect(vals(p)).toEqual(new Array(12).fill(0.5));
    expect(() => normal_(p, 0, -1)).toThrow(ArgumentError);
  });
});

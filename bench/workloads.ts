/**
 * W1–W6 of ../shared/bench/WORKLOADS.md written with kiln's API: the same shapes, op sequences,
 * data (bench/data.ts, the peers' seeded generator) and hyper-parameters as the peers'
 * tfjs.mjs / jaxjs.mjs / torch_bench.py. Each workload comes in two variants:
 *
 * - `__eager`: op by op through the eager Tensor facade (training: `backward()`, then the SGD
 *   update in place under `noGrad`: `p.sub_(p.grad.mul(lr)); p.grad = null`);
 * - `__compiled`: one `jit`-compiled function (training: `valueAndGrad` of the loss and the SGD
 *   update in one graph; the returned parameters feed the next call).
 *
 * Every step forces its computation, as the peers do: W1/W2 realize the output, W3/W4 realize
 * the updated parameters (and the compiled step's loss), W5 reads the logits back into a JS
 * typed array, W6 reads back both the value and the gradient. Results that are dead are
 * disposed, as the JS peers dispose theirs (tfjs `dispose`/`tidy`, jax-js `dispose`).
 *
 * The factories take smaller sizes for the unit tests; the defaults are the contract's sizes.
 */
import { F, fromStorage, jit, noGrad, realizeAll, type Tensor, valueAndGrad } from '../src/index.js';
import { hwcRowsToChw, hwioToOihw, randLabels, randn } from './data.js';

export type Variant = 'eager' | 'compiled';
export const VARIANTS: readonly Variant[] = ['eager', 'compiled'];

/** SGD learning rate of W3/W4. */
export const LR = 0.01;

const f32 = (data: Float32Array, shape: number[], requiresGrad = false): Tensor => fromStorage(data, shape, { requiresGrad });
const i32 = (data: Int32Array): Tensor => fromStorage(data, [data.length], { dtype: 'i32' });

// ---- W1 -------------------------------------------------------------------------------------

export interface MatmulW1 {
  a: Tensor;
  b: Tensor;
  /** C = A·B, a fresh output each call, realized. */
  step(): Tensor;
}

/** W1: A = randn(n², seed 1), B = randn(n², seed 2), C = A·B. */
export function matmulW1(n: number, variant: Variant): MatmulW1 {
  const a = f32(randn(n * n, 1), [n, n]);
  const b = f32(randn(n * n, 2), [n, n]);
  if (variant === 'eager') return { a, b, step: () => a.matmul(b).realize() };
  const mm = jit(function matmul(x: Tensor, y: Tensor): Tensor {
    return x.matmul(y);
  });
  return { a, b, step: () => mm(a, b).realize() };
}

// ---- W2 -------------------------------------------------------------------------------------

export const GELU_A = 0.5;
export const GELU_B = 0.1;
export const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** The 11 primitive ops every peer runs: `z=x*a+b; u=z*z*z*0.044715; inner=(z+u)*sqrt(2/pi); y=(z*0.5)*(tanh(inner)+1)`. */
export function geluChain(x: Tensor): Tensor {
  const z = x.mul(GELU_A).add(GELU_B); // 2 ops
  const u = z.mul(z).mul(z).mul(0.044715); // 3 ops
  const inner = z.add(u).mul(SQRT_2_OVER_PI); // 2 ops
  return z.mul(0.5).mul(inner.tanh().add(1)); // 4 ops
}

export interface GeluW2 {
  x: Tensor;
  step(): Tensor;
}

/** W2: x = randn(n, seed 3), y = geluChain(x), realized. */
export function geluW2(n: number, variant: Variant): GeluW2 {
  const x = f32(randn(n, 3), [n]);
  if (variant === 'eager') return { x, step: () => geluChain(x).realize() };
  const g = jit(geluChain);
  return { x, step: () => g(x).realize() };
}

// ---- the MLP of W3 / W5 -----------------------------------------------------------------------

/** The W3/W5 MLP's parameters as in tfjs.mjs: w ~ randn(seed, seed+1, seed+2) · sqrt(2/fanIn), zero biases. */
export function mlpParamData(seed: number): { data: Float32Array; shape: number[] }[] {
  const w = (i: number, o: number, s: number) => ({ data: randn(i * o, s, Math.sqrt(2 / i)), shape: [i, o] });
  const z = (n: number) => ({ data: new Float32Array(n), shape: [n] });
  return [w(784, 256, seed), z(256), w(256, 128, seed + 1), z(128), w(128, 10, seed + 2), z(10)];
}

/** 784-256-128-10 with ReLU: logits. `p` = [w1, b1, w2, b2, w3, b3]. */
export function mlp(p: readonly Tensor[], x: Tensor): Tensor {
  const [w1, b1, w2, b2, w3, b3] = p as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const h1 = x.matmul(w1).add(b1).relu();
  const h2 = h1.matmul(w2).add(b2).relu();
  return h2.matmul(w3).add(b3);
}

// ---- training steps (W3, W4) ---------------------------------------------------------------

export interface TrainStep {
  /** One forward + backward + SGD update; the new parameters are computed before it returns. */
  step(): void;
  /** The current parameters. */
  params(): Tensor[];
  /** The loss at the current parameters (computed on its own, outside the timed step). */
  loss(): number;
}

type Model = (p: readonly Tensor[], x: Tensor) => Tensor;

/**
 * A training step of `model` with softmax cross-entropy (mean over the batch, class-index
 * targets) and SGD. Eager: autograd + in-place update; compiled: one jitted graph.
 */
function trainStep(model: Model, init: { data: Float32Array; shape: number[] }[], x: Tensor, y: Tensor, variant: Variant): TrainStep {
  const nP = init.length;
  const lossOf = (p: readonly Tensor[]) => F.crossEntropy(model(p, x), y);
  const loss = (p: readonly Tensor[]) => noGrad(() => lossOf(p).item() as number);
  if (variant === 'eager') {
    const p = init.map(({ data, shape }) => f32(data, shape, true));
    return {
      step: () => {
        lossOf(p).backward();
        noGrad(() => {
          for (const w of p) {
            w.sub_(w.grad!.mul(LR));
            w.grad = null;
          }
        });
        realizeAll(p);
      },
      params: () => p,
      loss: () => loss(p),
    };
  }
  const argnums = init.map((_, i) => i);
  // (params..., x, y) -> [loss, ...updated params]
  const lossFn = (...a: Tensor[]): Tensor => F.crossEntropy(model(a.slice(0, nP), a[nP]!), a[nP + 1]!);
  const sgdStep = jit(function sgdStep(...a: Tensor[]): Tensor[] {
    const [l, grads] = valueAndGrad(lossFn, argnums)(...a);
    return [l, ...a.slice(0, nP).map((w, i) => w.sub(grads[i]!.mul(LR)))];
  });
  let p = init.map(({ data, shape }) => f32(data, shape));
  return {
    step: () => {
      const [l, ...next] = sgdStep(...p, x, y);
      realizeAll(next); // a no-op today: jit's outputs are computed when it returns
      // The old parameters and the loss are dead: free them as the JS peers do (tf.tidy).
      l!.dispose();
      for (const t of p) t.dispose();
      p = next;
    },
    params: () => p,
    loss: () => loss(p),
  };
}

/** W3: MLP 784-256-128-10, batch 128 (x = randn(seed 4), labels = randLabels(seed 99)), params seed 10. */
export function mlpTrainW3(variant: Variant, opts: { batch?: number } = {}): TrainStep {
  const batch = opts.batch ?? 128;
  const x = f32(randn(batch * 784, 4), [batch, 784]);
  const y = i32(randLabels(batch));
  return trainStep(mlp, mlpParamData(10), x, y, variant);
}

/** The W4 CNN's parameters: tfjs.mjs's numbers (seeds 20, 21, 22), reordered to OIHW / NCHW-flatten rows. */
export function cnnParamData(): { data: Float32Array; shape: number[] }[] {
  return [
    { data: hwioToOihw(randn(9 * 8, 20, Math.sqrt(2 / 9)), 3, 3, 1, 8), shape: [8, 1, 3, 3] },
    { data: new Float32Array(8), shape: [8] },
    { data: hwioToOihw(randn(9 * 8 * 16, 21, Math.sqrt(2 / 72)), 3, 3, 8, 16), shape: [16, 8, 3, 3] },
    { data: new Float32Array(16), shape: [16] },
    { data: hwcRowsToChw(randn(784 * 10, 22, Math.sqrt(1 / 784)), 7, 7, 16, 10), shape: [784, 10] },
    { data: new Float32Array(10), shape: [10] },
  ];
}

/** conv3×3 1→8 (pad 1) + ReLU + maxpool2, conv3×3 8→16 (pad 1) + ReLU + maxpool2, flatten 784, linear → 10. NCHW. */
export function cnn(p: readonly Tensor[], x: Tensor): Tensor {
  const [k1, c1, k2, c2, w, b] = p as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  let h = F.maxPool2d(F.conv2d(x, k1, c1, 1, 1).relu(), 2); // N×8×14×14
  h = F.maxPool2d(F.conv2d(h, k2, c2, 1, 1).relu(), 2); // N×16×7×7
  return h.reshape(x.shape[0]!, 784).matmul(w).add(b);
}

/** W4: CNN, batch 32 (x = randn(seed 5) as N×1×28×28, labels = randLabels(seed 7)). */
export function cnnTrainW4(variant: Variant, opts: { batch?: number } = {}): TrainStep {
  const batch = opts.batch ?? 32;
  const x = f32(randn(batch * 28 * 28, 5), [batch, 1, 28, 28]);
  const y = i32(randLabels(batch, 10, 7));
  return trainStep(cnn, cnnParamData(), x, y, variant);
}

// ---- W5 -------------------------------------------------------------------------------------

export interface InferW5 {
  /** The logits, read back to a JS typed array. */
  step(): Float32Array;
}

/** W5: the MLP with params seed 30, forward only on x = randn(batch·784, seed 6); logits read back. */
export function mlpInferW5(batch: number, variant: Variant): InferW5 {
  const p = mlpParamData(30).map(({ data, shape }) => f32(data, shape));
  const x = f32(randn(batch * 784, 6), [batch, 784]);
  if (variant === 'eager') return { step: () => mlp(p, x).data() as Float32Array };
  const fwd = jit(function mlpForward(...a: Tensor[]): Tensor {
    return mlp(a.slice(0, 6), a[6]!);
  });
  return {
    step: () => {
      const out = fwd(...p, x);
      const logits = out.data() as Float32Array;
      out.dispose();
      return logits;
    },
  };
}

// ---- W6 -------------------------------------------------------------------------------------

/** `y = x; repeat pairs times: y = y*1.0001 + 0.0001` (2 ops per repeat). */
export function scalarChain(x: Tensor, pairs = 500): Tensor {
  let y = x;
  for (let i = 0; i < pairs; i++) y = y.mul(1.0001).add(0.0001);
  return y;
}

export interface ScalarW6 {
  /** Forward + dy/dx0; returns [y, dy/dx0] read back. */
  step(): [number, number];
}

/** W6: 1000 scalar ops on a 1-element tensor x0 = [1], then dy/dx0; value and gradient read back. */
export function scalarW6(variant: Variant, opts: { pairs?: number } = {}): ScalarW6 {
  const pairs = opts.pairs ?? 500;
  if (variant === 'eager') {
    const x0 = f32(Float32Array.of(1), [1], true);
    return {
      step: () => {
        const y = scalarChain(x0, pairs);
        const v = y.item() as number;
        y.backward();
        const g = x0.grad!.item() as number;
        x0.grad = null;
        return [v, g];
      },
    };
  }
  const x0 = f32(Float32Array.of(1), [1]);
  const chain = (x: Tensor) => scalarChain(x, pairs);
  const vg = jit(function scalarValueAndGrad(x: Tensor): Tensor[] {
    const [v, [g]] = valueAndGrad(chain)(x);
    return [v, g!];
  });
  return {
    step: () => {
      const [v, g] = vg(x0);
      const r: [number, number] = [v!.item() as number, g!.item() as number];
      v!.dispose();
      g!.dispose();
      return r;
    },
  };
}

// ---- the suite --------------------------------------------------------------------------------

export interface Prepared {
  /** The timed iteration (forces its computation). */
  step(): unknown;
  /** Diagnostics for stderr after timing (loss before/after, values vs closed form). */
  report(): string;
}

export interface Workload {
  /** The full id, e.g. `W3_mlp_train_b128__compiled`. */
  id: string;
  variant: Variant;
  setup(): Prepared;
}

const fmt = (v: number, d = 6) => v.toFixed(d);

function w1(n: number, variant: Variant): Prepared {
  const w = matmulW1(n, variant);
  let c: Tensor | null = null;
  return {
    // NOTE: the previous result is disposed, as the JS peers do (`tf.matMul(a, b).dispose()`).
    step: () => {
      c?.dispose();
      return (c = w.step());
    },
    report: () => {
      if (!c) return '';
      // C[n-1][0] against a float64 dot product
      const a = w.a.data();
      const b = w.b.data();
      let ref = 0;
      for (let k = 0; k < n; k++) ref += a[(n - 1) * n + k]! * b[k * n]!;
      const got = c.data()[(n - 1) * n]!;
      return `C[${n - 1}][0] ${fmt(got)} (float64 ${fmt(ref)})`;
    },
  };
}

function w2(variant: Variant): Prepared {
  const w = geluW2(1e6, variant);
  let y: Tensor | null = null;
  return {
    step: () => {
      y?.dispose();
      return (y = w.step());
    },
    report: () => {
      if (!y) return '';
      const xs = w.x.data();
      const ys = y.data();
      let maxd = 0;
      for (let i = 0; i < xs.length; i++) {
        const z = xs[i]! * GELU_A + GELU_B;
        const r = 0.5 * z * (1 + Math.tanh(SQRT_2_OVER_PI * (z + 0.044715 * z * z * z)));
        maxd = Math.max(maxd, Math.abs(ys[i]! - r));
      }
      return `max abs diff vs closed form ${maxd.toExponential(2)}`;
    },
  };
}

function train(make: () => TrainStep): Prepared {
  const t = make();
  const before = t.loss();
  return { step: () => t.step(), report: () => `loss before ${fmt(before, 4)} after ${fmt(t.loss(), 4)}` };
}

function w5(batch: number, variant: Variant): Prepared {
  const w = mlpInferW5(batch, variant);
  let out: Float32Array | null = null;
  return {
    step: () => (out = w.step()),
    report: () => (out ? `logits[0..3] ${Array.from(out.slice(0, 4), (v) => fmt(v)).join(' ')}` : ''),
  };
}

function w6(variant: Variant): Prepared {
  const w = scalarW6(variant);
  let vals: [number, number] | null = null;
  return {
    step: () => (vals = w.step()),
    report: () => (vals ? `y ${vals[0]} grad ${vals[1]} (float64: y ${2 * 1.0001 ** 500 - 1}, grad ${1.0001 ** 500})` : ''),
  };
}

/** Every workload, in the peers' order; each base id in both variants. */
export function suite(): Workload[] {
  const bases: [string, (v: Variant) => Prepared][] = [
    ['W1_matmul_256', (v) => w1(256, v)],
    ['W1_matmul_1024', (v) => w1(1024, v)],
    ['W2_gelu_1e6', (v) => w2(v)],
    ['W3_mlp_train_b128', (v) => train(() => mlpTrainW3(v))],
    ['W4_cnn_train_b32', (v) => train(() => cnnTrainW4(v))],
    ['W5_mlp_infer_b1', (v) => w5(1, v)],
    ['W5_mlp_infer_b256', (v) => w5(256, v)],
    ['W6_scalar_1000ops_fwd_bwd', (v) => w6(v)],
  ];
  return bases.flatMap(([base, make]) => VARIANTS.map((variant) => ({ id: `${base}__${variant}`, variant, setup: () => make(variant) })));
}

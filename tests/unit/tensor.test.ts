import { describe, expect, it } from 'vitest';
import {
  arange,
  ArgumentError,
  eye,
  full,
  fullLike,
  Generator,
  grad,
  jvp,
  linspace,
  manualSeed,
  ones,
  onesLike,
  rand,
  randn,
  tensor,
  valueAndGrad,
  vjp,
  zeros,
  zerosLike,
} from '../../src/index.js';
import * as kiln from '../../src/index.js';
import { runtime } from '../../src/index.js';

describe('factories', () => {
  it('makes constant tensors', () => {
    expect(zeros([2, 2]).toArray()).toEqual([[0, 0], [0, 0]]);
    expect(ones([3]).toArray()).toEqual([1, 1, 1]);
    expect(full([2], 7, { dtype: 'i32' }).toArray()).toEqual([7, 7]);
    expect(full([2], 7, { dtype: 'i32' }).dtype).toBe('i32');
    expect(eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    const x = tensor([[1, 2]], { dtype: 'i32' });
    expect(zerosLike(x).dtype).toBe('i32');
    expect(onesLike(x).toArray()).toEqual([[1, 1]]);
    expect(fullLike(x, 3).toArray()).toEqual([[3, 3]]);
  });

  it('makes ranges', () => {
    expect(arange(4).toArray()).toEqual([0, 1, 2, 3]);
    expect(arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(() => arange(0, 1, 0)).toThrow('arange: step must be nonzero');
  });

  it('infers dtype and shape from nested arrays and rejects ragged ones', () => {
    expect(tensor([[true, false]]).dtype).toBe('bool');
    expect(tensor([[1, 2], [3, 4]]).shape).toEqual([2, 2]);
    expect(() => tensor([[1, 2], [3]])).toThrow(ArgumentError);
  });

  it('draws reproducible random numbers from a seed', () => {
    manualSeed(42);
    const a = rand([5]).toArray();
    manualSeed(42);
    expect(rand([5]).toArray()).toEqual(a);
    const g = new Generator(1);
    const n = randn([4000], { generator: g });
    const mean = n.mean().item() as number;
    const std = n.std().item() as number;
    expect(Math.abs(mean)).toBeLessThan(0.06);
    expect(Math.abs(std - 1)).toBeLessThan(0.05);
    const u = rand([1000], { generator: g }).toArray() as number[];
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
  });
});

describe('reading values and printing', () => {
  it('reads items and arrays', () => {
    expect(tensor([2.5]).item()).toBe(2.5);
    expect(() => tensor([1, 2]).item()).toThrow('item: a tensor with 2 elements cannot be converted to a number (f32[2])');
    expect(tensor([1, 2]).sum().toArray()).toBe(3);
  });

  it('prints like PyTorch', () => {
    expect(String(tensor([[1, 2]]))).toBe('tensor([[1., 2.]])');
    expect(String(tensor([1.5, 2], { requiresGrad: true }))).toBe('tensor([1.5000, 2.0000], requires_grad=True)');
    const x = tensor([[1, 2]], { requiresGrad: true });
    expect(String(x.mul(2))).toBe('tensor([[2., 4.]], grad_fn=<MulBackward>)');
    expect(String(tensor([1, 20], { dtype: 'i32' }))).toBe('tensor([ 1, 20])');
    expect(String(tensor([true, false]))).toBe('tensor([ True, False])');
    expect(String(tensor([[1, 2], [3, 4]]))).toBe('tensor([[1., 2.],\n        [3., 4.]])');
    expect(String(tensor([1]).sum())).toBe('tensor(1.)');
    expect(String(tensor([1e-5, 1]))).toBe('tensor([1.0000e-05, 1.0000e+00])');
  });
});

describe('the op vocabulary as functions', () => {
  it('exposes free functions beside the methods', () => {
    const x = tensor([[1, 2], [3, 4]]);
    expect(kiln.softmax(x, -1).toArray()).toEqual(x.softmax(-1).toArray());
    expect(kiln.var(x, null, { correction: 0 }).item()).toBe(1.25);
    expect(kiln.cat([x, x], 1).shape).toEqual([2, 4]);
  });

  it('runs the suite with graph verification on', () => {
    expect(runtime.debug.verify).toBe(true);
  });
});

describe('functional transforms (trace → IR transform → run)', () => {
  const f = (w: import('../../src/index.js').Tensor, x: import('../../src/index.js').Tensor) => x.matmul(w).tanh().sum();
  const w = tensor([[0.5, -1], [2, 0.25]]);
  const x = tensor([[1, 2], [3, -1]]);

  it('grad and valueAndGrad agree with eager autograd', () => {
    const we = w.detach().requiresGrad_();
    const loss = f(we, x);
    loss.backward();
    const [value, [dw]] = valueAndGrad(f)(w, x);
    expect(value.item()).toBeCloseTo(loss.item() as number, 6);
    const want = we.grad!.toArray() as number[][];
    (dw!.toArray() as number[][]).forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(want[i]![j]!, 6)));
    const g = grad(f, [0, 1])(w, x) as import('../../src/index.js').Tensor[];
    expect(g).toHaveLength(2);
  });

  it('vjp and jvp are consistent: <v, J t> = <Jᵀ v, t>', () => {
    const h = (a: import('../../src/index.js').Tensor) => a.mul(a).sin();
    const a = tensor([0.3, -1.2, 2]);
    const v = tensor([1, 2, -1]);
    const t = tensor([0.5, 0.1, 1]);
    const [out, back] = vjp(h, a);
    const [out2, jt] = jvp(h, [a], [t]);
    expect(out.toArray()).toEqual(out2.toArray());
    const [jtv] = back(v);
    const lhs = v.mul(jt).sum().item() as number;
    const rhs = jtv!.mul(t).sum().item() as number;
    expect(lhs).toBeCloseTo(rhs, 5);
    // d/da sin(a²) = 2a cos(a²)
    const want = [0.3, -1.2, 2].map((q, i) => 2 * q * Math.cos(q * q) * [0.5, 0.1, 1][i]!);
    (jt.toArray() as number[]).forEach((val, i) => expect(val).toBeCloseTo(want[i]!, 5));
  });
});

describe('jit', () => {
  it('compiles once per signature and composes with valueAndGrad', async () => {
    const { jit } = await import('../../src/index.js');
    const lossFn = (w: import('../../src/index.js').Tensor, x: import('../../src/index.js').Tensor) => x.matmul(w).tanh().sum();
    const step = jit((w, x) => {
      const [loss, [dw]] = valueAndGrad(lossFn)(w!, x!);
      return [loss, w!.sub(dw!.mul(0.1))];
    });
    const w = tensor([[0.5, -1], [2, 0.25]]);
    const x = tensor([[1, 2], [3, -1]]);
    const [loss, w2] = step(w, x);
    const we = w.detach().requiresGrad_();
    const le = lossFn(we, x);
    le.backward();
    expect(loss!.item()).toBeCloseTo(le.item() as number, 6);
    const want = w.sub(we.grad!.mul(0.1)).toArray() as number[][];
    (w2!.toArray() as number[][]).forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(want[i]![j]!, 6)));
    const g1 = step.lastGraph;
    step(w2!, x);
    expect(step.lastGraph).toBe(g1);
  });
});

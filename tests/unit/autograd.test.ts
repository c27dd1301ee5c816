import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  autograd,
  AutogradError,
  DTypeError,
  enableGrad,
  Function,
  type FunctionCtx,
  isGradEnabled,
  noGrad,
  ones,
  setGradEnabled,
  setWarningHandler,
  type Tensor,
  tensor,
} from '../../src/index.js';

const arr = (t: Tensor | null) => t!.toArray();

describe('leaves, gradFn and backward', () => {
  it('marks leaves and names nodes like PyTorch', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(2);
    expect(x.isLeaf).toBe(true);
    expect(y.isLeaf).toBe(false);
    expect(y.requiresGrad).toBe(true);
    expect(y.gradFn!.name).toBe('MulBackward');
    expect(y.gradFn!.nextFunctions[0]![0]!.name).toBe('AccumulateGrad');
    expect(x.sum().gradFn!.name).toBe('SumBackward');
    expect(x.softmax(0).gradFn!.name).toBe('SoftmaxBackward');
  });

  it('accumulates gradients into leaves across backward calls', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(x).sum();
    y.backward(null, { retainGraph: true });
    expect(arr(x.grad)).toEqual([2, 4, 6]);
    y.backward();
    expect(arr(x.grad)).toEqual([4, 8, 12]);
  });

  it('takes a gradient for non-scalar outputs', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    x.mul(3).backward(tensor([1, 10]));
    expect(arr(x.grad)).toEqual([3, 30]);
  });

  it('rejects backward() on a non-scalar without a gradient', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => x.mul(3).backward()).toThrow(ArgumentError);
    expect(() => x.mul(3).backward()).toThrow('backward: grad can be implicitly created only for scalar outputs, got f32[2]');
  });

  it('refuses a second backward through a freed graph', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(x).sum();
    y.backward();
    expect(() => y.backward()).toThrow(AutogradError);
    expect(() => y.backward()).toThrow(/Trying to backward through the graph a second time/);
  });

  it('rejects backward on a tensor that does not require grad', () => {
    expect(() => tensor([1]).sum().backward()).toThrow('backward: element 0 of tensors does not require grad and does not have a grad_fn');
  });

  it('differentiates twice with createGraph', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const [g] = autograd.grad(x.pow(3).sum(), [x], { createGraph: true });
    expect(arr(g!)).toEqual([3, 12, 27]);
    expect(g!.requiresGrad).toBe(true);
    g!.sum().backward();
    expect(arr(x.grad)).toEqual([6, 12, 18]);
  });
});

describe('autograd.grad', () => {
  it('returns gradients without touching .grad', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const w = tensor([3, 4], { requiresGrad: true });
    const [gx, gw] = autograd.grad(x.mul(w).sum(), [x, w]);
    expect(arr(gx!)).toEqual([3, 4]);
    expect(arr(gw!)).toEqual([1, 2]);
    expect(x.grad).toBeNull();
  });

  it('honours gradOutputs', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const [g] = autograd.grad(x.exp(), [x], { gradOutputs: [tensor([0, 1])] });
    expect(g!.toArray()).toEqual([0, Math.fround(Math.exp(2))]);
  });

  it('reports unused inputs unless allowUnused', () => {
    const x = tensor([1], { requiresGrad: true });
    const z = tensor([1], { requiresGrad: true });
    expect(() => autograd.grad(x.mul(2).sum(), [x, z])).toThrow(/appears to not have been used in the graph/);
    const [gx, gz] = autograd.grad(x.mul(2).sum(), [x, z], { allowUnused: true });
    expect(arr(gx!)).toEqual([2]);
    expect(gz).toBeNull();
  });

  it('differentiates with respect to a non-leaf', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const h = x.mul(2);
    const [g] = autograd.grad(h.mul(h).sum(), [h]);
    expect(arr(g!)).toEqual([4, 8]);
  });
});

describe('grad mode', () => {
  it('noGrad stops recording; enableGrad restores it; setGradEnabled is global', () => {
    const x = tensor([1], { requiresGrad: true });
    const y = noGrad(() => x.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    const z = noGrad(() => enableGrad(() => x.mul(2)));
    expect(z.requiresGrad).toBe(true);
    setGradEnabled(false);
    try {
      expect(isGradEnabled()).toBe(false);
      expect(x.mul(2).requiresGrad).toBe(false);
    } finally {
      setGradEnabled(true);
    }
  });

  it('detach shares the value but not the history', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const d = x.mul(2).detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.isLeaf).toBe(true);
    expect(arr(d)).toEqual([2, 4]);
  });

  it('requiresGrad_ only on float leaves', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => x.mul(2).requiresGrad_(false)).toThrow(/only change requiresGrad flags of leaf variables/);
    expect(() => tensor([1], { dtype: 'i32' }).requiresGrad_()).toThrow(DTypeError);
    expect(() => tensor([1], { dtype: 'i32' }).requiresGrad_()).toThrow('requiresGrad_: only tensors of floating point dtype can require gradients, got i32[1]');
  });
});

describe('retainGrad, .grad of non-leaves, hooks', () => {
  it('retainGrad keeps a non-leaf gradient', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const h = x.mul(3);
    h.retainGrad();
    h.sum().backward();
    expect(arr(h.grad)).toEqual([1, 1]);
  });

  it('warns when reading .grad of a non-leaf', () => {
    const warnings: string[] = [];
    setWarningHandler((m) => warnings.push(m));
    try {
      const x = tensor([1], { requiresGrad: true });
      const h = x.mul(2);
      h.sum().backward();
      expect(h.grad).toBeNull();
      expect(warnings[0]).toMatch(/The .grad attribute of a Tensor that is not a leaf Tensor is being accessed/);
    } finally {
      setWarningHandler((m) => console.warn(m));
    }
  });

  it('hooks see and may replace gradients', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const seen: number[][] = [];
    const h = x.mul(2);
    h.registerHook((g) => {
      seen.push(g.toArray() as number[]);
      return g.mul(10);
    });
    const handle = x.registerHook((g) => g.add(1));
    h.sum().backward();
    expect(seen).toEqual([[1, 1]]);
    expect(arr(x.grad)).toEqual([21, 21]);
    handle.remove();
    x.grad = null;
    x.mul(2).sum().backward();
    expect(arr(x.grad)).toEqual([2, 2]);
  });
});

describe('custom Function', () => {
  class Cube extends Function {
    static override forward(ctx: FunctionCtx, x: Tensor): Tensor {
      ctx.saveForBackward(x);
      return x.pow(3);
    }
    static override backward(ctx: FunctionCtx, g: Tensor): Tensor {
      const [x] = ctx.savedTensors;
      return g.mul(x!.square().mul(3));
    }
  }

  it('runs forward and the hand-written backward', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = Cube.apply(x);
    expect(y.gradFn!.name).toBe('CubeBackward');
    expect(arr(y)).toEqual([1, 8]);
    y.sum().backward();
    expect(arr(x.grad)).toEqual([3, 12]);
  });

  it('checks saved tensors for in-place changes', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const h = x.mul(1);
    const y = Cube.apply(h);
    h.add_(1);
    expect(() => y.sum().backward()).toThrow(/modified by an inplace operation/);
  });
});

describe('in-place ops and version counters', () => {
  it('bumps the version and rebases history', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const h = x.mul(2);
    expect(h.version).toBe(0);
    h.add_(1);
    expect(h.version).toBe(1);
    expect(h.gradFn!.name).toBe('AddBackward');
    expect(arr(h)).toEqual([3, 5]);
    h.mul(h).sum().backward();
    expect(arr(x.grad)).toEqual([12, 20]);
  });

  it('raises when a saved tensor was modified in place', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const h = x.mul(2);
    const y = h.mul(h);
    h.add_(1);
    expect(() => y.sum().backward()).toThrow(AutogradError);
    expect(() => y.sum().backward()).toThrow(
      /one of the variables needed for gradient computation has been modified by an inplace operation: \[f32\[2\]\], which is output 0 of MulBackward, is at version 1; expected version 0 instead/,
    );
  });

  it('allows in-place changes the backward does not need', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const h = x.add(1);
    const y = h.add(1);
    h.mul_(5);
    y.sum().backward();
    expect(arr(x.grad)).toEqual([1, 1]);
  });

  it('forbids in-place ops on leaves that require grad, except under noGrad', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    expect(() => w.add_(1)).toThrow('add_: a leaf Variable that requires grad is being used in an in-place operation.');
    noGrad(() => w.sub_(ones([2]).mul(0.5)));
    expect(arr(w)).toEqual([0.5, 1.5]);
    expect(w.version).toBe(1);
  });

  it('zero_ and fill_', () => {
    const t = tensor([1, 2, 3]);
    t.zero_();
    expect(arr(t)).toEqual([0, 0, 0]);
    t.fill_(7);
    expect(arr(t)).toEqual([7, 7, 7]);
  });
});

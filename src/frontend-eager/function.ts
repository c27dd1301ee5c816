import { ArgumentError } from '../ir/errors.js';
import { formatShape } from '../ir/types.js';
import { gradEdge, GradNode, SavedTensor } from './autograd.js';
import { isGradEnabled, noGrad } from './grad-mode.js';
import { F, Tensor } from './tensor.js';

/** What `forward` leaves for `backward`: saved tensors plus any fields you set. */
export class FunctionCtx {
  private saved: SavedTensor[] = [];
  private node: GradNode | null = null;
  /** Per tensor argument of `apply`: whether its gradient is needed. */
  needsInputGrad: boolean[] = [];
  /** Free-form values for backward (numbers, shapes, options). */
  readonly values: Record<string, unknown> = {};

  /** Saves tensors for `backward`; they are checked for in-place changes when used. */
  saveForBackward(...tensors: Tensor[]): void {
    this.saved = tensors.map((t) => new SavedTensor(t, null));
  }

  get savedTensors(): Tensor[] {
    return this.saved.map((s) => s.unpack(this.node ?? new FunctionNode('Function', this, () => [], [])));
  }

  /** @internal */
  _bind(node: GradNode): void {
    this.node = node;
  }
  /** @internal */
  _release(): void {
    for (const s of this.saved) s.release();
  }
}

class FunctionNode extends GradNode {
  constructor(
    name: string,
    private readonly ctx: FunctionCtx,
    private readonly run: (ctx: FunctionCtx, g: Tensor) => unknown,
    private readonly inputs: readonly { shape: readonly number[]; needs: boolean }[],
  ) {
    super(name);
  }

  apply(grad: Tensor): (Tensor | null)[] {
    const r = this.run(this.ctx, grad);
    const gs = (Array.isArray(r) ? r : [r]) as (Tensor | null | undefined)[];
    if (gs.length !== this.inputs.length) {
      throw new ArgumentError(`${this.name}: backward returned ${gs.length} gradients, expected ${this.inputs.length} (one per tensor input)`);
    }
    return gs.map((g, i) => {
      const input = this.inputs[i]!;
      if (!g || !input.needs) return null;
      try {
        return F.unbroadcast(g, input.shape);
      } catch {
        throw new ArgumentError(
          `${this.name}: backward returned an invalid gradient at index ${i}: got ${formatShape(g.shape)} but expected shape compatible with ${formatShape(input.shape)}`,
        );
      }
    });
  }

  release(): void {
    this.ctx._release();
  }
}

type FunctionClass = {
  name: string;
  forward(ctx: FunctionCtx, ...args: never[]): Tensor;
  backward(ctx: FunctionCtx, ...grads: Tensor[]): Tensor | null | (Tensor | null)[];
};

/**
 * A differentiable operation with a hand-written backward (`torch.autograd.Function`).
 *
 * ```ts
 * class Cube extends Function {
 *   static forward(ctx: FunctionCtx, x: Tensor) { ctx.saveForBackward(x); return x.pow(3); }
 *   static backward(ctx: FunctionCtx, g: Tensor) { const [x] = ctx.savedTensors; return g.mul(x!.square().mul(3)); }
 * }
 * const y = Cube.apply(x);
 * ```
 */
export class Function {
  static forward(_ctx: FunctionCtx, ..._args: never[]): Tensor {
    throw new ArgumentError(`${this.name}.forward: not implemented; define a static forward(ctx, ...args)`);
  }

  static backward(_ctx: FunctionCtx, ..._grads: Tensor[]): Tensor | null | (Tensor | null)[] {
    throw new ArgumentError(`${this.name}.backward: not implemented; define a static backward(ctx, ...grads)`);
  }

  static apply<C extends FunctionClass>(this: C, ...args: Parameters<C['forward']> extends [FunctionCtx, ...infer A] ? A : never): Tensor {
    const ctx = new FunctionCtx();
    const tensors = (args as unknown[]).filter((a): a is Tensor => a instanceof Tensor);
    ctx.needsInputGrad = tensors.map((t) => t.requiresGrad);
    const out = noGrad(() => (this.forward as (ctx: FunctionCtx, ...a: unknown[]) => Tensor)(ctx, ...(args as unknown[])));
    if (!(out instanceof Tensor)) throw new ArgumentError(`${this.name}.forward: must return a Tensor`);
    const result = new Tensor(out._buf, out._version);
    if (isGradEnabled() && ctx.needsInputGrad.some(Boolean)) {
      const node = new FunctionNode(
        `${this.name}Backward`,
        ctx,
        (c, g) => this.backward(c, g),
        tensors.map((t) => ({ shape: t.shape, needs: t.requiresGrad })),
      );
      node.nextFunctions = tensors.map((t) => [t.requiresGrad ? gradEdge(t) : null, 0] as const);
      ctx._bind(node);
      result.gradFn = node;
      result._setRequiresGrad(true);
    }
    return result;
  }
}

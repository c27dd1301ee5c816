import { vjpRule } from '../autodiff/rules.js';
import { ArgumentError, AutogradError } from '../ir/errors.js';
import type { Attrs } from '../ir/graph.js';
import type { OpName } from '../ir/ops/index.js';
import { formatType, numel } from '../ir/types.js';
import { enableGrad, noGrad, replaySaved } from './grad-mode.js';
import { realize } from './lazy.js';
import type { PrimOps } from '../ir/lang/prim.js';
import type { Tensor } from './tensor.js';

let nextSeq = 0;

/** The sequence number the next autograd node will get. */
export function peekSeq(): number {
  return nextSeq;
}

/** A hook on a gradient: may return a replacement. */
export type GradHook = (grad: Tensor) => Tensor | void;

/**
 * A node of the autograd graph (PyTorch's `grad_fn`): how to map the gradient of one
 * output to gradients of the inputs. `nextFunctions[i]` is where input i's gradient goes.
 */
export abstract class GradNode {
  name: string;
  readonly seq = nextSeq++;
  nextFunctions: ReadonlyArray<readonly [GradNode | null, number]> = [];
  /** Hooks registered on the output tensor (`registerHook` on a non-leaf). */
  readonly preHooks: GradHook[] = [];
  /** The non-leaf tensor whose `.grad` is kept (`retainGrad`). */
  retained: Tensor | null = null;

  constructor(name: string) {
    this.name = name;
  }

  /** Input gradients, one per `nextFunctions` entry (null: none flows). */
  abstract apply(grad: Tensor): (Tensor | null)[];
  /** Frees saved tensors (after a backward without retainGraph). */
  abstract release(): void;

  toString(): string {
    return `<${this.name}>`;
  }
}

/** The sink of a leaf that requires grad: accumulates into `variable.grad`. */
export class AccumulateGrad extends GradNode {
  constructor(readonly variable: Tensor) {
    super('AccumulateGrad');
  }
  apply(): (Tensor | null)[] {
    return [];
  }
  release(): void {}
}

const FREED =
  'Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). ' +
  'Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). ' +
  'Specify retainGraph: true if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.';

/**
 * A tensor saved for backward, with the version it had then. Unpacking gives a view that
 * checks, on first use, that it was neither freed nor modified in place since.
 */
export class SavedTensor {
  private tensor: Tensor | null;
  private readonly version: number;
  /** Who made the tensor when it was saved, for the error message (`output 0 of MulBackward`). */
  private readonly role: string | null;

  constructor(t: Tensor, private readonly outputOf: GradNode | null) {
    this.tensor = t;
    this.version = t._version.value;
    this.role = outputOf ? null : t.gradFn ? `output 0 of ${t.gradFn.name}` : 'a leaf';
  }

  unpack(node: GradNode): Tensor {
    const t = this.tensor;
    const check = (): void => {
      if (!t) throw new AutogradError(`${node.name}: ${FREED}`);
      if (t._version.value !== this.version) {
        const role = this.role ?? `output 0 of ${this.outputOf!.name}`;
        throw new AutogradError(
          `${node.name}: one of the variables needed for gradient computation has been modified by an inplace operation: ` +
            `[${formatType(t._buf.type)}], which is ${role}, is at version ${t._version.value}; expected version ${this.version} instead.`,
        );
      }
    };
    // NOTE: the check runs when a rule actually uses the value, not when it is unpacked,
    // so ops whose rule does not need a saved value never raise about it (as in PyTorch).
    return new Proxy(t ?? ({} as Tensor), {
      get(target, prop) {
        check();
        return Reflect.get(target, prop, target);
      },
    });
  }

  release(): void {
    this.tensor = null;
  }
}

function pascal(op: string): string {
  return op.replace(/(^|_)([a-z0-9])/g, (_m, _u, c: string) => c.toUpperCase());
}

const names = new Map<string, string>();

export function backwardName(op: string): string {
  let n = names.get(op);
  if (n === undefined) names.set(op, (n = `${pascal(op)}Backward`));
  return n;
}

/** The node of one primitive op, backed by its VJP rule. */
export class OpNode extends GradNode {
  private readonly saved: SavedTensor[];
  private savedOut: SavedTensor | null;
  private readonly needs: boolean[];
  private readonly shapes: (readonly number[])[];

  constructor(
    readonly op: OpName,
    readonly attrs: Attrs,
    inputs: readonly Tensor[],
    out: Tensor,
    private readonly ops: PrimOps<Tensor>,
  ) {
    super(backwardName(op));
    this.needs = inputs.map((t) => t.requiresGrad);
    this.shapes = inputs.map((t) => t.shape);
    this.saved = inputs.map((t) => new SavedTensor(t, null));
    this.savedOut = new SavedTensor(out, this);
    this.nextFunctions = inputs.map((t) => [t.requiresGrad ? gradEdge(t) : null, 0] as const);
  }

  /** In-place ops re-point the saved output at the tensor that now holds it. */
  rebindOutput(t: Tensor): void {
    this.savedOut = new SavedTensor(t, this);
  }

  apply(grad: Tensor): (Tensor | null)[] {
    const rule = vjpRule(this.op)!;
    const xs = this.saved.map((s) => s.unpack(this));
    const out = (this.savedOut ?? new SavedTensor(grad, this)).unpack(this);
    const gs = rule(this.ops, grad, xs, out, this.attrs, this.needs);
    return gs.map((g, i) => (g && this.needs[i] ? this.ops.unbroadcast(g, this.shapes[i]!) : null));
  }

  release(): void {
    for (const s of this.saved) s.release();
    this.savedOut?.release();
  }
}

/** Where a gradient for `t` goes: its grad_fn, or its leaf accumulator. */
export function gradEdge(t: Tensor): GradNode {
  if (t.gradFn) return t.gradFn;
  t._accumulator ??= new AccumulateGrad(t);
  return t._accumulator;
}

export interface BackwardOptions {
  /** Keep saved tensors so the graph can be differentiated again (default: createGraph). */
  retainGraph?: boolean;
  /** Record the backward pass itself, for higher-order gradients (default false). */
  createGraph?: boolean;
  /**
   * Leave the gradients pending instead of computing them at the end of `backward`; they
   * are computed with whatever reads them next (a compiled training step: one graph).
   */
  lazy?: boolean;
}

export interface GradOptions extends BackwardOptions {
  /** Gradients of `outputs` (required for non-scalar outputs). */
  gradOutputs?: readonly (Tensor | null)[];
  /** Return null for inputs the outputs do not depend on, instead of raising. */
  allowUnused?: boolean;
}

function seedFor(ops: PrimOps<Tensor>, op: string, root: Tensor, g: Tensor | null | undefined): Tensor {
  if (g) {
    if (g.shape.length !== root.shape.length || g.shape.some((d, i) => d !== root.shape[i])) {
      throw new ArgumentError(`${op}: grad ${formatType(g._buf.type)} does not match the output ${formatType(root._buf.type)}`);
    }
    return g;
  }
  if (numel(root.shape) !== 1) {
    throw new ArgumentError(`${op}: grad can be implicitly created only for scalar outputs, got ${formatType(root._buf.type)}`);
  }
  return ops.onesLike(root);
}

/**
 * The engine: runs nodes in reverse topological order from `roots`, summing gradients
 * that meet. With `capture`, returns the gradients reaching those tensors instead of
 * accumulating into leaves (autograd.grad).
 */
function execute(
  ops: PrimOps<Tensor>,
  op: string,
  roots: readonly Tensor[],
  seeds: readonly Tensor[],
  opts: GradOptions,
  capture: readonly Tensor[] | null,
): (Tensor | null)[] {
  const allowUnused = opts.allowUnused ?? false;
  const createGraph = opts.createGraph ?? false;
  const retainGraph = opts.retainGraph ?? createGraph;
  roots.forEach((r, i) => {
    if (!r.requiresGrad) {
      throw new AutogradError(`${op}: element ${i} of tensors does not require grad and does not have a grad_fn`);
    }
  });
  const rootNodes = roots.map(gradEdge);

  // Dependency counts over the reachable graph.
  const deps = new Map<GradNode, number>();
  const seen = new Set<GradNode>(rootNodes);
  const stack = [...seen];
  while (stack.length) {
    const n = stack.pop()!;
    for (const [next] of n.nextFunctions) {
      if (!next) continue;
      deps.set(next, (deps.get(next) ?? 0) + 1);
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }

  const captureAt = new Map<GradNode, number[]>();
  capture?.forEach((t, i) => {
    if (!t.requiresGrad) return;
    const node = gradEdge(t);
    captureAt.set(node, [...(captureAt.get(node) ?? []), i]);
  });
  const captured: (Tensor | null)[] = capture ? capture.map(() => null) : [];

  const buffer = new Map<GradNode, Tensor>();
  const add = (n: GradNode, g: Tensor): void => {
    const prev = buffer.get(n);
    buffer.set(n, prev ? ops.emit('add', [prev, g]) : g);
  };
  rootNodes.forEach((n, i) => add(n, seeds[i]!));

  const touchedLeaves: Tensor[] = [];
  // NOTE: a max-heap by sequence number: the most recent node first, like PyTorch.
  const ready: GradNode[] = [];
  const push = (n: GradNode): void => {
    ready.push(n);
    let i = ready.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (ready[parent]!.seq >= ready[i]!.seq) break;
      [ready[parent], ready[i]] = [ready[i]!, ready[parent]!];
      i = parent;
    }
  };
  const pop = (): GradNode => {
    const top = ready[0]!;
    const last = ready.pop()!;
    if (ready.length) {
      ready[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < ready.length && ready[l]!.seq > ready[m]!.seq) m = l;
        if (r < ready.length && ready[r]!.seq > ready[m]!.seq) m = r;
        if (m === i) break;
        [ready[m], ready[i]] = [ready[i]!, ready[m]!];
        i = m;
      }
    }
    return top;
  };
  rootNodes.forEach((n, i) => {
    if (!deps.has(n) && rootNodes.indexOf(n) === i) push(n);
  });
  const run = (): void => {
    while (ready.length) {
      const node = pop();
      let grad = buffer.get(node);
      buffer.delete(node);
      if (grad) {
        for (const hook of node.preHooks) grad = hook(grad) ?? grad;
        if (node.retained) accumulateInto(ops, node.retained, grad, createGraph);
        for (const i of captureAt.get(node) ?? []) captured[i] = grad;
      }
      if (node instanceof AccumulateGrad) {
        if (grad && !capture) {
          accumulateInto(ops, node.variable, grad, createGraph);
          touchedLeaves.push(node.variable);
        }
      } else if (grad) {
        const ins = node.apply(grad);
        node.nextFunctions.forEach(([next], i) => {
          const gi = ins[i];
          if (next && gi) add(next, gi);
        });
      }
      if (!retainGraph) node.release();
      for (const [next] of node.nextFunctions) {
        if (!next) continue;
        const left = deps.get(next)! - 1;
        deps.set(next, left);
        if (left === 0) push(next);
      }
    }
  };
  // NOTE: the engine reads what the forward pass saved, disposed handles included (see replaySaved).
  if (createGraph) enableGrad(() => replaySaved(run));
  else noGrad(() => replaySaved(run));

  if (!capture) {
    if (!opts.lazy) realize(touchedLeaves.flatMap((t) => (t.grad ? [t.grad._buf] : [])));
    return [];
  }
  captured.forEach((g, i) => {
    if (!g && !allowUnused) {
      throw new AutogradError(
        `${op}: one of the differentiated tensors (input ${i}, ${formatType(capture[i]!._buf.type)}) appears to not have been used in the graph. ` +
          'Set allowUnused: true if this is the desired behavior.',
      );
    }
  });
  if (!opts.lazy) realize(captured.flatMap((g) => (g ? [g._buf] : [])));
  return captured;
}

function accumulateInto(ops: PrimOps<Tensor>, t: Tensor, grad: Tensor, createGraph: boolean): void {
  const g = createGraph ? grad : grad.detach();
  if (!t.grad) t.grad = g;
  else if (createGraph) t.grad = ops.emit('add', [t.grad, g]);
  else noGrad(() => t.grad!.add_(g));
}

/** The engine behind `tensor.backward(gradient, opts)`: accumulates d(root)/d(leaf) into every leaf's `.grad`. */
export function backward(ops: PrimOps<Tensor>, root: Tensor, gradient?: Tensor | null, opts: BackwardOptions = {}): void {
  execute(ops, 'backward', [root], [seedFor(ops, 'backward', root, gradient)], opts, null);
}

/**
 * The engine behind `autograd.grad(outputs, inputs, opts)`: the gradients of `outputs` with respect to
 * `inputs`, without touching `.grad`.
 *
 * ```ts
 * const [dx] = autograd.grad(x.pow(3).sum(), [x], { createGraph: true });
 * ```
 */
export function grad(
  ops: PrimOps<Tensor>,
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  opts: GradOptions = {},
): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs as Tensor];
  const ins = Array.isArray(inputs) ? inputs : [inputs as Tensor];
  ins.forEach((t, i) => {
    if (!t.requiresGrad) {
      throw new AutogradError(`autograd.grad: input ${i} (${formatType(t._buf.type)}) does not require grad`);
    }
  });
  const seeds = outs.map((o, i) => seedFor(ops, 'autograd.grad', o, opts.gradOutputs?.[i]));
  return execute(ops, 'autograd.grad', outs, seeds, opts, ins);
}


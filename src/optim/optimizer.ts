import { ArgumentError, ShapeError } from '../ir/errors.js';
import { formatType, shapesEqual } from '../ir/types.js';
import { full } from '../frontend-eager/factories.js';
import { enableGrad, noGrad } from '../frontend-eager/grad-mode.js';
import { realize } from '../frontend-eager/lazy.js';
import { Tensor } from '../frontend-eager/tensor.js';

/** The hyperparameters every optimizer has; each optimizer extends it with its own. */
export interface BaseHyper {
  lr: number;
}

/** A parameter group: its parameters and its own copy of the hyperparameters (`optimizer.param_groups[i]`). */
export type ParamGroup<H extends BaseHyper> = H & {
  params: Tensor[];
  /** Set by the first LR scheduler attached to the optimizer (PyTorch's `initial_lr`). */
  initialLr?: number;
};

/** A group as given to a constructor or `addParamGroup`: hyperparameters it leaves out take the defaults. */
export type ParamGroupInput<H extends BaseHyper> = Partial<H> & { params: Iterable<Tensor> };

/** What an optimizer accepts: parameters (one group), or parameter groups. */
export type Params<H extends BaseHyper> = Iterable<Tensor> | Iterable<ParamGroupInput<H>>;

/** Per-parameter state: tensors (momentum buffers, moments) and counters (`step`). */
export type ParamState = Record<string, Tensor | number | undefined>;

/** A hyperparameter value as it appears in a state dict. */
export type HyperValue = number | boolean | number[];

/**
 * PyTorch's optimizer state dict, with kiln's camelCase names: `state` maps a parameter's
 * index (counting through the groups in order) to its state; `paramGroups` holds each
 * group's hyperparameters and the indices of its parameters.
 */
export interface OptimizerStateDict {
  state: Record<number, Record<string, Tensor | number>>;
  paramGroups: (Record<string, HyperValue | undefined> & { params: number[] })[];
}

/**
 * The base of kiln's optimizers (`torch.optim.Optimizer`): parameter groups, per-parameter
 * state, `zeroGrad`, `step`, and state dicts. A subclass implements `update`, which applies
 * one group's update lazily with in-place ops; `step` runs it under `noGrad` and then computes
 * the new parameters and state as one graph.
 *
 * ```ts
 * const opt = new SGD([w, b], { lr: 0.1, momentum: 0.9 });
 * for (const [x, y] of loader) {
 *   opt.zeroGrad();
 *   F.mseLoss(x.matmul(w).add(b), y).backward();
 *   opt.step();
 * }
 * ```
 */
export abstract class Optimizer<H extends BaseHyper, S extends ParamState = ParamState> {
  /** The hyperparameters a group gets when it does not set them. */
  readonly defaults: H;
  readonly paramGroups: ParamGroup<H>[] = [];
  /** Per-parameter state, created on a parameter's first update. */
  readonly state = new Map<Tensor, S>();
  /** The class name used in error messages (`SGD`, `Adam`, ...). */
  protected readonly name: string;

  /** @param name the optimizer's name for error messages */
  constructor(name: string, params: Params<H>, defaults: H) {
    this.name = name;
    this.defaults = defaults;
    const list: (Tensor | ParamGroupInput<H>)[] = [...params];
    if (list.length === 0) throw new ArgumentError(`${name}: optimizer got an empty parameter list`);
    if (list.every((p) => p instanceof Tensor)) {
      this.addGroup(list as Tensor[], {});
    } else {
      for (const g of list) {
        if (g instanceof Tensor) throw new ArgumentError(`${name}: got a mix of tensors and parameter groups; pass either tensors or groups`);
        this.addParamGroup(g);
      }
    }
  }

  /**
   * Adds a parameter group (fine-tuning a frozen layer, say); missing hyperparameters take
   * the defaults.
   *
   * ```ts
   * opt.addParamGroup({ params: [head.weight], lr: 1e-2 });
   * ```
   */
  addParamGroup(group: ParamGroupInput<H>): void {
    const params = group.params;
    this.addGroup(params instanceof Tensor ? [params] : [...params], group);
  }

  private addGroup(params: Tensor[], hyper: Partial<H>): void {
    const who = this.name;
    for (const p of params) {
      if (!(p instanceof Tensor)) throw new ArgumentError(`${who}: optimizer can only optimize Tensors, got ${typeof p}`);
      if (!p.isLeaf) throw new ArgumentError(`${who}: can't optimize a non-leaf Tensor (${formatType(p.type)})`);
    }
    if (new Set(params).size !== params.length) {
      throw new ArgumentError(`${who}: a parameter group contains a parameter twice; each parameter must appear once`);
    }
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    if (params.some((p) => seen.has(p))) throw new ArgumentError(`${who}: some parameters appear in more than one parameter group`);
    const given = Object.entries(hyper).filter(([k, v]) => v !== undefined && k !== 'params');
    const overrides = Object.fromEntries(given.map(([k, v]: [string, unknown]) => [k, Array.isArray(v) ? [...v] : v]));
    this.paramGroups.push({ ...structuredClone(this.defaults), ...overrides, params });
  }

  /**
   * Clears the gradients of all parameters: sets them to null (the default, as in PyTorch),
   * or zeroes them in place.
   *
   * ```ts
   * opt.zeroGrad();                       // p.grad === null
   * opt.zeroGrad({ setToNone: false });   // p.grad is all zeros
   * ```
   */
  zeroGrad({ setToNone = true }: { setToNone?: boolean } = {}): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        const grad = p.grad;
        if (grad === null) continue;
        if (setToNone) {
          p.grad = null;
        } else {
          const plain = grad.gradFn ? grad.detach() : grad;
          noGrad(() => plain.zero_());
          p.grad = plain;
        }
      }
    }
  }

  /**
   * Performs one optimization step on every parameter that has a gradient. With a
   * `closure` (re-evaluates the model and returns the loss), the closure runs first, with
   * gradients enabled, and its loss is returned.
   *
   * ```ts
   * loss.backward();
   * opt.step();
   * ```
   */
  step(closure?: () => Tensor): Tensor | undefined {
    const loss = closure ? enableGrad(closure) : undefined;
    realizeTensors(this.stepLazy());
    return loss;
  }

  /**
   * Records one step as pending in-place ops on the parameters and their state, without
   * computing it, and returns every tensor the step updated (parameters first, then state
   * tensors). `step()` is `stepLazy()` followed by computing those tensors as one graph; a
   * compiled training step can instead trace it (its per-step scalars, such as learning
   * rates and bias corrections, are 0-d tensors, so they become graph inputs).
   *
   * ```ts
   * const updated = opt.stepLazy();   // nothing computed yet
   * ```
   */
  stepLazy(): Tensor[] {
    noGrad(() => {
      for (const g of this.paramGroups) this.update(g);
    });
    const params: Tensor[] = [];
    const state: Tensor[] = [];
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        params.push(p);
        const s = this.state.get(p);
        if (s) for (const v of Object.values(s)) if (v instanceof Tensor) state.push(v);
      }
    }
    return [...params, ...state];
  }

  /**
   * Applies one group's update with in-place ops on the parameters and their state
   * (already under `noGrad`). Values stay lazy; `step` computes them together.
   */
  protected abstract update(group: ParamGroup<H>): void;

  /** The state of `p`, created by `init` on first use. */
  protected stateOf(p: Tensor, init: () => S): S {
    let s = this.state.get(p);
    if (!s) {
      s = init();
      this.state.set(p, s);
    }
    return s;
  }

  /**
   * A snapshot of the optimizer: per-parameter state (tensors copied) and each group's
   * hyperparameters, PyTorch's structure with camelCase names.
   *
   * ```ts
   * const saved = opt.stateDict();
   * // ... later, with a fresh optimizer over the same parameters:
   * opt2.loadStateDict(saved);
   * ```
   */
  stateDict(): OptimizerStateDict {
    const state: OptimizerStateDict['state'] = {};
    const copies: Tensor[] = [];
    let index = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const ids: number[] = [];
      for (const p of g.params) {
        const s = this.state.get(p);
        if (s) state[index] = copyState(s, copies);
        ids.push(index++);
      }
      const { params: _params, ...hyper } = g;
      return { ...(structuredClone(hyper) as Record<string, HyperValue | undefined>), params: ids };
    });
    realizeTensors(copies);
    return { state, paramGroups };
  }

  /**
   * Restores a state dict from `stateDict()`: hyperparameters and per-parameter state. The
   * groups must have the same sizes as this optimizer's; state tensors must match their
   * parameters' shapes.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const who = this.name;
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new ArgumentError(`${who}.loadStateDict: loaded state dict has ${sd.paramGroups.length} parameter groups, the optimizer has ${this.paramGroups.length}`);
    }
    const byIndex = new Map<number, Tensor>();
    sd.paramGroups.forEach((saved, gi) => {
      const group = this.paramGroups[gi]!;
      if (saved.params.length !== group.params.length) {
        throw new ArgumentError(
          `${who}.loadStateDict: loaded parameter group ${gi} has ${saved.params.length} parameters, the optimizer's group has ${group.params.length}`,
        );
      }
      saved.params.forEach((id, k) => byIndex.set(id, group.params[k]!));
    });
    const next = new Map<Tensor, S>();
    const copies: Tensor[] = [];
    for (const [key, saved] of Object.entries(sd.state)) {
      const p = byIndex.get(Number(key));
      if (!p) throw new ArgumentError(`${who}.loadStateDict: state for parameter ${key}, which no parameter group lists`);
      for (const [name, v] of Object.entries(saved)) {
        if (v instanceof Tensor && !shapesEqual(v.shape, p.shape)) {
          throw new ShapeError(`${who}.loadStateDict: state '${name}' of parameter ${key} is ${formatType(v.type)}, the parameter is ${formatType(p.type)}`);
        }
      }
      next.set(p, copyState(saved, copies) as S);
    }
    realizeTensors(copies);
    sd.paramGroups.forEach((saved, gi) => {
      const group = this.paramGroups[gi]!;
      const { params: _params, ...hyper } = saved;
      Object.assign(group, structuredClone(hyper));
    });
    this.state.clear();
    for (const [p, s] of next) this.state.set(p, s);
  }
}

/** A copy of one parameter's state: tensors cloned (collected in `copies` to realize together). */
function copyState(s: Record<string, Tensor | number | undefined>, copies: Tensor[]): Record<string, Tensor | number> {
  const out: Record<string, Tensor | number> = {};
  for (const [k, v] of Object.entries(s)) {
    if (v === undefined) continue;
    if (v instanceof Tensor) {
      const c = noGrad(() => v.detach().clone());
      copies.push(c);
      out[k] = c;
    } else {
      out[k] = v;
    }
  }
  return out;
}

/** @internal Computes `ts` now, as one graph (so shared subexpressions run once). */
export function realizeTensors(ts: readonly Tensor[]): void {
  realize(ts.map((t) => t._buf));
}

/**
 * @internal A 0-d f32 tensor holding `v`. Step-dependent scalars (learning rates, bias corrections)
 * enter the update graph as inputs rather than constants, so every step reuses one
 * compiled graph.
 */
export function scalar(v: number): Tensor {
  return full([], v);
}

/** @internal Throws the optimizers' argument errors: `SGD: invalid learning rate: -1`. */
export function check(who: string, ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new ArgumentError(`${who}: invalid ${what}: ${JSON.stringify(value)}`);
}

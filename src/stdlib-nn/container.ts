/** Containers: `Sequential` (a chain) and `ModuleList` (an indexable list), children named "0", "1", ... */
import { ArgumentError, IndexError } from '../ir/errors.js';
import { Tensor } from '../frontend-eager/index.js';
import { describe, Module } from './module.js';
import { addIndent } from './py-repr.js';

/** The children of a list-like container, with Python's negative indexing. */
abstract class IndexedContainer extends Module {
  /** The children in order (a module registered twice appears twice). */
  protected list(): Module[] {
    return this.registeredModules().flatMap(([, m]) => (m ? [m] : []));
  }

  /**
   * Number of children.
   *
   * ```ts
   * new Sequential(new Linear(2, 2), new ReLU()).length; // 2
   * ```
   */
  get length(): number {
    return this.list().length;
  }

  /**
   * The child at `index` (negative counts from the end).
   *
   * ```ts
   * const last = model.at(-1) as Linear;
   * ```
   */
  at(index: number): Module {
    const items = this.list();
    const i = index < 0 ? index + items.length : index;
    const m = items[i];
    if (!Number.isInteger(index) || !m) throw new IndexError(`${this.moduleName()}: index ${index} is out of range for ${items.length} modules`);
    return m;
  }

  /**
   * Appends a module (named by its position); returns this.
   *
   * ```ts
   * model.append(new ReLU());
   * ```
   */
  append(m: Module): this {
    if (!(m instanceof Module)) throw new ArgumentError(`${this.moduleName()}.append: expected a Module, got ${describe(m)}`);
    this.registerModule(String(this.length), m);
    return this;
  }

  /**
   * Iterates over the children in order.
   *
   * ```ts
   * for (const layer of model) console.log(String(layer));
   * ```
   */
  [Symbol.iterator](): Iterator<Module> {
    return this.list()[Symbol.iterator]();
  }
}

/**
 * Runs its children in order, each on the previous one's output (`nn.Sequential`).
 * Children are named "0", "1", ... (or by the keys of a record), so parameters are
 * `"0.weight"`, `"2.bias"`, as in PyTorch.
 *
 * ```ts
 * const model = new Sequential(new Linear(64, 32), new ReLU(), new Linear(32, 10));
 * const logits = model.call(x);                       // f32[N,10]
 * model.namedParameters().map(([n]) => n);            // ['0.weight', '0.bias', '2.weight', '2.bias']
 * new Sequential({ fc: new Linear(4, 2), act: new Tanh() }); // named children
 * ```
 */
export class Sequential extends IndexedContainer {
  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    const [first] = modules;
    if (modules.length === 1 && first !== undefined && !(first instanceof Module)) {
      for (const [name, m] of Object.entries(first)) this.registerModule(name, m);
      return;
    }
    modules.forEach((m, i) => {
      if (!(m instanceof Module)) throw new ArgumentError(`Sequential: argument ${i} is not a Module (got ${describe(m)})`);
      this.registerModule(String(i), m);
    });
  }

  override forward(input: Tensor): Tensor {
    let x: unknown = input;
    for (const m of this.list()) x = m.callWith([x]);
    if (!(x instanceof Tensor)) throw new ArgumentError(`Sequential: the last module returned ${describe(x)}, not a Tensor`);
    return x;
  }
}

/**
 * A list of modules whose parameters are registered (`nn.ModuleList`); it has no forward:
 * iterate over it in the parent's forward.
 *
 * ```ts
 * class Deep extends Module {
 *   layers = new ModuleList(Array.from({ length: 4 }, () => new Linear(16, 16)));
 *   override forward(x: Tensor): Tensor {
 *     for (const l of this.layers) x = (l as Linear).call(x).relu();
 *     return x;
 *   }
 * }
 * ```
 */
export class ModuleList extends IndexedContainer {
  constructor(modules: Iterable<Module> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  /**
   * Appends every module of `modules`; returns this.
   *
   * ```ts
   * list.extend([new Linear(2, 2), new ReLU()]);
   * ```
   */
  extend(modules: Iterable<Module>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  /**
   * Consecutive identical reprs are grouped, as PyTorch's ModuleList prints them:
   * `(0-2): 3 x Linear(in_features=16, out_features=16, bias=True)`.
   */
  protected override childLines(): string[] {
    const items = this.list().map((m) => m.toString());
    const lines: string[] = [];
    let start = 0;
    for (let i = 1; i <= items.length; i++) {
      if (i < items.length && items[i] === items[start]) continue;
      const repr = addIndent(items[start]!, 2);
      lines.push(i - start === 1 ? `(${start}): ${repr}` : `(${start}-${i - 1}): ${i - start} x ${repr}`);
      start = i;
    }
    return lines;
  }
}

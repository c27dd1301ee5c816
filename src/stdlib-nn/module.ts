/**
 * `Module`: PyTorch's `torch.nn.Module` in TypeScript naming. A module owns parameters,
 * buffers and child modules under PyTorch's dotted names (`"encoder.fc1.bias"`), so state
 * dicts and safetensors checkpoints interchange with PyTorch's.
 */
import { ArgumentError, ShapeError } from '../ir/errors.js';
import { formatType, shapesEqual } from '../ir/types.js';
import { noGrad, Tensor, zerosLike } from '../frontend-eager/index.js';
import { addIndent } from './py-repr.js';

/** A state dict: parameters and persistent buffers by dotted name. */
export type StateDict = Record<string, Tensor>;

/** Called before `forward` by `call`; may return replacement arguments. */
export type ForwardPreHook = (module: Module, args: readonly unknown[]) => readonly unknown[] | undefined | void;
/** Called after `forward` by `call`; may return a replacement output. */
export type ForwardHook = (module: Module, args: readonly unknown[], output: unknown) => unknown;

/** What `registerForwardHook` and `registerForwardPreHook` return. */
export interface RemovableHandle {
  /** Unregisters the hook (idempotent). */
  remove(): void;
}

/** Options of `namedParameters`, `namedBuffers` and `namedModules`. */
export interface NamedOptions {
  /** Prepended (with a dot) to every name. */
  prefix?: string;
  /** Include the members of submodules (default true). */
  recurse?: boolean;
  /** Report a tensor or module reachable under several names only once (default true). */
  removeDuplicate?: boolean;
}

/** Options of `loadStateDict`. */
export interface LoadStateDictOptions {
  /** Missing and unexpected keys are errors (default true). Shape mismatches always are. */
  strict?: boolean;
  /** Where the state dict came from, named in errors (set automatically by `loadFile`). */
  source?: string;
}

/** What `loadStateDict` returns when it does not throw. */
export interface IncompatibleKeys {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** NOTE: a non-enumerable tag on state dicts read from files, so load errors name the file. */
const SOURCE = Symbol.for('kiln.stateDictSource');

/** @internal Tags a state dict with the file (or other source) it was read from. */
export function tagSource<T extends object>(sd: T, source: string): T {
  Object.defineProperty(sd, SOURCE, { value: source, enumerable: false, configurable: true });
  return sd;
}

/**
 * The file a state dict was read from, if it came from `loadFile` / `parseSafetensors`.
 *
 * ```ts
 * sourceOf(loadFile('mlp.safetensors')); // 'mlp.safetensors'
 * ```
 */
export function sourceOf(sd: object): string | undefined {
  const v: unknown = (sd as { [SOURCE]?: unknown })[SOURCE];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Base class of all layers and models (`torch.nn.Module`).
 *
 * Register members explicitly (`registerParameter`, `registerBuffer`, `registerModule`, all
 * usable in field initializers); fields holding a `Module` are also registered
 * automatically, under the field name, when the module is next inspected (fields whose
 * name starts with `_` are left alone).
 * Subclasses override `forward`; run a module with `call` (hooks run) or `forward` (no hooks).
 *
 * ```ts
 * class Net extends Module {
 *   fc1 = new Linear(64, 32);                // auto-registered as "fc1"
 *   fc2 = this.registerModule('fc2', new Linear(32, 10));
 *   override forward(x: Tensor): Tensor {
 *     return this.fc2.call(this.fc1.call(x).relu());
 *   }
 * }
 * const net = new Net();
 * net.namedParameters().map(([n]) => n); // ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
 * ```
 */
export class Module {
  /** Whether the module is in training mode (`train()` / `eval()`). */
  training = true;
  private readonly _parameters = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _nonPersistent = new Set<string>();
  private readonly _modules = new Map<string, Module | null>();
  private readonly _forwardHooks = new Map<number, ForwardHook>();
  private readonly _forwardPreHooks = new Map<number, ForwardPreHook>();

  /**
   * The computation. Subclasses override it; the base class has none (as in PyTorch,
   * containers such as `ModuleList` have no forward). Calling it directly skips the hooks.
   *
   * ```ts
   * class Double extends Module {
   *   override forward(x: Tensor): Tensor { return x.mul(2); }
   * }
   * ```
   */
  forward(...args: never[]): unknown {
    void args;
    throw new ArgumentError(`${this.moduleName()}: module is missing the required "forward" function`);
  }

  /**
   * Runs the forward pre-hooks, `forward`, then the forward hooks (PyTorch's `module(x)`).
   *
   * ```ts
   * const y = new Linear(3, 2).call(randn([4, 3])); // f32[4,2]
   * ```
   */
  call<M extends Module>(this: M, ...args: Parameters<M['forward']>): ReturnType<M['forward']> {
    return this.callWith(args) as ReturnType<M['forward']>;
  }

  /**
   * `call` with an untyped argument list, for containers that run children they only know
   * as `Module`.
   *
   * ```ts
   * const y = seq.at(0).callWith([x]);
   * ```
   */
  callWith(args: readonly unknown[]): unknown {
    let a = args;
    for (const hook of [...this._forwardPreHooks.values()]) {
      const r = hook(this, a);
      if (r !== undefined) a = r;
    }
    let out = (this.forward as (...xs: readonly unknown[]) => unknown)(...a);
    for (const hook of [...this._forwardHooks.values()]) {
      const r = hook(this, a, out);
      if (r !== undefined) out = r;
    }
    return out;
  }

  // ---- registration ----

  /**
   * Adds a parameter (a leaf tensor; it is marked `requiresGrad`) under `name`, or `null`
   * for an absent optional one (`bias=false`). Returns the tensor.
   *
   * ```ts
   * class Scale extends Module {
   *   w = this.registerParameter('w', ones([3]));
   *   override forward(x: Tensor) { return x.mul(this.w); }
   * }
   * ```
   */
  registerParameter<T extends Tensor | null>(name: string, t: T): T {
    this.checkMemberName('registerParameter', name, this._parameters);
    if (t !== null) {
      if (!(t instanceof Tensor)) throw new ArgumentError(`registerParameter: "${name}" must be a Tensor or null, got ${describe(t)}`);
      if (!t.isLeaf) {
        throw new ArgumentError(`registerParameter: cannot register "${name}": parameters must be leaf tensors (use .detach()), got one with grad_fn=<${t.gradFn?.name}>`);
      }
      if (t.dtype === 'f32' && !t.requiresGrad) t.requiresGrad_(true);
    }
    this._parameters.set(name, t);
    return t;
  }

  /**
   * Adds a buffer: state that is not trained (batch-norm running statistics). Persistent
   * buffers are part of the state dict. Returns the tensor.
   *
   * ```ts
   * this.registerBuffer('runningMean', zeros([4]));
   * ```
   */
  registerBuffer<T extends Tensor | null>(name: string, t: T, persistent = true): T {
    this.checkMemberName('registerBuffer', name, this._buffers);
    if (t !== null && !(t instanceof Tensor)) throw new ArgumentError(`registerBuffer: "${name}" must be a Tensor or null, got ${describe(t)}`);
    this._buffers.set(name, t);
    if (persistent) this._nonPersistent.delete(name);
    else this._nonPersistent.add(name);
    return t;
  }

  /**
   * Adds a child module under `name`. Returns the module.
   *
   * ```ts
   * const enc = this.registerModule('encoder', new Sequential(new Linear(8, 4), new ReLU()));
   * ```
   */
  registerModule<M extends Module | null>(name: string, m: M): M {
    this.checkMemberName('registerModule', name, this._modules);
    if (m !== null && !(m instanceof Module)) throw new ArgumentError(`registerModule: "${name}" must be a Module or null, got ${describe(m)}`);
    this._modules.set(name, m);
    return m;
  }

  /**
   * Alias of `registerModule` (PyTorch's `add_module`).
   *
   * ```ts
   * model.addModule('head', new Linear(32, 10));
   * ```
   */
  addModule<M extends Module | null>(name: string, m: M): M {
    return this.registerModule(name, m);
  }

  private checkMemberName(op: string, name: string, own: Map<string, unknown>): void {
    if (typeof name !== 'string' || name === '') throw new ArgumentError(`${op}: name must be a non-empty string, got ${JSON.stringify(name)}`);
    if (name.includes('.')) throw new ArgumentError(`${op}: name can't contain ".", got "${name}"`);
    for (const m of [this._parameters, this._buffers, this._modules]) {
      if (m !== own && m.has(name)) throw new ArgumentError(`${op}: attribute "${name}" already exists in ${this.moduleName()}`);
    }
  }

  /**
   * Registers fields holding a Module that were not registered, under the field name.
   * NOTE: they are placed by field order among the registered children that are also
   * fields, so `a = new X(); b = this.registerModule('b', new Y())` gives [a, b], as in PyTorch.
   */
  private syncFields(): void {
    const registered = new Set<Module>();
    for (const m of this._modules.values()) if (m) registered.add(m);
    const fields = Object.entries(this).filter(
      ([key, v]) => v instanceof Module && v !== this && !key.startsWith('_') && !this._parameters.has(key) && !this._buffers.has(key),
    ) as [string, Module][];
    const fresh = fields.filter(([key, m], i) => !registered.has(m) && !this._modules.has(key) && fields.findIndex(([, o]) => o === m) === i);
    if (fresh.length === 0) return;
    const fieldIndex = new Map<Module, number>();
    fields.forEach(([, m], i) => fieldIndex.has(m) || fieldIndex.set(m, i));
    const merged: [string, Module | null][] = [];
    let next = 0;
    const takeFreshBefore = (limit: number): void => {
      while (next < fresh.length && fieldIndex.get(fresh[next]![1])! < limit) merged.push(fresh[next++]!);
    };
    for (const [name, m] of this._modules) {
      const at = m ? fieldIndex.get(m) : undefined;
      if (at !== undefined) takeFreshBefore(at);
      merged.push([name, m]);
    }
    takeFreshBefore(Infinity);
    this._modules.clear();
    for (const [name, m] of merged) this._modules.set(name, m);
  }

  /** The registered children in order, with duplicates and nulls (containers index them). */
  protected registeredModules(): [string, Module | null][] {
    this.syncFields();
    return [...this._modules];
  }

  /** The registered parameter `name` of this module itself (null when absent or None). */
  protected ownParameter(name: string): Tensor | null {
    return this._parameters.get(name) ?? null;
  }

  /** The registered buffer `name` of this module itself (null when absent or None). */
  protected ownBuffer(name: string): Tensor | null {
    return this._buffers.get(name) ?? null;
  }

  // ---- traversal ----

  /**
   * This module and every descendant with its dotted name (`""` for this one), pre-order.
   *
   * ```ts
   * new Sequential(new Linear(2, 2)).namedModules().map(([n]) => n); // ['', '0']
   * ```
   */
  namedModules(opts: Omit<NamedOptions, 'recurse'> = {}): [string, Module][] {
    const out: [string, Module][] = [];
    const memo = new Set<Module>();
    const dedupe = opts.removeDuplicate ?? true;
    const visit = (m: Module, prefix: string): void => {
      if (dedupe && memo.has(m)) return;
      memo.add(m);
      out.push([prefix, m]);
      m.syncFields();
      for (const [name, child] of m._modules) if (child) visit(child, prefix ? `${prefix}.${name}` : name);
    };
    visit(this, opts.prefix ?? '');
    return out;
  }

  /**
   * This module and every descendant, pre-order.
   *
   * ```ts
   * model.modules().filter((m) => m instanceof Linear).length;
   * ```
   */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /**
   * The direct children with their names.
   *
   * ```ts
   * new Sequential(new Linear(2, 2), new ReLU()).namedChildren().map(([n]) => n); // ['0', '1']
   * ```
   */
  namedChildren(): [string, Module][] {
    this.syncFields();
    const out: [string, Module][] = [];
    const memo = new Set<Module>();
    for (const [name, m] of this._modules) {
      if (m && !memo.has(m)) {
        memo.add(m);
        out.push([name, m]);
      }
    }
    return out;
  }

  /**
   * The direct children.
   *
   * ```ts
   * for (const child of model.children()) console.log(child.moduleName());
   * ```
   */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  private namedMembers(which: '_parameters' | '_buffers', opts: NamedOptions, keep: (m: Module, name: string) => boolean): [string, Tensor][] {
    const recurse = opts.recurse ?? true;
    const dedupe = opts.removeDuplicate ?? true;
    const mods: [string, Module][] = recurse ? this.namedModules({ prefix: opts.prefix ?? '', removeDuplicate: dedupe }) : [[opts.prefix ?? '', this]];
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of mods) {
      for (const [name, t] of m[which]) {
        if (!t || !keep(m, name) || (dedupe && seen.has(t))) continue;
        seen.add(t);
        out.push([prefix ? `${prefix}.${name}` : name, t]);
      }
    }
    return out;
  }

  /**
   * Parameters with PyTorch's dotted names, in registration order, pre-order over modules.
   *
   * ```ts
   * new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2)).namedParameters().map(([n]) => n);
   * // ['0.weight', '0.bias', '2.weight', '2.bias']
   * ```
   */
  namedParameters(opts: NamedOptions = {}): [string, Tensor][] {
    return this.namedMembers('_parameters', opts, () => true);
  }

  /**
   * The parameters (what an optimizer trains).
   *
   * ```ts
   * const opt = new SGD(model.parameters(), { lr: 0.1 });
   * ```
   */
  parameters(recurse = true): Tensor[] {
    return this.namedParameters({ recurse }).map(([, t]) => t);
  }

  /**
   * Buffers (persistent or not) with their dotted names.
   *
   * ```ts
   * new Sequential(new BatchNorm1d(4)).namedBuffers().map(([n]) => n);
   * // ['0.running_mean', '0.running_var', '0.num_batches_tracked']
   * ```
   */
  namedBuffers(opts: NamedOptions = {}): [string, Tensor][] {
    return this.namedMembers('_buffers', opts, () => true);
  }

  /**
   * The buffers.
   *
   * ```ts
   * new BatchNorm2d(3).buffers().length; // 3
   * ```
   */
  buffers(recurse = true): Tensor[] {
    return this.namedBuffers({ recurse }).map(([, t]) => t);
  }

  /**
   * The module at a dotted path (`"encoder.0"`); `""` is this module.
   *
   * ```ts
   * const fc = model.getSubmodule('0') as Linear;
   * ```
   */
  getSubmodule(target: string): Module {
    if (target === '') return this;
    let m: Module = this;
    for (const part of target.split('.')) {
      m.syncFields();
      const next = m._modules.get(part);
      if (!next) throw new ArgumentError(`getSubmodule: ${m.moduleName()} has no submodule "${part}" (looking up "${target}")`);
      m = next;
    }
    return m;
  }

  /**
   * The parameter at a dotted path (`"encoder.0.weight"`).
   *
   * ```ts
   * model.getParameter('0.bias').shape; // [32]
   * ```
   */
  getParameter(target: string): Tensor {
    const dot = target.lastIndexOf('.');
    const m = this.getSubmodule(dot < 0 ? '' : target.slice(0, dot));
    const name = target.slice(dot + 1);
    const p = m._parameters.get(name);
    if (!p) throw new ArgumentError(`getParameter: ${m.moduleName()} has no parameter "${name}" (looking up "${target}")`);
    return p;
  }

  /**
   * The buffer at a dotted path (`"0.running_mean"`).
   *
   * ```ts
   * model.getBuffer('1.running_var').shape; // [4]
   * ```
   */
  getBuffer(target: string): Tensor {
    const dot = target.lastIndexOf('.');
    const m = this.getSubmodule(dot < 0 ? '' : target.slice(0, dot));
    const name = target.slice(dot + 1);
    const b = m._buffers.get(name);
    if (!b) throw new ArgumentError(`getBuffer: ${m.moduleName()} has no buffer "${name}" (looking up "${target}")`);
    return b;
  }

  // ---- modes and bulk operations ----

  /**
   * Sets training mode on this module and all descendants; returns this.
   *
   * ```ts
   * model.train();        // dropout active, batch norm uses batch statistics
   * model.train(false);   // same as model.eval()
   * ```
   */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new ArgumentError(`train: training mode is expected to be boolean, got ${describe(mode)}`);
    this.training = mode;
    for (const c of this.children()) c.train(mode);
    return this;
  }

  /**
   * Evaluation mode (`train(false)`): dropout is the identity, batch norm uses running stats.
   *
   * ```ts
   * model.eval();
   * ```
   */
  eval(): this {
    return this.train(false);
  }

  /**
   * Calls `fn` on every descendant (children first), then on this module; returns this.
   *
   * ```ts
   * model.apply((m) => { if (m instanceof Linear) init.zeros_(m.bias!); });
   * ```
   */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Clears the parameters' gradients: to `null` (default, as PyTorch 2), or to zeros.
   *
   * ```ts
   * model.zeroGrad();
   * ```
   */
  zeroGrad(setToNone = true): void {
    for (const p of this.parameters()) {
      const g = p.grad;
      if (!g) continue;
      p.grad = setToNone ? null : zerosLike(g);
    }
  }

  /**
   * Sets `requiresGrad` on every parameter (freezing with `false`); returns this.
   *
   * ```ts
   * backbone.requiresGrad_(false);
   * ```
   */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad_(requiresGrad);
    return this;
  }

  // ---- hooks ----

  /**
   * Registers `hook(module, args, output)`, run by `call` after `forward`; a return value
   * other than `undefined` replaces the output.
   *
   * ```ts
   * const h = layer.registerForwardHook((_m, _args, out) => { seen.push(out); });
   * h.remove();
   * ```
   */
  registerForwardHook(hook: ForwardHook): RemovableHandle {
    return addHook(this._forwardHooks, hook);
  }

  /**
   * Registers `hook(module, args)`, run by `call` before `forward`; a returned array
   * replaces the arguments.
   *
   * ```ts
   * layer.registerForwardPreHook((_m, [x]) => [(x as Tensor).mul(2)]);
   * ```
   */
  registerForwardPreHook(hook: ForwardPreHook): RemovableHandle {
    return addHook(this._forwardPreHooks, hook);
  }

  // ---- state dict ----

  /**
   * Parameters and persistent buffers by dotted name, as detached tensors, in PyTorch's
   * order (each module's parameters, then its buffers, then its children). The tensors are
   * snapshots: later in-place updates of the module do not change them.
   *
   * ```ts
   * saveFile(model.stateDict(), 'model.safetensors');
   * ```
   */
  stateDict(prefix = ''): StateDict {
    const sd: StateDict = {};
    for (const [modPrefix, m] of this.namedModules({ prefix, removeDuplicate: false })) {
      const p = modPrefix ? `${modPrefix}.` : '';
      for (const [name, t] of m._parameters) if (t) sd[p + name] = t.detach();
      for (const [name, t] of m._buffers) if (t && !m._nonPersistent.has(name)) sd[p + name] = t.detach();
    }
    return sd;
  }

  /**
   * Copies values from a state dict into the parameters and persistent buffers, in place
   * (tensors held elsewhere, e.g. by an optimizer, see the new values). Everything is
   * checked before anything is copied, so a failed load leaves the module unchanged.
   * `strict` (default): missing or unexpected keys are errors; shape mismatches always are.
   *
   * ```ts
   * model.loadStateDict(loadFile('mlp.init.safetensors'));
   * const { missingKeys } = model.loadStateDict(partial, { strict: false });
   * ```
   */
  loadStateDict(stateDict: StateDict | ReadonlyMap<string, Tensor>, opts: LoadStateDictOptions = {}): IncompatibleKeys {
    const strict = opts.strict ?? true;
    const source = opts.source ?? sourceOf(stateDict);
    const given = new Map<string, unknown>(entriesOf(stateDict));
    const expected = new Map<string, Tensor>();
    for (const [modPrefix, m] of this.namedModules({ removeDuplicate: false })) {
      const p = modPrefix ? `${modPrefix}.` : '';
      for (const [name, t] of m._parameters) if (t) expected.set(p + name, t);
      for (const [name, t] of m._buffers) if (t && !m._nonPersistent.has(name)) expected.set(p + name, t);
    }
    const missingKeys = [...expected.keys()].filter((k) => !given.has(k));
    const unexpectedKeys = [...given.keys()].filter((k) => !expected.has(k));
    const mismatches: string[] = [];
    for (const [key, own] of expected) {
      if (!given.has(key)) continue;
      const value = given.get(key);
      if (!(value instanceof Tensor)) {
        mismatches.push(`value for ${key} is not a Tensor (got ${describe(value)})`);
      } else if (!shapesEqual(value.shape, own.shape)) {
        mismatches.push(`size mismatch for ${key}: copying a param with shape ${formatType(value.type)} from checkpoint, the shape in current model is ${formatType(own.type)}.`);
      }
    }
    const keyErrors: string[] = [];
    if (strict && missingKeys.length) keyErrors.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
    if (strict && unexpectedKeys.length) keyErrors.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);
    if (keyErrors.length || mismatches.length) {
      const from = source ? ` from ${source}` : '';
      const msg = `loadStateDict: error(s) in loading state_dict for ${this.moduleName()}${from}:\n\t${[...keyErrors, ...mismatches].join('\n\t')}`;
      throw keyErrors.length ? new ArgumentError(msg) : new ShapeError(msg);
    }
    noGrad(() => {
      for (const [key, value] of given) if (value instanceof Tensor) expected.get(key)?.copy_(value);
    });
    return { missingKeys, unexpectedKeys };
  }

  // ---- printing ----

  /**
   * The class name PyTorch prints (`Linear`, `Sequential`, or a subclass's name).
   *
   * ```ts
   * new Linear(2, 2).moduleName(); // 'Linear'
   * ```
   */
  moduleName(): string {
    return this.constructor.name;
  }

  /**
   * The layer's settings in PyTorch's words, printed inside the parentheses
   * (`in_features=64, out_features=32, bias=True`). Subclasses override it.
   *
   * ```ts
   * new Linear(64, 32).extraRepr(); // 'in_features=64, out_features=32, bias=True'
   * ```
   */
  extraRepr(): string {
    return '';
  }

  /**
   * The module tree as PyTorch prints it.
   *
   * ```ts
   * String(new Sequential(new Linear(2, 2), new ReLU()));
   * // Sequential(
   * //   (0): Linear(in_features=2, out_features=2, bias=True)
   * //   (1): ReLU()
   * // )
   * ```
   */
  toString(): string {
    return this.formatTree(this.childLines());
  }

  /** `(name): repr` per child, indented for nesting. Containers may group repeats. */
  protected childLines(): string[] {
    this.syncFields();
    const lines: string[] = [];
    for (const [name, m] of this._modules) lines.push(`(${name}): ${addIndent(m ? m.toString() : 'None', 2)}`);
    return lines;
  }

  /** PyTorch's `Module.__repr__` layout around the given child lines. */
  protected formatTree(childLines: readonly string[]): string {
    const extra = this.extraRepr();
    const extraLines = extra ? extra.split('\n') : [];
    const lines = [...extraLines, ...childLines];
    let s = `${this.moduleName()}(`;
    if (lines.length) {
      if (extraLines.length === 1 && childLines.length === 0) s += extraLines[0];
      else s += `\n  ${lines.join('\n  ')}\n`;
    }
    return `${s})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

let nextHookId = 0;

function addHook<H>(hooks: Map<number, H>, hook: H): RemovableHandle {
  if (typeof hook !== 'function') throw new ArgumentError(`registerForwardHook: hook must be a function, got ${describe(hook)}`);
  const id = nextHookId++;
  hooks.set(id, hook);
  return { remove: () => void hooks.delete(id) };
}

/** @internal The [name, tensor] pairs of a record or a map of tensors, in order. */
export function entriesOf(x: Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>): [string, Tensor][] {
  return isMap(x) ? [...x.entries()] : Object.entries(x);
}

function isMap(x: object): x is ReadonlyMap<string, Tensor> {
  return x instanceof Map;
}

/** @internal A short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Tensor) return `Tensor ${formatType(v.type)}`;
  if (typeof v === 'object') return v.constructor?.name ?? 'object';
  return typeof v;
}

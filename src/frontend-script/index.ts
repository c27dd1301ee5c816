/**
 * `frontend-script`: compiles a TypeScript model file — a `Module` subclass with a
 * `forward`, or an exported function of tensors — to one IR graph without running it.
 * The supported subset and every diagnostic are listed in this folder's README.md.
 *
 * ```ts
 * import { compileModelFile, parseInputSpec } from './frontend-script/index.js';
 * const m = compileModelFile('examples/mlp/model.ts', { inputs: [parseInputSpec('x:f32[32,64]')] });
 * m.graph.params.map((p) => p.name);   // ['x', 'fc1.weight', 'fc1.bias', ...]
 * const weights = m.instantiate();      // Map { 'fc1.weight' => Tensor, ... }
 * const [logits] = runGraph(m.graph, [x, ...m.parameters.map((p) => weights.get(p.name)!)]);
 * ```
 */
import { isAbsolute, normalize } from 'node:path';
import { type ClassDeclaration, type FunctionDeclaration, type Node, type ParameterDeclaration, SyntaxKind } from 'ts-morph';
import type { Tensor } from '../frontend-eager/index.js';
import { GraphBuilder } from '../ir/builder.js';
import { ArgumentError } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { Value } from '../ir/graph.js';
import { Ops } from '../ir/lang/index.js';
import type { TensorType } from '../ir/types.js';
import type { Module } from '../stdlib-nn/module.js';
import { atNode, fail, ScriptCompileError } from './diagnostics.js';
import type { ScriptInput } from './input-spec.js';
import { type Frame, Interpreter } from './interpreter.js';
import { displayPath, Loader, type ModelFile } from './source.js';
import { ClassRef, describe, Func, type SVal } from './values.js';

export { parseInputSpec, type ScriptInput } from './input-spec.js';
export { type Diagnostic, ScriptCompileError } from './diagnostics.js';
export { MAX_UNROLL } from './interpreter.js';
export { SUPPORTED_LAYERS } from './library.js';

export interface CompileOptions {
  /** The graph's inputs, bound to forward's parameters by name when all names match, else by position. */
  inputs: ScriptInput[];
  /** The class or exported function to compile; default: the single Module subclass that no other class of the file creates, else the single exported function. */
  entry?: string;
  /** The value of `this.training` in forward code (dropout, batch norm); default false (eval mode). */
  training?: boolean;
  /**
   * Constructor arguments of the model class (numbers, strings, arrays, plain objects);
   * missing trailing ones take the constructor's default values.
   */
  args?: readonly unknown[];
}

/** A compiled model file. */
export interface CompiledModel {
  /** params: the inputs first (in order), then every parameter and buffer by PyTorch dotted name ("fc1.weight"). */
  graph: Graph;
  inputs: ScriptInput[];
  parameters: { name: string; type: TensorType; kind: 'parameter' | 'buffer' }[];
  /**
   * Creates the parameter/buffer tensors with the library's default initialization (by
   * constructing the same nn layers with the statically evaluated arguments, drawing from
   * the default generator as `new Model()` would), keyed by dotted name.
   */
  instantiate(): Map<string, Tensor>;
  /** null for an exported function */
  className: string | null;
  file: string;
}

/**
 * Compiles the model file at `path` (read from disk, with the model files it imports).
 * Locations in diagnostics and on IR nodes name files relative to the cwd.
 *
 * ```ts
 * const m = compileModelFile('examples/cnn/model.ts', { inputs: [parseInputSpec('x:f32[8,1,8,8]')] });
 * ```
 */
export function compileModelFile(path: string, opts: CompileOptions): CompiledModel {
  const loader = new Loader();
  return compile(loader.fromPath(path, isAbsolute(path) ? displayPath(path) : normalize(path)), opts);
}

/**
 * Compiles a model file given as text; `fileName` names it in locations and anchors its
 * relative imports (which are read from disk).
 *
 * ```ts
 * const m = compileModelSource(`import { F, type Tensor } from 'kiln';
 * export function act(x: Tensor): Tensor { return F.gelu(x); }`, 'act.ts', { inputs: [parseInputSpec('x:f32[4]')] });
 * ```
 */
export function compileModelSource(source: string, fileName: string, opts: CompileOptions): CompiledModel {
  const loader = new Loader();
  return compile(loader.fromSource(source, fileName), opts);
}

type Entry = { kind: 'class'; decl: ClassDeclaration; name: string } | { kind: 'function'; decl: FunctionDeclaration; name: string };

function compile(file: ModelFile, opts: CompileOptions): CompiledModel {
  const names = new Set<string>();
  for (const i of opts.inputs) {
    if (names.has(i.name)) throw new ArgumentError(`compile: input '${i.name}' is given twice`);
    names.add(i.name);
  }
  const training = opts.training ?? false;
  const entry = findEntry(file, opts.entry, new Interpreter(new GraphBuilder('probe'), new Ops(new GraphBuilder('probe')), training));
  const b = new GraphBuilder(entry.name);
  const it = new Interpreter(b, new Ops(b), training);
  const inputs = opts.inputs.map((i) => b.param(i.name, i.type));
  const forwardFrame: Frame = { scope: file.root, self: undefined, mode: 'forward' };
  const parameters: CompiledModel['parameters'] = [];

  let out: SVal;
  let site: Node;
  let instantiate = (): Map<string, Tensor> => new Map();
  if (entry.kind === 'class') {
    const construct = (interp: Interpreter): Module => {
      const args = (opts.args ?? []).map((a) => interp.fromReal(a, entry.decl, 'build'));
      return interp.modules.instantiate(new ClassRef(entry.decl, file), args, entry.decl.getNameNode() ?? entry.decl);
    };
    const model = construct(it);
    model.train(training);
    for (const [kind, members] of [['parameter', model.namedParameters()], ['buffer', model.namedBuffers()]] as const) {
      for (const [name, t] of members) {
        it.params.set(t, b.param(name, t.type));
        parameters.push({ name, type: t.type, kind });
      }
    }
    const forward = it.modules.member(new ClassRef(entry.decl, file), 'forward')?.member;
    site = forward?.getNameNode() ?? entry.decl.getNameNode() ?? entry.decl;
    const args = bindInputs(opts.inputs, inputs, forward?.getParameters() ?? [], `${entry.name}.forward`);
    out = at(site, () => it.modules.callModule(model, args, site, forwardFrame));
    instantiate = () => {
      const fresh = new Interpreter(new GraphBuilder(entry.name), new Ops(new GraphBuilder(entry.name)), training);
      const m = construct(fresh);
      return new Map([...m.namedParameters(), ...m.namedBuffers()]);
    };
  } else {
    site = entry.decl.getNameNode() ?? entry.decl;
    const fn = new Func(entry.decl, file.root, undefined, entry.name);
    const args = bindInputs(opts.inputs, inputs, entry.decl.getParameters(), `${entry.name}()`);
    out = at(site, () => it.callFunction(fn, args, site, 'forward'));
  }
  return {
    graph: b.build(outputsOf(out, site, entry)),
    inputs: [...opts.inputs],
    parameters,
    instantiate,
    className: entry.kind === 'class' ? entry.name : null,
    file: file.display,
  };
}

function at<R>(site: Node, body: () => R): R {
  try {
    return body();
  } catch (e) {
    throw atNode(site, e);
  }
}

/**
 * The inputs in the order of forward's parameters: by name when every input names one,
 * else by position. Parameters with defaults may go without an input.
 */
function bindInputs(specs: readonly ScriptInput[], values: readonly Value[], params: readonly ParameterDeclaration[], owner: string): Value[] {
  const names = params.map((p) => p.getName());
  const required = params.filter((p) => !p.hasInitializer() && !p.hasQuestionToken() && !p.isRestParameter()).length;
  const given = specs.length ? `${specs.length} (${specs.map((s) => s.name).join(', ')})` : '0';
  if (specs.length < required || (specs.length > names.length && !params.some((p) => p.isRestParameter()))) {
    throw new ArgumentError(`compile: ${owner} takes ${names.length} input${names.length === 1 ? '' : 's'} (${names.join(', ')}), got ${given}: give one --input per parameter`);
  }
  const byName = specs.length > 0 && specs.every((s) => names.includes(s.name));
  if (!byName) return [...values];
  const out: Value[] = [];
  specs.forEach((s, i) => {
    out[names.indexOf(s.name)] = values[i]!;
  });
  return out;
}

function outputsOf(v: SVal, site: Node, entry: Entry): Value[] {
  if (v instanceof Value) return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => x instanceof Value)) return v as Value[];
  const what = entry.kind === 'class' ? `${entry.name}.forward` : `${entry.name}()`;
  return fail(site, `${what} must return a tensor or an array of tensors, got ${describe(v)}`);
}

/** The class or function to compile (see `CompileOptions.entry`). */
function findEntry(file: ModelFile, name: string | undefined, it: Interpreter): Entry {
  const classes = file.classes().filter((c) => c.getName() && it.modules.isModuleClass(new ClassRef(c, file)));
  const fns = file.exportedFunctions();
  const fileError = (message: string): never => {
    throw new ScriptCompileError([{ loc: { file: file.display, line: 1, col: 1 }, message }]);
  };
  const found = (): string => [...classes.map((c) => `class ${c.getName()}`), ...fns.map((f) => `function ${f.getName()}`)].join(', ') || 'nothing';
  if (name !== undefined) {
    const c = classes.find((x) => x.getName() === name);
    if (c) return { kind: 'class', decl: c, name };
    const f = fns.find((x) => x.getName() === name);
    if (f) return { kind: 'function', decl: f, name };
    return fileError(`no Module subclass or exported function named '${name}' (found: ${found()})`);
  }
  // A class that another class of the file creates is a part, not the model.
  const created = (by: ClassDeclaration, cls: string): boolean =>
    by.getDescendantsOfKind(SyntaxKind.NewExpression).some((e) => e.getExpression().getText() === cls);
  const roots = classes.filter((c) => !classes.some((o) => o !== c && created(o, c.getName()!)));
  if (roots.length === 1) return { kind: 'class', decl: roots[0]!, name: roots[0]!.getName()! };
  if (classes.length === 0 && fns.length === 1) return { kind: 'function', decl: fns[0]!, name: fns[0]!.getName()! };
  if (classes.length === 0 && fns.length === 0) return fileError('no Module subclass and no exported function to compile');
  return fileError(`cannot tell which model to compile (found: ${found()}): pass the entry option (kiln compile --entry NAME)`);
}

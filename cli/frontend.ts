/**
 * The script compiler (src/frontend-script, ts-morph), loaded on first use so that commands
 * that only read saved graphs (`run`, `inspect x.kiln`) never pay for ts-morph.
 */
import type { Graph } from '../src/ir/graph.js';
import { withParamNames } from '../src/export/kiln-format.js';
import type { CompiledModel } from '../src/frontend-script/index.js';
import { CliError } from './errors.js';

export type { CompiledModel, ScriptInput } from '../src/frontend-script/index.js';

type ScriptFrontend = typeof import('../src/frontend-script/index.js');
let loaded: Promise<ScriptFrontend> | undefined;

/** The script compiler module, imported on first use. */
export function scriptFrontend(): Promise<ScriptFrontend> {
  loaded ??= import('../src/frontend-script/index.js');
  return loaded;
}

/** Compiles a model file for the given `--input` specs. */
export async function compileModel(file: string, specs: readonly string[], opts: { entry?: string; training?: boolean } = {}): Promise<CompiledModel> {
  const fe = await scriptFrontend();
  if (specs.length === 0) throw new CliError(`${file}: a model file needs its input types: --input x:f32[1,784]`);
  const inputs = specs.map((s) => fe.parseInputSpec(s));
  const o: Parameters<ScriptFrontend['compileModelFile']>[1] = { inputs };
  if (opts.entry !== undefined) o.entry = opts.entry;
  if (opts.training !== undefined) o.training = opts.training;
  return fe.compileModelFile(file, o);
}

/**
 * The model's graph with its params named after the inputs and the dotted parameter names,
 * so weights bind by name (ONNX initializers, the kiln format). Rebuilt only if needed.
 */
export function namedGraph(model: CompiledModel): Graph {
  const g = model.graph;
  const names = [...model.inputs.map((i) => i.name), ...model.parameters.map((p) => p.name)];
  if (names.length !== g.params.length) {
    throw new CliError(`${model.file}: the compiled graph has ${g.params.length} params for ${model.inputs.length} inputs and ${model.parameters.length} parameters`);
  }
  return withParamNames(g, names);
}

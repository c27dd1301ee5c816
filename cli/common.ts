/**
 * What several commands share: reading a model file or a saved graph, applying a
 * checkpoint, running the optimization pipeline (with `--dump-after` and `--trace-rules`),
 * and reading tensors from `.npy` / `.json` files.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Graph } from '../src/ir/graph.js';
import { parseGraph } from '../src/ir/parser.js';
import { printGraph, valueNames } from '../src/ir/printer.js';
import { formatType, typesEqual, type TensorType } from '../src/ir/types.js';
import { verifyGraph } from '../src/ir/verifier.js';
import { canonicalizeWith, canonicalRules } from '../src/passes/canonicalize.js';
import { fuse } from '../src/passes/fuse.js';
import { pipelines } from '../src/passes/index.js';
import { type Pass, runPasses } from '../src/passes/manager.js';
import { tensor } from '../src/frontend-eager/factories.js';
import type { NestedArray, Tensor } from '../src/frontend-eager/tensor.js';
import { loadFile } from '../src/stdlib-nn/safetensors.js';
import { loadNpy } from '../src/data/files.js';
import { isKilnGraphDir, loadKilnGraph } from '../src/export/kiln-format.js';
import { CliError } from './errors.js';
import { type CompiledModel, compileModel, namedGraph } from './frontend.js';

/** `--input` values accumulate: `--input x:f32[1,4] --input y:i32[1]`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A positive integer flag value (`--epochs 3`). */
export function positiveInt(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new CliError(`${flag} expects a positive integer, got '${v}'`);
    return n;
  };
}

/** A positive number flag value (`--lr 0.01`). */
export function positiveNumber(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new CliError(`${flag} expects a positive number, got '${v}'`);
    return n;
  };
}

export type OptLevel = keyof typeof pipelines;

/** `-O2`, `-O 1`, `--opt-level O0`. */
export function optLevel(v: string): OptLevel {
  const level = `O${v.replace(/^O/i, '')}`;
  if (!(level in pipelines)) throw new CliError(`-O expects 0, 1 or 2, got '${v}'`);
  return level as OptLevel;
}

/** A graph with the values of its parameters. */
export interface GraphSource {
  graph: Graph;
  /** Per graph param: the weight it is bound to, or null for an input. */
  paramNames: (string | null)[];
  weights: Map<string, Tensor>;
  /** Set when the source was a model file. */
  model: CompiledModel | null;
  /** A short name for output files (`mlp` for `examples/mlp/model.ts` or `mlp.kiln`). */
  stem: string;
}

export type SourceKind = 'model' | 'graph' | 'ir';

/** What `path` is: a model file (`.ts`), a saved graph (`.kiln/` directory) or IR text (`.kir`). */
export function sourceKind(path: string): SourceKind {
  if (!existsSync(path)) throw new CliError(`${path}: no such file or directory`);
  if (statSync(path).isDirectory()) {
    if (isKilnGraphDir(path)) return 'graph';
    throw new CliError(`${path}: a directory that is not a kiln graph (no manifest.json and graph.kir)`);
  }
  const ext = extname(path);
  if (['.ts', '.mts', '.tsx'].includes(ext)) return 'model';
  if (ext === '.kir' || ext === '.ir') return 'ir';
  throw new CliError(`${path}: expected a model file (.ts), a saved graph (.kiln directory) or IR text (.kir)`);
}

/** A short name for output files: `mlp` for `examples/mlp/model.ts` or `mlp.kiln`. */
export function stemOf(path: string): string {
  const base = basename(path.replace(/\/+$/, ''));
  const stem = base.replace(/\.(kiln|kir|ir|ts|mts|tsx)$/, '');
  // `examples/mlp/model.ts` → `mlp`: a file called model.ts is named by its folder.
  if (stem === 'model' || stem === 'index') {
    const parent = basename(path.slice(0, path.length - base.length - 1) || '.');
    if (parent && parent !== '.' && parent !== '..') return parent;
  }
  return stem;
}

export interface LoadOptions {
  inputs?: readonly string[];
  entry?: string;
  /** A safetensors checkpoint whose values replace the parameters. */
  weights?: string;
  training?: boolean;
}

/** Loads a model file (compiled, parameters instantiated), a saved graph, or IR text. */
export async function loadSource(path: string, opts: LoadOptions = {}): Promise<GraphSource> {
  const kind = sourceKind(path);
  let src: GraphSource;
  if (kind === 'model') {
    const model = await compileModel(path, opts.inputs ?? [], { ...(opts.entry ? { entry: opts.entry } : {}), ...(opts.training !== undefined ? { training: opts.training } : {}) });
    const graph = namedGraph(model);
    src = {
      graph,
      paramNames: graph.params.map((p, i) => (i < model.inputs.length ? null : p.name!)),
      weights: model.instantiate(),
      model,
      stem: stemOf(path),
    };
  } else {
    if (opts.inputs?.length) throw new CliError(`--input is for model files; ${path} already has typed inputs`);
    if (kind === 'graph') {
      const g = loadKilnGraph(path);
      src = { graph: g.graph, paramNames: g.manifest.params.map((p) => (p.kind === 'parameter' ? p.name : null)), weights: new Map(g.weights), model: null, stem: stemOf(path) };
    } else {
      const graph = parseGraph(readFileSync(path, 'utf8'), path);
      verifyGraph(graph);
      src = { graph, paramNames: graph.params.map(() => null), weights: new Map(), model: null, stem: stemOf(path) };
    }
  }
  if (opts.weights) applyCheckpoint(src, opts.weights, kind === 'ir');
  return src;
}

/**
 * Replaces the parameters with a checkpoint's values. Strict, like `loadStateDict`: every
 * parameter must be there with its type, and every tensor in the file must be used. For
 * IR text, params named like a tensor in the file become parameters.
 */
function applyCheckpoint(src: GraphSource, path: string, bindByName: boolean): void {
  const ckpt = loadFile(path);
  if (bindByName) {
    src.paramNames = src.graph.params.map((p) => (p.name !== undefined && p.name in ckpt ? p.name : null));
  }
  const wanted = new Map<string, TensorType>();
  src.graph.params.forEach((p, i) => {
    const n = src.paramNames[i];
    if (n) wanted.set(n, p.type);
  });
  const missing = [...wanted.keys()].filter((n) => !(n in ckpt));
  const unexpected = Object.keys(ckpt).filter((n) => !wanted.has(n));
  if (missing.length || unexpected.length) {
    const parts = [];
    if (missing.length) parts.push(`missing ${missing.map((n) => `'${n}'`).join(', ')}`);
    if (unexpected.length) parts.push(`unexpected ${unexpected.map((n) => `'${n}'`).join(', ')}`);
    throw new CliError(`--weights ${path} does not fit the model: ${parts.join('; ')}`);
  }
  for (const [name, type] of wanted) {
    const t = ckpt[name]!;
    if (!typesEqual(t.type, type)) throw new CliError(`--weights ${path}: '${name}' is ${formatType(t.type)}, the model expects ${formatType(type)}`);
    src.weights.set(name, t);
  }
}

/** The values a graph needs for its parameters, in the order `paramNames` lists them. */
export function weightsOf(src: GraphSource): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const n of src.paramNames) {
    if (!n) continue;
    const w = src.weights.get(n);
    if (!w) throw new CliError(`no value for parameter '${n}'`);
    out.set(n, w);
  }
  return out;
}

export interface OptimizeOptions {
  level: OptLevel;
  dumpAfter?: string;
  traceRules?: boolean;
  /** Where dumps and traces go (default stdout for dumps, stderr for traces). */
  dump?: (text: string) => void;
  trace?: (text: string) => void;
}

/** Runs the pass pipeline of `level`; `dumpAfter` prints the graph after that pass. */
export function optimize(graph: Graph, opts: OptimizeOptions): Graph {
  const log = opts.trace ?? ((t: string) => process.stderr.write(`${t}\n`));
  const dump = opts.dump ?? ((t: string) => process.stdout.write(t));
  let fired = new Map<string, number>();
  const passes: Pass[] = pipelines[opts.level].map((p) =>
    opts.traceRules && p.name === 'canonicalize' ? canonicalizeWith(canonicalRules, (rule) => fired.set(rule, (fired.get(rule) ?? 0) + 1)) : p,
  );
  const names = new Set([...passes.map((p) => p.name), 'fuse']);
  if (opts.dumpAfter !== undefined && !names.has(opts.dumpAfter)) {
    throw new CliError(`--dump-after: no pass '${opts.dumpAfter}' in the -${opts.level} pipeline (passes: ${[...names].join(', ')})`);
  }
  const pipelineOpts: Parameters<typeof runPasses>[2] = {
    verify: true,
    dump: (name, text) => dump(`// after ${name}\n${text}`),
    trace: (name, before, after) => {
      if (!opts.traceRules) return;
      const rules = [...fired].map(([r, n]) => `${r} x${n}`).join(', ');
      log(`// ${name}: ${before.nodes.length} -> ${after.nodes.length} nodes${rules ? `; rules fired: ${rules}` : ''}`);
      fired = new Map();
    },
  };
  if (opts.dumpAfter !== undefined) pipelineOpts.dumpAfter = opts.dumpAfter;
  const out = runPasses(graph, passes, pipelineOpts);
  if (opts.dumpAfter === 'fuse') dump(`// after fuse\n${scheduleText(out)}`);
  return out;
}

/**
 * What fusion makes of a graph (the backends' next stage): the IR, then one line per kernel
 * naming the values it computes; the last one is what it writes.
 */
export function scheduleText(graph: Graph): string {
  const schedule = fuse(graph);
  const names = valueNames(schedule.graph);
  const lines = schedule.kernels.map((k, i) => {
    const reads = k.inputs.map((v) => names.get(v)).join(', ');
    return `// kernel ${i} (${k.kind}): ${k.fused.map((n) => names.get(n.out)).join(' ')}${reads ? `  reads ${reads}` : ''}`;
  });
  return `${printGraph(schedule.graph)}${lines.join('\n')}\n`;
}

/** The IR text of a graph. */
export function irText(graph: Graph): string {
  return printGraph(graph);
}

/**
 * Reads one tensor from `.npy` (any dtype NumPy writes that kiln stores) or `.json` (nested
 * arrays of numbers) as `type`; JSON numbers take the expected dtype.
 */
export function readTensorFile(path: string, type: TensorType, who: string): Tensor {
  if (!existsSync(path)) throw new CliError(`${who}: ${path}: no such file`);
  let t: Tensor;
  if (path.endsWith('.npy')) {
    t = loadNpy(path);
    if (t.dtype !== type.dtype && t.dtype !== 'bool') t = t.to(type.dtype);
  } else if (path.endsWith('.json')) {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new CliError(`${who}: ${path}: invalid JSON: ${(e as Error).message}`);
    }
    t = tensor(data as NestedArray, { dtype: type.dtype });
  } else {
    throw new CliError(`${who}: ${path}: expected a .npy or .json file`);
  }
  if (!typesEqual(t.type, type)) throw new CliError(`${who}: ${path} holds ${formatType(t.type)}, expected ${formatType(type)}`);
  return t;
}


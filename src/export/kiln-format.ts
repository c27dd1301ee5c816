/**
 * kiln's graph format: a directory `<name>.kiln/` holding
 *
 *   graph.kir           the optimized graph as IR text (`printGraph`)
 *   weights.safetensors the parameters, by name
 *   manifest.json       format version, the graph's inputs, outputs and parameters
 *
 * The graph's params are bound by position: `manifest.params[i]` says whether graph param
 * `i` is an input (given to `run`) or a parameter (read from `weights.safetensors` under
 * its name). NOTE: names are kept in the manifest, not taken from the IR text, because the
 * printer renames params that are not identifiers (`0.weight` prints as `%arg1`).
 *
 * ```ts
 * saveKilnGraph('mlp.kiln', graph, new Map([['fc1.weight', w1], ['fc1.bias', b1]]));
 * const m = loadKilnGraph('mlp.kiln');
 * const [logits] = m.run({ x: tensor([[...]]) });
 * ```
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { KilnError } from '../ir/errors.js';
import { GraphBuilder } from '../ir/builder.js';
import type { Graph } from '../ir/graph.js';
import { inlineGraph } from '../ir/inline.js';
import type { NDArray } from '../ir/ndarray.js';
import { parseGraph } from '../ir/parser.js';
import { printGraph } from '../ir/printer.js';
import { DTYPES, type DType, formatType, type TensorType, typesEqual } from '../ir/types.js';
import { verifyGraph } from '../ir/verifier.js';
import { getBackend, setBackend, type Backend } from '../runtime/backend.js';
import { fromStorage, tensor } from '../frontend-eager/factories.js';
import { type NestedArray, Tensor } from '../frontend-eager/tensor.js';
import { parseSafetensors, serializeSafetensors } from '../stdlib-nn/safetensors.js';

/** The `format` field of every manifest, and the version this module writes and reads. */
export const KILN_GRAPH_FORMAT = 'kiln-graph';
export const KILN_GRAPH_VERSION = 1;

/** A saved graph that cannot be read: missing files, a newer version, weights that do not fit. */
export class KilnFormatError extends KilnError {}

export interface ManifestValue {
  readonly name: string;
  /** IR type syntax: `f32[1,64]`. */
  readonly type: string;
}

export interface ManifestParam extends ManifestValue {
  readonly kind: 'input' | 'parameter';
}

export interface KilnManifest {
  readonly format: typeof KILN_GRAPH_FORMAT;
  readonly version: number;
  /** The graph's name (`func @name`). */
  readonly name: string;
  /** Graph params in order: inputs and parameters. */
  readonly params: readonly ManifestParam[];
  readonly inputs: readonly ManifestValue[];
  readonly outputs: readonly ManifestValue[];
  /** Parameter names, in graph param order (the keys of `weights.safetensors`). */
  readonly parameters: readonly string[];
}

/** What `run` accepts for one input: a tensor, an array, or nested numbers. */
export type InputValue = Tensor | NDArray | NestedArray;

export interface LoadedKilnGraph {
  readonly graph: Graph;
  readonly weights: ReadonlyMap<string, Tensor>;
  readonly manifest: KilnManifest;
  /** Runs the graph on inputs given by name (or in `manifest.inputs` order); one tensor per output. */
  run(inputs: Readonly<Record<string, InputValue>> | readonly InputValue[]): Tensor[];
}

export interface SaveOptions {
  /**
   * The name of each graph param that is a parameter (null for an input), when the params'
   * own names are not the weights' keys. Default: a param is a parameter iff `weights` has
   * its name.
   */
  readonly paramNames?: readonly (string | null)[];
  /** Output names (default `out0`, `out1`, ...). */
  readonly outputNames?: readonly string[];
}

export interface LoadOptions {
  /** The backend that runs the graph (default: the current one, `js` unless set). */
  readonly backend?: string;
}

/** The three files of a saved graph, as text and bytes (what `saveKilnGraph` writes). */
export interface KilnGraphFiles {
  readonly 'graph.kir': string;
  readonly 'weights.safetensors': Uint8Array;
  readonly 'manifest.json': string;
}

function toTensor(v: NDArray | Tensor): Tensor {
  return v instanceof Tensor ? v : fromStorage(v.data, v.shape, { dtype: v.dtype });
}

/** Serializes a graph and its weights into the format's three files (no file system). */
export function encodeKilnGraph(graph: Graph, weights: ReadonlyMap<string, NDArray | Tensor>, opts: SaveOptions = {}): KilnGraphFiles {
  const names = opts.paramNames ?? graph.params.map((p) => (p.name !== undefined && weights.has(p.name) ? p.name : null));
  if (names.length !== graph.params.length) {
    throw new KilnFormatError(`saveKilnGraph: paramNames has ${names.length} entries for the ${graph.params.length} params of @${graph.name}`);
  }
  const params: ManifestParam[] = [];
  const stored = new Map<string, Tensor>();
  graph.params.forEach((p, i) => {
    const weightName = names[i];
    if (weightName === null || weightName === undefined) {
      params.push({ name: p.name ?? `arg${i}`, type: formatType(p.type), kind: 'input' });
      return;
    }
    const w = weights.get(weightName);
    if (!w) throw new KilnFormatError(`saveKilnGraph: no weight named '${weightName}' for param ${i} of @${graph.name} (${formatType(p.type)})`);
    const t = toTensor(w);
    if (!typesEqual(t.type, p.type)) {
      throw new KilnFormatError(`saveKilnGraph: weight '${weightName}' is ${formatType(t.type)} but param ${i} of @${graph.name} is ${formatType(p.type)}`);
    }
    if (stored.has(weightName)) throw new KilnFormatError(`saveKilnGraph: weight '${weightName}' is bound to two params of @${graph.name}`);
    stored.set(weightName, t);
    params.push({ name: weightName, type: formatType(p.type), kind: 'parameter' });
  });
  const outputNames = opts.outputNames ?? graph.outputs.map((_, i) => `out${i}`);
  if (outputNames.length !== graph.outputs.length) {
    throw new KilnFormatError(`saveKilnGraph: ${outputNames.length} output names for the ${graph.outputs.length} outputs of @${graph.name}`);
  }
  const manifest: KilnManifest = {
    format: KILN_GRAPH_FORMAT,
    version: KILN_GRAPH_VERSION,
    name: graph.name,
    params,
    inputs: params.filter((p) => p.kind === 'input').map(({ name, type }) => ({ name, type })),
    outputs: graph.outputs.map((v, i) => ({ name: outputNames[i]!, type: formatType(v.type) })),
    parameters: params.filter((p) => p.kind === 'parameter').map((p) => p.name),
  };
  return {
    'graph.kir': printGraph(graph),
    'weights.safetensors': serializeSafetensors(stored, { format: KILN_GRAPH_FORMAT }),
    'manifest.json': `${JSON.stringify(manifest, null, 2)}\n`,
  };
}

/**
 * Saves `graph` and its `weights` as a kiln graph directory, atomically: the files are
 * written into a temporary folder beside `dir`, which is then renamed to `dir` (an
 * existing `dir` is moved aside first and removed after), so `dir` never holds a mix of
 * old and new files.
 */
export function saveKilnGraph(dir: string, graph: Graph, weights: ReadonlyMap<string, NDArray | Tensor>, opts: SaveOptions = {}): void {
  const files = encodeKilnGraph(graph, weights, opts);
  const target = resolve(dir);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  if (existsSync(target) && !statSync(target).isDirectory()) {
    throw new KilnFormatError(`saveKilnGraph: ${dir} exists and is not a directory`);
  }
  const tmp = mkdtempSync(join(parent, `.${basename(target)}.tmp-`));
  try {
    chmodSync(tmp, 0o755); // NOTE: mkdtemp makes it private (0700); a saved graph is an ordinary folder
    for (const [name, data] of Object.entries(files)) writeFileSync(join(tmp, name), data as string | Uint8Array);
    if (existsSync(target)) {
      const old = mkdtempSync(join(parent, `.${basename(target)}.old-`));
      rmSync(old, { recursive: true });
      renameSync(target, old);
      renameSync(tmp, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, target);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Parses IR type syntax (`f32[1,64]`, `i32[]`). */
export function parseTypeText(text: string, where: string): TensorType {
  const m = /^(\w+)\[([\d,\s]*)\]$/.exec(text.trim());
  if (!m || !DTYPES.includes(m[1] as DType)) throw new KilnFormatError(`${where}: '${text}' is not a type like f32[1,64]`);
  const dims = m[2]!.trim() === '' ? [] : m[2]!.split(',').map((d) => Number(d.trim()));
  return { dtype: m[1] as DType, shape: dims };
}

function checkManifest(raw: unknown, where: string): KilnManifest {
  const m = raw as Partial<KilnManifest> | null;
  if (!m || typeof m !== 'object' || m.format !== KILN_GRAPH_FORMAT) {
    throw new KilnFormatError(`${where}: not a kiln graph manifest (expected "format": "${KILN_GRAPH_FORMAT}")`);
  }
  if (typeof m.version !== 'number' || m.version > KILN_GRAPH_VERSION) {
    throw new KilnFormatError(`${where}: format version ${String(m.version)} is newer than this kiln reads (${KILN_GRAPH_VERSION}); upgrade kiln`);
  }
  if (!Array.isArray(m.params) || !Array.isArray(m.outputs)) throw new KilnFormatError(`${where}: missing "params" or "outputs"`);
  return m as KilnManifest;
}

/** Rebuilds a saved graph from its three files (no file system); `where` names it in errors. */
export function decodeKilnGraph(files: KilnGraphFiles, where = '<kiln graph>', opts: LoadOptions = {}): LoadedKilnGraph {
  let raw: unknown;
  try {
    raw = JSON.parse(files['manifest.json']);
  } catch (e) {
    throw new KilnFormatError(`${where}/manifest.json: invalid JSON: ${(e as Error).message}`);
  }
  const manifest = checkManifest(raw, `${where}/manifest.json`);
  const parsed = parseGraph(files['graph.kir'], `${where}/graph.kir`);
  verifyGraph(parsed);
  if (manifest.params.length !== parsed.params.length) {
    throw new KilnFormatError(`${where}: manifest lists ${manifest.params.length} params, graph.kir has ${parsed.params.length}`);
  }
  // The IR text may have renamed params (`%arg1` for `0.weight`); the manifest has the names.
  const graph = withParamNames(parsed, manifest.params.map((p) => p.name));
  const stored = parseSafetensors(files['weights.safetensors'], `${where}/weights.safetensors`);
  const weights = new Map<string, Tensor>();
  manifest.params.forEach((p, i) => {
    const type = graph.params[i]!.type;
    if (p.type !== formatType(type)) {
      throw new KilnFormatError(`${where}: manifest says param '${p.name}' is ${p.type}, graph.kir says ${formatType(type)}`);
    }
    if (p.kind !== 'parameter') return;
    const w = stored[p.name];
    if (!w) throw new KilnFormatError(`${where}/weights.safetensors: missing weight '${p.name}' (${p.type})`);
    if (!typesEqual(w.type, type)) throw new KilnFormatError(`${where}/weights.safetensors: weight '${p.name}' is ${formatType(w.type)}, the graph expects ${p.type}`);
    weights.set(p.name, w);
  });
  const backend = pickBackend(opts.backend);
  const weightArrays = new Map([...weights].map(([k, t]) => [k, ndarrayOf(t)]));
  const inputParams = manifest.params.map((p, i) => ({ ...p, index: i })).filter((p) => p.kind === 'input');
  let exe: ReturnType<Backend['compile']> | null = null;
  return {
    graph,
    weights,
    manifest,
    run(inputs) {
      const given = Array.isArray(inputs)
        ? Object.fromEntries((inputs as readonly InputValue[]).map((v, i) => [inputParams[i]?.name ?? `#${i}`, v]))
        : (inputs as Readonly<Record<string, InputValue>>);
      for (const k of Object.keys(given)) {
        if (!inputParams.some((p) => p.name === k)) {
          throw new KilnFormatError(`run @${graph.name}: unexpected input '${k}' (inputs: ${describeInputs(manifest)})`);
        }
      }
      const args = manifest.params.map((p, i) => {
        if (p.kind === 'parameter') return weightArrays.get(p.name)!;
        const v = given[p.name];
        if (v === undefined) throw new KilnFormatError(`run @${graph.name}: missing input '${p.name}' (inputs: ${describeInputs(manifest)})`);
        return inputArray(v, graph.params[i]!.type, `run @${graph.name}: input '${p.name}'`);
      });
      exe ??= backend.compile(graph);
      return exe.run(args).map((o) => fromStorage(o.data, o.shape, { dtype: o.dtype }));
    },
  };
}

/** `g` with its params renamed (rebuilt only when a name differs). */
export function withParamNames(g: Graph, names: readonly string[]): Graph {
  if (names.length !== g.params.length) throw new KilnFormatError(`withParamNames: ${names.length} names for the ${g.params.length} params of @${g.name}`);
  if (g.params.every((p, i) => p.name === names[i])) return g;
  const b = new GraphBuilder(g.name);
  const params = g.params.map((p, i) => b.param(names[i]!, p.type));
  return b.build(inlineGraph(b, g, params));
}

function describeInputs(m: KilnManifest): string {
  return m.inputs.map((i) => `${i.name}: ${i.type}`).join(', ') || 'none';
}

function ndarrayOf(t: Tensor): NDArray {
  return { dtype: t.dtype, shape: t.shape, data: t.data() };
}

function inputArray(v: InputValue, type: TensorType, who: string): NDArray {
  let t: Tensor;
  if (v instanceof Tensor) t = v;
  else if (typeof v === 'object' && v !== null && !Array.isArray(v) && 'data' in v) t = toTensor(v);
  else t = tensor(v as NestedArray, { dtype: type.dtype });
  if (!typesEqual(t.type, type)) throw new KilnFormatError(`${who} must be ${formatType(type)}, got ${formatType(t.type)}`);
  return ndarrayOf(t);
}

function pickBackend(name: string | undefined): Backend {
  if (name === undefined) return getBackend();
  const previous = getBackend();
  const chosen = setBackend(name);
  setBackend(previous.name); // NOTE: loading a graph must not change what eager tensors run on
  return chosen;
}

/** Loads a graph saved by `saveKilnGraph`; `run` executes it on the js backend by default. */
export function loadKilnGraph(dir: string, opts: LoadOptions = {}): LoadedKilnGraph {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new KilnFormatError(`loadKilnGraph: ${dir} is not a kiln graph directory (expected ${dir}/graph.kir, weights.safetensors, manifest.json)`);
  }
  const read = (name: keyof KilnGraphFiles): Buffer => {
    const p = join(dir, name);
    if (!existsSync(p)) throw new KilnFormatError(`loadKilnGraph: ${dir} has no ${name}`);
    return readFileSync(p);
  };
  const files: KilnGraphFiles = {
    'graph.kir': read('graph.kir').toString('utf8'),
    'weights.safetensors': new Uint8Array(read('weights.safetensors')),
    'manifest.json': read('manifest.json').toString('utf8'),
  };
  return decodeKilnGraph(files, dir.replace(/\/+$/, ''), opts);
}

/** Whether `path` looks like a saved kiln graph (a directory with a manifest). */
export function isKilnGraphDir(path: string): boolean {
  return existsSync(join(path, 'manifest.json')) && existsSync(join(path, 'graph.kir'));
}

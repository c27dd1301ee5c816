/**
 * Standalone ES module export: the optimized graph's kernels as generated JavaScript, the
 * weights inlined as base64, and a small executor over the memory plan, in one file with
 * no imports. The module runs in Node and in browsers, and as a command-line program.
 *
 * The generated module exports
 * - `signature`: `{ name, inputs: [{name, dtype, shape}], outputs: [...] }`;
 * - `run(inputs)`: synchronous; `inputs` maps each input name to a typed array (f32 →
 *   Float32Array, i32 → Int32Array, bool → Uint8Array) or a (nested) number array, row-major;
 *   returns `{ out0, out1, ... }`, fresh typed arrays;
 * - `load()`: async; swaps in WASM kernels where the exporter inlined some (see `EsmOptions.wasm`)
 *   and resolves to `{ run, signature }`. `run` works without it, on the JS kernels.
 *
 * ```ts
 * writeFileSync('mlp.mjs', toStandaloneEsm(graph, weights));
 * // node mlp.mjs '{"x": [[0.1, 0.2, ...], ...]}'  prints {"out0": {"dtype":"f32","shape":[4,10],"data":[...]}}
 * ```
 */
import { kernelSource } from '../codegen-js/js-kernel.js';
import { ArgumentError } from '../ir/errors.js';
import type { Graph, Value } from '../ir/graph.js';
import { isOpName } from '../ir/ops/index.js';
import type { Kernel } from '../ir/schedule.js';
import type { DType } from '../ir/types.js';
import { formatType, numel } from '../ir/types.js';
import { fuse, pipelines, planMemory, runPasses } from '../passes/index.js';
import { HELPERS_SOURCE, MAIN_SOURCE, SUPPORT_SOURCE } from './esm-runtime.js';
import { bindParams, littleEndianBytes, toBase64, type Weights } from './weights.js';

/** A WebAssembly version of one kernel, inlined next to its JS fallback. */
export interface WasmKernel {
  /** The module's bytes (inlined as base64). */
  readonly bytes: Uint8Array;
  /**
   * JS source of an async function `(bytes: Uint8Array) => kernel | null`: it instantiates
   * the module and returns a function with the JS kernel's signature `(out, x0, x1, ...)`
   * over typed arrays, or null to keep the JS kernel (e.g. no SIMD on this host).
   */
  readonly bind: string;
}

export interface EsmOptions {
  /** The model's name in the module's messages (default: the graph's name). */
  name?: string;
  /** Names of the outputs (default `out0`, `out1`, ...). */
  outputNames?: readonly string[];
  /** Hook for WASM kernels: called per kernel (in execution order); null keeps JS only. */
  wasm?: (kernel: Kernel, step: number) => WasmKernel | null;
}

const ARRAY: Record<DType, string> = { f32: 'Float32Array', i32: 'Int32Array', bool: 'Uint8Array' };

const indent = (text: string, pad: string): string =>
  text
    .split('\n')
    .map((l) => (l ? pad + l : l))
    .join('\n');

/** A comment-safe one-line label. */
const label = (s: string): string => s.replace(/\*\//g, '* /').replace(/\s+/g, ' ');

function kernelLabel(k: Kernel): string {
  const extra = k.fused.length > 1 ? `+${k.fused.length - 1}` : '';
  const trans = k.transA || k.transB ? ` (${k.transA ? 'Aᵀ' : 'A'}·${k.transB ? 'Bᵀ' : 'B'})` : '';
  return `${k.kind} ${k.node.op}${extra} -> ${formatType(k.node.out.type)}${trans}`;
}

/**
 * Writes `graph`, optimized (O2) and fused, as the source of one zero-dependency ES module
 * (see the file comment for its interface). Parameters named in `weights` are inlined; the
 * others are the module's inputs, in parameter order.
 */
export function toStandaloneEsm(graph: Graph, weights: Weights, opts: EsmOptions = {}): string {
  for (const n of graph.nodes) {
    if (!isOpName(n.op)) throw new ArgumentError(`toStandaloneEsm: op '${String(n.op)}' has no kernel (it computes %${n.out.id} : ${formatType(n.out.type)})`);
  }
  const g = runPasses(graph, pipelines.O2);
  const bound = bindParams('toStandaloneEsm', g, weights, opts.outputNames);
  const schedule = fuse(g);
  const plan = planMemory(schedule);
  const name = opts.name ?? graph.name;

  // Where each materialized value lives: I[i] inputs, W[i] weights, O[i] outputs, S[i] slots.
  const inputIndex = new Map(bound.inputs.map((p, i) => [p, i]));
  const weightIndex = new Map([...bound.weights.keys()].map((p, i) => [p, i]));
  const outputIndex = new Map<Value, number>();
  g.outputs.forEach((v, i) => {
    if (!outputIndex.has(v) && !inputIndex.has(v) && !weightIndex.has(v)) outputIndex.set(v, i);
  });
  const loc = (v: Value): string => {
    const i = inputIndex.get(v) ?? weightIndex.get(v);
    if (i !== undefined) return `${inputIndex.has(v) ? 'I' : 'W'}[${i}]`;
    const o = outputIndex.get(v);
    return o !== undefined ? `O[${o}]` : `S[${plan.slotOf.get(v)!}]`;
  };

  // Kernels: one function per distinct source; K maps steps to them (and to WASM, after load()).
  const sources: string[] = [];
  const labels: string[] = [];
  const fnOf = schedule.kernels.map((k) => {
    const src = kernelSource(k);
    let i = sources.indexOf(src);
    if (i < 0) {
      i = sources.push(src) - 1;
      labels.push(kernelLabel(k));
    }
    return i;
  });
  const wasm = schedule.kernels.flatMap((k, step) => {
    const w = opts.wasm?.(k, step);
    return w ? [`  { step: ${step}, bytes: '${toBase64(w.bytes)}', bind: ${w.bind.trim()} },`] : [];
  });

  // Weights: one little-endian blob, each tensor 8-byte aligned.
  let offset = 0;
  const layout = [...bound.weights].map(([p, data]) => {
    const at = offset;
    offset += Math.ceil(data.byteLength / 8) * 8;
    return { p, data, at };
  });
  const blob = new Uint8Array(offset);
  for (const { data, at } of layout) blob.set(littleEndianBytes(data), at);

  const spec = (v: Value, n: string) => ({ name: n, dtype: v.type.dtype, shape: [...v.type.shape] });
  const signature = {
    name,
    inputs: bound.inputs.map((p) => spec(p, bound.paramNames.get(p)!)),
    outputs: g.outputs.map((v, i) => spec(v, bound.outputNames[i]!)),
  };

  const steps = schedule.kernels.map((k, i) => `  K[${i}](${[loc(k.node.out), ...k.inputs.map(loc)].join(', ')}); // ${label(kernelLabel(k))}`);
  const results = g.outputs.map((v, i) => {
    const key = JSON.stringify(bound.outputNames[i]);
    const l = loc(v);
    return `    ${key}: ${l.startsWith('O') ? l : `${l}.slice()`},`;
  });

  return [
    `// ${label(name)}: a standalone ES module generated by kiln from @${label(graph.name)}. No imports.`,
    '//',
    "//   import { run, signature } from './this-module.mjs';",
    `//   const outputs = run({ ${signature.inputs.map((s) => `${JSON.stringify(s.name)}: <${s.dtype}[${s.shape}]>`).join(', ')} });`,
    `//   node this-module.mjs '{"<input>": [...]}'   prints the outputs as JSON (--help for more)`,
    '//',
    '// run(inputs) takes typed arrays (f32: Float32Array, i32: Int32Array, bool: Uint8Array) or',
    '// number arrays, row-major, and returns fresh typed arrays. load() swaps in WASM kernels where',
    '// there are some and resolves to { run, signature }; run works without it.',
    '',
    `const MODEL = ${JSON.stringify(name)};`,
    `export const signature = ${JSON.stringify(signature)};`,
    '',
    HELPERS_SOURCE,
    '',
    SUPPORT_SOURCE,
    '',
    '// ---- kernels: generated JavaScript, shapes baked in ----',
    'const F = [',
    ...sources.map((src, i) => `  // ${i}: ${label(labels[i]!)}\n  (function (h) {\n${indent(src, '    ')}\n  })(h),`),
    '];',
    `const K = [${fnOf.map((i) => `F[${i}]`).join(', ')}];`,
    '',
    '// ---- weights: little-endian, base64 ----',
    `const WEIGHT_BYTES = decodeBase64('${toBase64(blob)}');`,
    'if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error(`${MODEL}: the inlined weights are little-endian; this host is not`);',
    'const W = [',
    ...layout.map(({ p, data, at }) => `  new ${ARRAY[p.type.dtype]}(WEIGHT_BYTES.buffer, ${at}, ${data.length}), // ${label(bound.paramNames.get(p)!)}: ${formatType(p.type)}`),
    '];',
    '',
    '// ---- buffers shared by intermediate values (memory plan) ----',
    `const S = [${plan.slots.map((s) => `new ${ARRAY[s.dtype]}(${s.size})`).join(', ')}];`,
    '',
    '// ---- WASM kernels: load() swaps them in for the JS kernels above, which stay as the fallback ----',
    'const WASM = [',
    ...wasm,
    '];',
    'let loading = null;',
    '',
    '/** Instantiates the WASM kernels (if any); resolves to { run, signature }. */',
    'export function load() {',
    '  loading ??= (async () => {',
    "    if (typeof WebAssembly === 'object') {",
    '      for (const w of WASM) {',
    '        const f = await w.bind(decodeBase64(w.bytes));',
    '        if (f) K[w.step] = f;',
    '      }',
    '    }',
    '    return { run, signature };',
    '  })();',
    '  return loading;',
    '}',
    '',
    '/** Runs the model: { input name: array } → { output name: typed array }. */',
    'export function run(inputs) {',
    "  if (typeof inputs !== 'object' || inputs === null) throw new TypeError(`${MODEL}: run expects an object of inputs`);",
    '  const I = signature.inputs.map((s) => input(inputs, s));',
    `  const O = [${g.outputs.map((v, i) => (outputIndex.get(v) === i ? `new ${ARRAY[v.type.dtype]}(${numel(v.type.shape)})` : 'null')).join(', ')}];`,
    ...steps,
    '  return {',
    ...results,
    '  };',
    '}',
    '',
    MAIN_SOURCE,
    '',
  ].join('\n');
}

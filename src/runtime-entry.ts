/**
 * `kiln/runtime`: the deployment entry point. It loads a graph saved by `kiln export
 * --format kiln` (or `saveKilnGraph`) and runs it on the js backend. It pulls in the IR
 * parser, the optimizer and the JS code generator, and NEITHER the script compiler
 * (ts-morph) NOR binaryen, so it starts fast and bundles small.
 *
 * ```ts
 * import { loadKilnGraph, tensor } from 'kiln/runtime';
 * const model = loadKilnGraph('mlp.kiln');
 * const [logits] = model.run({ x: tensor([[0, 0.5, 1, ...]]) });
 * console.log(String(logits));
 * ```
 */
export {
  decodeKilnGraph,
  type InputValue,
  isKilnGraphDir,
  KILN_GRAPH_FORMAT,
  KILN_GRAPH_VERSION,
  type KilnGraphFiles,
  type KilnManifest,
  KilnFormatError,
  loadKilnGraph,
  type LoadedKilnGraph,
  type LoadOptions,
  type ManifestParam,
  type ManifestValue,
} from './export/kiln-format.js';
export { fromStorage, tensor, type TensorOptions } from './frontend-eager/factories.js';
export { type NestedArray, Tensor } from './frontend-eager/tensor.js';
export { backendNames, setBackend } from './runtime/backend.js';
export { KilnError } from './ir/errors.js';

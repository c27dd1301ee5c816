export { type EsmOptions, toStandaloneEsm, type WasmKernel } from './esm.js';
export { type OnnxOptions, toOnnx } from './onnx.js';
export { bindParams, type BoundParams, type ExportStorage, type Weights } from './weights.js';

/**
 * `stdlib-nn`: PyTorch's `torch.nn` in TypeScript naming — `Module`, containers, layers,
 * losses, `init`, state dicts, and safetensors checkpoints.
 *
 * ```ts
 * import { nn, saveFile, loadFile } from 'kiln';
 * const model = new nn.Sequential(new nn.Linear(64, 32), new nn.ReLU(), new nn.Linear(32, 10));
 * nn.init.kaimingUniform_(model.getParameter('0.weight'), { nonlinearity: 'relu' });
 * saveFile(model.stateDict(), 'mlp.safetensors');
 * model.loadStateDict(loadFile('mlp.safetensors'));
 * ```
 */
export * from './nn.js';
export * as nn from './nn.js';
export {
  calculateFanInAndFanOut,
  calculateGain,
  constant_,
  type FanMode,
  type InitOptions,
  type KaimingOptions,
  kaimingNormal_,
  kaimingUniform_,
  type Nonlinearity,
  normal_,
  ones_,
  uniform_,
  xavierNormal_,
  xavierUniform_,
  zeros_,
} from './init.js';
export {
  loadFile,
  parseSafetensors,
  parseSafetensorsHeader,
  type SafetensorsDType,
  type SafetensorsEntry,
  type SafetensorsHeader,
  saveFile,
  serializeSafetensors,
} from './safetensors.js';

export { availableBackendNames, type Backend, backendNames, type Executable, getBackend, registerBackend, setBackend } from './backend.js';
export { ExecutableCache, structuralKey } from './cache.js';
export { interpBackend } from './interp.js';
export { debug, type DebugSettings } from './debug.js';
export { formatProfile, type KernelStat, profile, profiler } from './profiler.js';
export { prepareWasm, wasmArena, wasmBackend } from './wasm.js';
export { GpuUnavailableError, gpuUnavailableReason } from './gpu.js';

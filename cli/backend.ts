import { getBackend } from '../src/runtime/backend.js';

/**
 * Loads what the chosen backend (`name`, else KILN_BACKEND / the default) needs before a
 * command times or runs anything: the wasm backend runs JS kernels until binaryen has loaded.
 */
export async function prepareBackend(name: string | undefined): Promise<void> {
  if ((name ?? getBackend().name) === 'wasm') await (await import('../src/runtime/wasm.js')).prepareWasm();
}

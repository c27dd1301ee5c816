/**
 * PyTorch's training runs, reproduced step by step: every loss and the final parameters,
 * through the eager step and the compiled step, on every backend.
 */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackendNames, getBackend, setBackend } from '../../src/runtime/backend.js';
import { gpuUnavailableReason } from '../../src/runtime/gpu.js';
import { prepareWasm } from '../../src/runtime/wasm.js';
import { loadCases } from '../conformance/cases.js';
import { runTraining, type TrainCase } from '../conformance/training.js';

const cases = loadCases([join(resolve(import.meta.dirname, '..'), 'conformance/cases/training')]);
const initial = getBackend().name;
afterAll(() => void setBackend(initial));
// The wasm backend runs JS kernels until binaryen has loaded: load it so wasm kernels are tested.
beforeAll(() => prepareWasm());

// Every backend that can run here; with KILN_REQUIRE_GPU=1 (CI, under xvfb) the gpu one must.
if (process.env.KILN_REQUIRE_GPU === '1') {
  it('has a working gpu backend', () => expect(gpuUnavailableReason()).toBeNull());
}
const combos = availableBackendNames().flatMap((b) => (['eager', 'compiled'] as const).map((p) => [`${b}/${p}`, b, p] as const));

describe.each(combos)('training conformance (%s)', (_n, backend, path) => {
  it.each(cases.map((c) => [c.json.name, c] as const))('%s', (_name, c) => {
    setBackend(backend);
    expect(runTraining(c.json as unknown as TrainCase, c.path, path)).toBeNull();
  });
});

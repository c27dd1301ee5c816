/**
 * The public PyTorch conformance cases, one test per case and execution path, so the
 * suite fails on any regression (`npm run conformance` prints the same with details).
 */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackendNames, getBackend, setBackend } from '../../src/runtime/backend.js';
import { gpuUnavailableReason } from '../../src/runtime/gpu.js';
import { prepareWasm } from '../../src/runtime/wasm.js';
import { loadCases, type OpCase } from '../conformance/cases.js';
import { PATHS } from '../conformance/runner.js';

const cases = loadCases([join(resolve(import.meta.dirname, '..'), 'conformance/cases/ops')]);

const initial = getBackend().name;
afterAll(() => void setBackend(initial));
// The wasm backend runs JS kernels until binaryen has loaded: load it so wasm kernels are tested.
beforeAll(() => prepareWasm());

// Every backend that can run here; with KILN_REQUIRE_GPU=1 (CI, under xvfb) the gpu one must.
if (process.env.KILN_REQUIRE_GPU === '1') {
  it('has a working gpu backend', () => expect(gpuUnavailableReason()).toBeNull());
}
const combos = availableBackendNames().flatMap((b) => Object.entries(PATHS).map(([p, fn]) => [`${b}/${p}`, b, fn] as const));

describe.each(combos)('conformance (%s)', (_name, backend, path) => {
  it.each(cases.map((c) => [c.json.name, c.json] as const))('%s', (_n, json) => {
    setBackend(backend);
    expect(path(json as unknown as OpCase)).toBeNull();
  });
});

/**
 * The example model files (examples/mlp, cnn, transformer) end to end: compiled by the script
 * compiler, exported to ONNX and run in onnxruntime-node, and (the MLP) exported as a
 * standalone ES module run by plain `node` in an empty folder — each against kiln's outputs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { toStandaloneEsm } from '../../src/export/esm.js';
import { toOnnx } from '../../src/export/onnx.js';
import { manualSeed } from '../../src/frontend-eager/index.js';
import { compileModelFile, parseInputSpec } from '../../src/frontend-script/index.js';
import type { NDArray } from '../../src/ir/ndarray.js';
import { getBackend } from '../../src/runtime/backend.js';
import { maxDiff, values } from './export-fixtures.js';

const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLES = [
  ['mlp', 'x:f32[2,64]'],
  ['cnn', 'x:f32[2,1,8,8]'],
  ['transformer', 'x:f32[2,8,32]'],
] as const;

function prepare(name: string, spec: string) {
  manualSeed(7);
  const input = parseInputSpec(spec);
  const model = compileModelFile(join(ROOT, 'examples', name, 'model.ts'), { inputs: [input] });
  const weights = new Map<string, NDArray>([...model.instantiate()].map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape, data: t.data() }]));
  const n = input.type.shape.reduce((a, b) => a * b, 1);
  const x: NDArray = { dtype: 'f32', shape: input.type.shape, data: values(n, 11) };
  const args = model.graph.params.map((p, i) => (i === 0 ? x : weights.get(model.parameters[i - 1]!.name)!));
  const want = getBackend().compile(model.graph).run(args);
  const named = new Map<string, NDArray>(model.parameters.map((p, i) => [model.graph.params[i + 1]!.name!, weights.get(p.name)!]));
  return { model, x, want, named };
}

const dir = mkdtempSync(join(tmpdir(), 'kiln-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(EXAMPLES)('examples/%s', (name, spec) => {
  it('exports to ONNX that onnxruntime runs with max |diff| <= 1e-4', async () => {
    const { model, x, want, named } = prepare(name, spec);
    const session = await ort.InferenceSession.create(toOnnx(model.graph, named));
    const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', x.data as Float32Array, [...x.shape]) };
    const out = await session.run(feeds);
    const got = out[session.outputNames[0]!]!.data as Float32Array;
    expect(maxDiff(got, want[0]!.data)).toBeLessThanOrEqual(1e-4);
  });
});

describe('examples/mlp as a standalone ES module', () => {
  it('runs under plain node in an empty folder and prints kiln outputs', () => {
    const { model, x, want, named } = prepare('mlp', 'x:f32[2,64]');
    const file = join(dir, 'mlp.mjs');
    writeFileSync(file, toStandaloneEsm(model.graph, named));
    expect(readdirSync(dir)).toEqual(['mlp.mjs']);
    const inputName = model.graph.params[0]!.name!;
    const stdout = execFileSync(process.execPath, [file, JSON.stringify({ [inputName]: Array.from(x.data) })], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    const printed = JSON.parse(stdout) as Record<string, { data: number[] }>;
    expect(maxDiff(printed.out0!.data, want[0]!.data)).toBeLessThanOrEqual(1e-5);
  });
});

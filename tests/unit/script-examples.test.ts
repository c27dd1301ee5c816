/**
 * The example model files compile through the script compiler, and the compiled graphs give
 * the numbers of the same classes run eagerly (same parameters, max |diff| <= 1e-5).
 */
import { describe, expect, it } from 'vitest';
import { MLP } from '../../examples/mlp/model.js';
import { DigitsCNN } from '../../examples/cnn/model.js';
import { TransformerBlock } from '../../examples/transformer/model.js';
import { DigitsMLP } from '../../examples/digits/model.js';
import { manualSeed, randn, runGraph, type Tensor } from '../../src/index.js';
import type { nn } from '../../src/index.js';
import { compileModelFile, parseInputSpec, type CompiledModel } from '../../src/frontend-script/index.js';
import { printGraph, verifyGraph } from '../../src/ir/index.js';

/** Runs the compiled graph on `x` with the parameters of `weights` (by dotted name). */
function runCompiled(m: CompiledModel, x: Tensor, weights: Map<string, Tensor>): Tensor {
  const args = [x, ...m.parameters.map((p) => weights.get(p.name)!)];
  return runGraph(m.graph, args)[0]!;
}

function maxDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const da = a.data();
  const db = b.data();
  let m = 0;
  for (let i = 0; i < da.length; i++) m = Math.max(m, Math.abs(da[i]! - db[i]!));
  return m;
}

const cases: { name: string; file: string; input: string; make: () => nn.Module }[] = [
  { name: 'MLP', file: 'examples/mlp/model.ts', input: 'x:f32[16,64]', make: () => new MLP() },
  { name: 'DigitsCNN', file: 'examples/cnn/model.ts', input: 'x:f32[4,1,8,8]', make: () => new DigitsCNN() },
  { name: 'DigitsCNN', file: 'examples/cnn/model.ts', input: 'x:f32[3,64]', make: () => new DigitsCNN() },
  { name: 'TransformerBlock', file: 'examples/transformer/model.ts', input: 'x:f32[2,8,32]', make: () => new TransformerBlock() },
  { name: 'DigitsMLP', file: 'examples/digits/model.ts', input: 'x:f32[8,64]', make: () => new DigitsMLP() },
];

describe('script compiler: examples', () => {
  for (const c of cases) {
    it(`${c.file} compiles for ${c.input} and matches eager ${c.name}`, () => {
      const spec = parseInputSpec(c.input);
      const m = compileModelFile(c.file, { inputs: [spec] });
      expect(m.className).toBe(c.name);
      expect(m.file).toBe(c.file);
      verifyGraph(m.graph);
      const eager = c.make().eval();
      expect(m.parameters.map((p) => p.name)).toEqual([...eager.namedParameters(), ...eager.namedBuffers()].map(([n]) => n));
      expect(m.graph.params.map((p) => p.name)).toEqual([spec.name, ...m.parameters.map((p) => p.name)]);
      manualSeed(1);
      const weights = m.instantiate();
      eager.loadStateDict(Object.fromEntries(weights));
      manualSeed(2);
      const x = randn(spec.type.shape);
      const want = eager.callWith([x]) as Tensor;
      const got = runCompiled(m, x, weights);
      expect(maxDiff(got, want)).toBeLessThanOrEqual(1e-5);
    });
  }

  it('instantiate() after manualSeed draws the same weights as constructing the class', () => {
    const m = compileModelFile('examples/transformer/model.ts', { inputs: [parseInputSpec('x:f32[2,8,32]')] });
    manualSeed(7);
    const compiled = m.instantiate();
    manualSeed(7);
    const eager = new TransformerBlock();
    for (const [name, t] of eager.namedParameters()) expect(compiled.get(name)!.toArray()).toEqual(t.toArray());
  });

  it('prints the graph', () => {
    const m = compileModelFile('examples/mlp/model.ts', { inputs: [parseInputSpec('x:f32[1,64]')] });
    expect(printGraph(m.graph)).toContain('func @MLP(%x: f32[1,64], %fc1.weight: f32[128,64]');
  });
});

/**
 * The script compiler on the supported subset: compile-time if/for, helpers (same file and
 * imported model files), containers, buffers, hyperparameters, entry selection, input binding,
 * source locations on IR nodes, and equality with the same classes run eagerly.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Conv, Deep, Functional, mlpStep, Tokens } from '../fixtures/script/features.js';
import { TinyGPT } from '../fixtures/script/gpt.js';
import { manualSeed, randn, runGraph, type Tensor, tensor } from '../../src/index.js';
import type { nn } from '../../src/index.js';
import { compileModelFile, compileModelSource, type CompiledModel, parseInputSpec, ScriptCompileError } from '../../src/frontend-script/index.js';
import { formatLoc, verifyGraph } from '../../src/ir/index.js';
import { ArgumentError } from '../../src/ir/errors.js';

const FEATURES = 'tests/fixtures/script/features.ts';
const BLOCKS = 'tests/fixtures/script/blocks.ts';

function maxDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const [da, db] = [a.data(), b.data()];
  let m = 0;
  for (let i = 0; i < da.length; i++) m = Math.max(m, Math.abs(da[i]! - db[i]!));
  return m;
}

/** Runs `m` on `xs` with fresh default weights, and `eager` with the same weights; compares every output. */
function expectSameAsEager(m: CompiledModel, eager: nn.Module, xs: Tensor[]): void {
  verifyGraph(m.graph);
  manualSeed(3);
  const weights = m.instantiate();
  eager.loadStateDict(Object.fromEntries(weights));
  const got = runGraph(m.graph, [...xs, ...m.parameters.map((p) => weights.get(p.name)!)]);
  const out = eager.callWith(xs) as Tensor | Tensor[];
  const want = Array.isArray(out) ? out : [out];
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(maxDiff(g, want[i]!)).toBeLessThanOrEqual(1e-5));
}

/** `file:line:col` of the first occurrence of `needle` in `file` (optionally the n-th). */
function locIn(file: string, needle: string, nth = 0): string {
  const text = readFileSync(file, 'utf8');
  let at = -1;
  for (let i = 0; i <= nth; i++) at = text.indexOf(needle, at + 1);
  if (at < 0) throw new Error(`${needle} not in ${file}`);
  const before = text.slice(0, at).split('\n');
  return `${file}:${before.length}:${before.at(-1)!.length + 1}`;
}

describe('script compiler', () => {
  it('compiles compile-time if/for, getters, imported classes and helpers, and matches eager', () => {
    const m = compileModelFile(FEATURES, { entry: 'Deep', inputs: [parseInputSpec('x:f32[5,4]')] });
    expect(m.className).toBe('Deep');
    expect(m.parameters.filter((p) => p.kind === 'buffer').map((p) => p.name)).toEqual(['scale']);
    expect(m.parameters.map((p) => p.name)).toContain('blocks.2.outer.bias');
    manualSeed(4);
    expectSameAsEager(m, new Deep().eval(), [randn([5, 4])]);
  });

  it('takes hyperparameters from the args option', () => {
    const m = compileModelFile(FEATURES, { entry: 'Deep', args: [1], inputs: [parseInputSpec('x:f32[2,4]')] });
    expect(m.parameters.some((p) => p.name.startsWith('blocks.1.'))).toBe(false);
    const mlp = compileModelFile('examples/mlp/model.ts', { args: [64, [32, 16], 10], inputs: [parseInputSpec('x:f32[2,64]')] });
    expect(mlp.parameters.map((p) => `${p.name}:${p.type.shape.join('x')}`)).toEqual([
      'fc1.weight:32x64', 'fc1.bias:32', 'fc2.weight:16x32', 'fc2.bias:16', 'fc3.weight:10x16', 'fc3.bias:10',
    ]);
  });

  it('unrolls for loops with compile-time bounds (a hyperparameter, break and continue)', () => {
    const src = `import { nn, type Tensor } from 'kiln';
export class Net extends nn.Module {
  constructor(readonly depth = 3) {
    super();
  }
  override forward(x: Tensor): Tensor {
    for (let i = 0; i < this.depth; i++) {
      if (i === 1) continue;
      if (i >= 5) break;
      x = x.tanh();
    }
    return x;
  }
}`;
    const ops = (args: number[]): string[] => compileModelSource(src, 'net.ts', { args, inputs: [parseInputSpec('x:f32[2]')] }).graph.nodes.map((n) => n.op);
    expect(ops([])).toEqual(['tanh', 'tanh']);
    expect(ops([1])).toEqual(['tanh']);
    expect(ops([100])).toEqual(['tanh', 'tanh', 'tanh', 'tanh']);
  });

  it('gives each loop iteration its own variables, as JavaScript does (closures capture them)', () => {
    const src = `import { type Tensor } from 'kiln';
export function f(x: Tensor): Tensor {
  const scales: (() => number)[] = [];
  for (let i = 1; i <= 3; i++) scales.push(() => i);
  return scales.reduce((acc, s) => acc.mul(s()), x);
}`;
    const m = compileModelSource(src, 'f.ts', { inputs: [parseInputSpec('x:f32[1]')] });
    expect(m.graph.nodes.filter((n) => n.op === 'const').map((n) => n.attrs.value)).toEqual([1, 2, 3]);
  });

  it('branches on this.training at compile time', () => {
    const src = `import { nn, type Tensor } from 'kiln';
export class Net extends nn.Module {
  override forward(x: Tensor): Tensor {
    return this.training ? x.mul(2) : x.exp();
  }
}`;
    const ops = (training: boolean): string[] =>
      compileModelSource(src, 'net.ts', { training, inputs: [parseInputSpec('x:f32[2]')] }).graph.nodes.map((n) => n.op);
    expect(ops(false)).toEqual(['exp']);
    expect(ops(true)).toEqual(['const', 'mul']);
  });

  it('compiles Sequential, Conv1d, BatchNorm1d (eval), Dropout (eval), literal tensors and array reduce, and matches eager', () => {
    const m = compileModelFile(FEATURES, { entry: 'Conv', inputs: [parseInputSpec('x:f32[3,2,5]')] });
    manualSeed(5);
    expectSameAsEager(m, new Conv().eval(), [randn([3, 2, 5])]);
  });

  it('compiles BatchNorm in training mode with batch statistics, as the eager layer computes its output', () => {
    const src = `import { nn, type Tensor } from 'kiln';
export class BN extends nn.Module {
  bn = new nn.BatchNorm1d(3);
  override forward(x: Tensor): Tensor { return this.bn.forward(x); }
}`;
    const m = compileModelSource(src, 'bn.ts', { training: true, inputs: [parseInputSpec('x:f32[6,3]')] });
    manualSeed(6);
    const x = randn([6, 3]);
    const weights = m.instantiate();
    const [y] = runGraph(m.graph, [x, ...m.parameters.map((p) => weights.get(p.name)!)]);
    const mean = y!.mean(0).toArray() as number[];
    mean.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-5));
    expect(m.parameters.map((p) => `${p.kind}:${p.name}`)).toEqual([
      'parameter:bn.weight', 'parameter:bn.bias', 'buffer:bn.running_mean', 'buffer:bn.running_var', 'buffer:bn.num_batches_tracked',
    ]);
  });

  it('compiles Embedding over i32 inputs, arrow-function fields, methods, and several outputs', () => {
    const m = compileModelFile(FEATURES, { entry: 'Tokens', inputs: [parseInputSpec('ids:i32[2,3]')] });
    expect(m.graph.outputs.map((v) => v.type.shape)).toEqual([[2, 3, 5], [2, 5]]);
    expectSameAsEager(m, new Tokens().eval(), [tensor([[1, 2, 3], [9, 0, 4]], { dtype: 'i32' })]);
  });

  it('compiles functional code: layer weights, factories, cat/stack/where, object fields and destructuring', () => {
    const m = compileModelFile(FEATURES, { entry: 'Functional', inputs: [parseInputSpec('x:f32[5,4]')] });
    manualSeed(9);
    expectSameAsEager(m, new Functional().eval(), [randn([5, 4])]);
  });

  it('compiles a config object, registerParameter, nn.init and a ModuleList built in the constructor', () => {
    const m = compileModelFile('tests/fixtures/script/gpt.ts', { inputs: [parseInputSpec('ids:i32[2,5]')] });
    expect(m.parameters.slice(0, 3).map((p) => p.name)).toEqual(['pos', 'tok.weight', 'blocks.0.ln.weight']);
    expectSameAsEager(m, new TinyGPT().eval(), [tensor([[1, 2, 3, 4, 5], [15, 0, 7, 7, 2]], { dtype: 'i32' })]);
    // instantiate() runs nn.init.normal_ as the constructor does
    manualSeed(11);
    const pos = m.instantiate().get('pos')!;
    manualSeed(11);
    expect(pos.toArray()).toEqual(new TinyGPT().getParameter('pos').toArray());
  });

  it('uses top-level tensors registered as buffers, and ?. / ?? on compile-time values', () => {
    const src = `import { nn, ones, type Tensor } from 'kiln';
const MASK = ones([2, 3]).tril();
export class M extends nn.Module {
  mask = this.registerBuffer('mask', MASK);
  norm: nn.LayerNorm | null = null;
  override forward(x: Tensor): Tensor {
    const y = this.norm?.forward(x) ?? x.mul(MASK);
    return y.add(this.mask);
  }
}`;
    const m = compileModelSource(src, 'm.ts', { inputs: [parseInputSpec('x:f32[2,3]')] });
    expect(m.parameters).toEqual([{ name: 'mask', type: { dtype: 'f32', shape: [2, 3] }, kind: 'buffer' }]);
    const [y] = runGraph(m.graph, [tensor([[1, 2, 3], [4, 5, 6]]), m.instantiate().get('mask')!]);
    expect(y!.toArray()).toEqual([[2, 0, 0], [5, 6, 0]]);
  });

  it('compiles an exported function, binding inputs by name', () => {
    const m = compileModelFile(FEATURES, {
      entry: 'mlpStep',
      inputs: [parseInputSpec('w:f32[3,4]'), parseInputSpec('x:f32[2,4]'), parseInputSpec('b:f32[3]')],
    });
    expect(m.className).toBeNull();
    expect(m.parameters).toEqual([]);
    expect(m.instantiate().size).toBe(0);
    manualSeed(8);
    const [w, x, b] = [randn([3, 4]), randn([2, 4]), randn([3])];
    const [y] = runGraph(m.graph, [w, x, b]);
    expect(maxDiff(y!, mlpStep(x, w, b))).toBeLessThanOrEqual(1e-6);
  });

  it('picks the single exported function, and the one Module subclass no other class creates', () => {
    const fn = compileModelSource(`import { type Tensor } from 'kiln';\nexport function f(x: Tensor): Tensor { return x.exp(); }`, 'f.ts', { inputs: [parseInputSpec('x:f32[2]')] });
    expect(fn.graph.name).toBe('f');
    const tr = compileModelFile('examples/transformer/model.ts', { inputs: [parseInputSpec('x:f32[1,4,32]')] });
    expect(tr.className).toBe('TransformerBlock');
    expect(() => compileModelFile(FEATURES, { inputs: [parseInputSpec('x:f32[2,4]')] })).toThrow(
      'tests/fixtures/script/features.ts:1:1: cannot tell which model to compile (found: class Deep, class Conv, class Tokens, class Functional, function mlpStep): pass the entry option (kiln compile --entry NAME)',
    );
    expect(() => compileModelFile(FEATURES, { entry: 'Nope', inputs: [] })).toThrow("no Module subclass or exported function named 'Nope'");
  });

  it('stamps every node with the file:line:col of the call that produced it, across files', () => {
    const m = compileModelFile(FEATURES, { entry: 'Deep', inputs: [parseInputSpec('x:f32[2,4]')] });
    expect(m.graph.nodes.every((n) => n.loc !== undefined)).toBe(true);
    const locs = new Set(m.graph.nodes.map((n) => formatLoc(n.loc!)));
    // this.embed.forward(x): the linear's nodes point at `forward`
    const embed = m.graph.nodes.filter((n) => formatLoc(n.loc!) === locIn(FEATURES, 'forward(x);\n    if'));
    expect(embed.map((n) => n.op)).toContain('matmul');
    // swish's ops are in blocks.ts, where they are written
    expect(locs.has(locIn(BLOCKS, 'sigmoid()'))).toBe(true);
    expect(m.graph.nodes.find((n) => n.op === 'sigmoid')!.loc).toEqual({ file: BLOCKS, line: 6, col: 28 });
    // the closure in smooth(): t.add(x)
    expect(locs.has(locIn(FEATURES, 'add(x)'))).toBe(true);
    // the head and the buffer scale
    const mul = m.graph.nodes.at(-1)!;
    expect(mul.op).toBe('mul');
    expect(formatLoc(mul.loc!)).toBe(locIn(FEATURES, 'mul(this.scale)'));
  });

  it('names files in locations as given to compileModelSource', () => {
    const src = `import { type Tensor } from 'kiln';\nexport function f(x: Tensor): Tensor {\n  return x.tanh();\n}\n`;
    const m = compileModelSource(src, 'my/model.ts', { inputs: [parseInputSpec('x:f32[2]')] });
    expect(m.file).toBe('my/model.ts');
    expect(m.graph.nodes[0]!.loc).toEqual({ file: 'my/model.ts', line: 3, col: 12 });
  });

  it('reports library errors (shapes, layer arguments) at the call that caused them', () => {
    const src = `import { nn, type Tensor } from 'kiln';
export class Net extends nn.Module {
  fc = new nn.Linear(4, 3);
  override forward(x: Tensor): Tensor {
    return this.fc.forward(x.matmul(x));
  }
}`;
    expect(() => compileModelSource(src, 'net.ts', { inputs: [parseInputSpec('x:f32[2,4]')] })).toThrow(
      'net.ts:5:30: matmul: contracting dimensions differ: f32[2,4] (dim 1 = 4) vs f32[2,4] (dim 0 = 2)',
    );
    const bad = src.replace('new nn.Linear(4, 3)', 'new nn.Linear(4, -3)');
    expect(() => compileModelSource(bad, 'net.ts', { inputs: [parseInputSpec('x:f32[2,4]')] })).toThrow('net.ts:3:8: Linear: out_features must be a non-negative integer, got -3');
  });

  it('checks the inputs against forward', () => {
    const mlp = 'examples/mlp/model.ts';
    expect(() => compileModelFile(mlp, { inputs: [parseInputSpec('x:f32[1,64]'), parseInputSpec('x:f32[1,64]')] })).toThrow("compile: input 'x' is given twice");
    expect(() => compileModelFile(mlp, { inputs: [] })).toThrow(ArgumentError);
    expect(() => compileModelFile(mlp, { inputs: [] })).toThrow('compile: MLP.forward takes 1 input (x), got 0: give one --input per parameter');
    expect(() => compileModelFile(mlp, { inputs: [parseInputSpec('x:f32[1,64]'), parseInputSpec('y:f32[1,64]')] })).toThrow(
      'compile: MLP.forward takes 1 input (x), got 2 (x, y)',
    );
  });

  it('names files relative to the cwd when given an absolute path', () => {
    const m = compileModelFile(`${process.cwd()}/examples/cnn/model.ts`, { inputs: [parseInputSpec('x:f32[1,1,8,8]')] });
    expect(m.file).toBe('examples/cnn/model.ts');
    expect(m.graph.nodes[0]!.loc!.file).toBe('examples/cnn/model.ts');
  });

  it('collects several diagnostics of one function into one error', () => {
    const src = `import { nn, type Tensor } from 'kiln';
export class Net extends nn.Module {
  override forward(x: Tensor): Tensor {
    while (x.ndim > 5) x = x.sum(0);
    switch (x.ndim) { default: break; }
    console.log(x.shape);
    return x;
  }
}`;
    try {
      compileModelSource(src, 'many.ts', { inputs: [parseInputSpec('x:f32[2]')] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ScriptCompileError);
      const d = (e as ScriptCompileError).diagnostics;
      expect(d.map((x) => `${formatLoc(x.loc)} ${x.message.split(' ')[0]}`)).toEqual(['many.ts:4:5 while', 'many.ts:5:5 switch', 'many.ts:6:5 console.log']);
      expect((e as ScriptCompileError).loc).toBe('many.ts:4:5');
      expect((e as Error).message.split('\n')).toHaveLength(3);
    }
  });
});

describe('parseInputSpec', () => {
  it('parses NAME:DTYPE[D0,...]', () => {
    expect(parseInputSpec('x:f32[1,784]')).toEqual({ name: 'x', type: { dtype: 'f32', shape: [1, 784] } });
    expect(parseInputSpec(' ids : i32[2, 8] ')).toEqual({ name: 'ids', type: { dtype: 'i32', shape: [2, 8] } });
    expect(parseInputSpec('s:f32[]')).toEqual({ name: 's', type: { dtype: 'f32', shape: [] } });
    expect(parseInputSpec('m:bool[3]').type.dtype).toBe('bool');
  });

  it.each([
    ['x', 'not an input specification'],
    ['x:f64[2]', "unknown dtype 'f64' (one of f32, i32, bool)"],
    ['x:f32[2,a]', "dimension 'a' is not a non-negative integer"],
    ['x:f32[-1]', "dimension '-1' is not a non-negative integer"],
    ['1x:f32[2]', 'not an input specification'],
  ])('rejects %s', (spec, why) => {
    expect(() => parseInputSpec(spec)).toThrow(ArgumentError);
    expect(() => parseInputSpec(spec)).toThrow(`--input ${JSON.stringify(spec)}: ${why}; expected NAME:DTYPE[D0,D1,...], e.g. x:f32[1,784]`);
  });
});

/**
 * The compiler pipeline: rewrite rules, folding, CSE, fusion decisions, memory planning,
 * and a golden snapshot of generated JS.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileJsKernel } from '../../src/codegen-js/js-kernel.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { interpret } from '../../src/ir/interpret.js';
import { Ops } from '../../src/ir/lang/index.js';
import type { NDArray } from '../../src/ir/ndarray.js';
import { tensorType } from '../../src/ir/types.js';
import { verifyGraph } from '../../src/ir/verifier.js';
import { canonicalizeWith, canonicalRules, cse, dcePass, foldConstants, fuse, pipelines, planMemory, runPasses } from '../../src/passes/index.js';
import { jsBackend } from '../../src/runtime/cpu.js';

const f32 = (...shape: number[]) => tensorType('f32', shape);
const SNAPSHOTS = resolve(import.meta.dirname, '../filetests/js');

function gelu(o: Ops<import('../../src/ir/graph.js').Value>, x: import('../../src/ir/graph.js').Value) {
  // W2's chain: z=x*a+b; u=z*z*z*0.044715; inner=(z+u)*sqrt(2/pi); y=(z*0.5)*(tanh(inner)+1)
  const z = o.add(o.mul(x, 0.5), 0.1);
  const u = o.mul(o.mul(o.mul(z, z), z), 0.044715);
  const inner = o.mul(o.add(z, u), Math.sqrt(2 / Math.PI));
  return o.mul(o.mul(z, 0.5), o.add(o.tanh(inner), 1));
}

function data(n: number, seed = 1): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
}

describe('rewrite passes', () => {
  it('fires named rules and keeps the graph valid', () => {
    const b = new GraphBuilder('f');
    const o = new Ops(b);
    const x = b.param('x', f32(2, 3));
    const y = o.reshape(o.reshape(o.add(o.mul(x, 1), 0), [3, 2]), [6]);
    const fired: string[] = [];
    const g = runPasses(b.build([o.neg(o.neg(y))]), [canonicalizeWith(canonicalRules, (r) => fired.push(r)), dcePass], { verify: true });
    expect(fired).toEqual(expect.arrayContaining(['mul-one', 'add-zero', 'reshape-reshape', 'neg-neg']));
    expect(g.nodes.map((n) => n.op)).toEqual(['reshape']);
  });

  it('folds constants and shares common subexpressions', () => {
    const b = new GraphBuilder('f');
    const o = new Ops(b);
    const x = b.param('x', f32(4));
    const c = o.sqrt(o.div(o.scalar(2), Math.PI));
    const y = o.add(o.mul(o.exp(x), c), o.exp(x));
    const g = runPasses(b.build([y]), [foldConstants, cse, dcePass], { verify: true });
    expect(g.nodes.filter((n) => n.op === 'exp')).toHaveLength(1);
    const k = g.nodes.find((n) => n.op === 'const' && n.attrs.value !== 0);
    expect(k?.attrs.value).toBe(Math.fround(Math.sqrt(Math.fround(2 / Math.fround(Math.PI)))));
  });
});

describe('fusion', () => {
  it('fuses the W2 gelu chain into one kernel', () => {
    const b = new GraphBuilder('gelu');
    const o = new Ops(b);
    const g = runPasses(b.build([gelu(o, b.param('x', f32(1000)))]), pipelines.O2);
    const s = fuse(g);
    expect(s.kernels).toHaveLength(1);
    expect(s.kernels[0]!.kind).toBe('pointwise');
  });

  it('fuses reductions with their operand, folds transposes into the GEMM', () => {
    const b = new GraphBuilder('mlp');
    const o = new Ops(b);
    const x = b.param('x', f32(8, 5));
    const w = b.param('w', f32(3, 5));
    const y = o.softmax(o.linear(x, w), -1);
    const loss = o.sum(o.mul(y, y));
    const s = fuse(runPasses(b.build([loss]), pipelines.O2));
    const kinds = s.kernels.map((k) => k.kind);
    expect(kinds.filter((k) => k === 'matmul')).toHaveLength(1);
    const mm = s.kernels.find((k) => k.kind === 'matmul')!;
    expect(mm.transB).toBe(true); // x @ wᵀ reads w directly
    expect(kinds.filter((k) => k === 'pointwise').length).toBeLessThanOrEqual(2);
  });

  it('plans memory: dead buffers are reused, elementwise kernels run in place', () => {
    const b = new GraphBuilder('chain');
    const o = new Ops(b);
    const x = b.param('x', f32(64));
    let y = x;
    // Each step: a reduction (its own kernel) and an elementwise kernel reading both.
    for (let i = 0; i < 6; i++) y = o.mul(o.exp(o.mul(y, i + 1)), o.sum(y));
    const s = fuse(runPasses(b.build([y]), pipelines.O2));
    const plan = planMemory(s);
    const planned = s.kernels.filter((k) => !s.graph.outputs.includes(k.node.out)).length;
    expect(planned).toBeGreaterThanOrEqual(10);
    expect(plan.slots.length).toBeLessThanOrEqual(4);
  });
});

describe('JS codegen', () => {
  it('matches the reference interpreter on fused graphs', () => {
    const b = new GraphBuilder('mix');
    const o = new Ops(b);
    const x = b.param('x', f32(4, 6));
    const w = b.param('w', f32(6, 3));
    const h = o.relu(o.matmul(x, w));
    const p = o.pad(o.transpose(h, 0, 1), [1, 0, 0, 2], -1);
    const out = o.add(o.logSoftmax(p, 0), o.sum(o.cat([o.flip(p, [1]), p], 0), 0));
    const g = b.build([out, o.amax(h, 0)]);
    verifyGraph(g);
    const args: NDArray[] = [
      { dtype: 'f32', shape: [4, 6], data: data(24, 3) },
      { dtype: 'f32', shape: [6, 3], data: data(18, 7) },
    ];
    const want = interpret(g, args, 'f32');
    const got = jsBackend.compile(g).run(args);
    got.forEach((r, i) => {
      expect(r.shape).toEqual(want[i]!.shape);
      Array.from(r.data).forEach((v, j) => expect(v).toBeCloseTo(want[i]!.data[j]!, 5));
    });
  });

  it('generates the JS in the golden snapshot for a small fused kernel', () => {
    const b = new GraphBuilder('snap');
    const o = new Ops(b);
    const x = b.param('x', f32(2, 3));
    const bias = b.param('b', f32(3));
    const s = fuse(runPasses(b.build([o.sigmoid(o.add(o.transpose(x, 0, 1), o.unsqueeze(bias, 1)))]), pipelines.O2));
    const src = s.kernels.map((k) => compileJsKernel(k).source).join('\n');
    const file = join(SNAPSHOTS, 'bias-sigmoid-transposed.js');
    if (!existsSync(file)) writeFileSync(file, `${src}\n`);
    expect(`${src}\n`).toBe(readFileSync(file, 'utf8'));
  });
});

describe('printed pipeline stages', () => {
  it('dumps the graph after a named pass', () => {
    const b = new GraphBuilder('d');
    const o = new Ops(b);
    const x = b.param('x', f32(2));
    const dumps: string[] = [];
    runPasses(b.build([o.add(o.mul(x, 1), 0)]), pipelines.O1, { dumpAfter: 'canonicalize', dump: (_n, t) => dumps.push(t) });
    expect(dumps).toHaveLength(1);
    expect(dumps[0]).toMatch(/^func @d\(%x: f32\[2\]\) -> \(f32\[2\]\) \{\n/);
    expect(dumps[0]).not.toMatch(/ = (mul|add) /);
    expect(dumps[0]).toMatch(/return %x/);
  });
});

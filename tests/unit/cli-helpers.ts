/**
 * What the tests of the built `kiln` command share: running it as a user does, checking a
 * failed run, and a tiny saved model (relu(x @ w0ᵀ + b0) @ w1ᵀ, parameters named like a
 * state dict: `0.weight` is not an IR identifier).
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { tensor } from '../../src/frontend-eager/factories.js';
import type { Tensor } from '../../src/frontend-eager/tensor.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Graph } from '../../src/ir/graph.js';
import { Ops } from '../../src/ir/lang/index.js';
import { tensorType } from '../../src/ir/types.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const MAIN = join(ROOT, 'dist/cli/main.js');

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `kiln ...args` in `cwd` (KILN_DEBUG off, so no stack traces); never throws. */
export function runKiln(args: readonly string[], cwd: string, env: Record<string, string> = {}): Result {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, KILN_DEBUG: '', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A failed run: the status, the one-line message, and no stack trace. */
export function expectError(r: Result, status: number, message: string | RegExp): void {
  expect(r.stderr).toMatch(message);
  expect(r.status).toBe(status);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

/** The tiny MLP graph [2,3] → [2,2] and its weights by parameter name. */
export function tinyMlp(): { graph: Graph; weights: Map<string, Tensor> } {
  const b = new GraphBuilder('mlp');
  const o = new Ops(b);
  const x = b.param('x', tensorType('f32', [2, 3]));
  const w0 = b.param('0.weight', tensorType('f32', [4, 3]));
  const b0 = b.param('0.bias', tensorType('f32', [4]));
  const w1 = b.param('head.weight', tensorType('f32', [2, 4]));
  const graph = b.build([o.linear(o.relu(o.linear(x, w0, b0)), w1)]);
  const weights = new Map<string, Tensor>([
    ['0.weight', tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], [-0.7, 0.8, 0.9], [1, -1, 0.5]])],
    ['0.bias', tensor([0.1, 0, -0.1, 0.2])],
    ['head.weight', tensor([[1, -1, 0.5, 2], [0.25, 0.5, -1, 1]])],
  ]);
  return { graph, weights };
}

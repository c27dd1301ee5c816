/**
 * Standalone ES module export: modules written to an empty temporary folder (no
 * node_modules) and run by plain `node`, as a program and as an imported module, compared
 * with kiln; the helpers they carry checked against codegen-js's; the WASM hook.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsHelpers } from '../../src/codegen-js/js-templates.js';
import { toStandaloneEsm } from '../../src/export/esm.js';
import { HELPERS_SOURCE } from '../../src/export/esm-runtime.js';
import type { NDArray } from '../../src/ir/ndarray.js';
import { cnn, maxDiff, mlp, type Model, opCases, opModel, runKiln, transformerBlock } from './export-fixtures.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-esm-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** JSON with NaN / ±Infinity as strings, as the modules print them. */
const toJson = (x: unknown): string => JSON.stringify(x, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));

interface Printed {
  dtype: string;
  shape: number[];
  data: (number | string)[];
}

const inputsJson = (m: Model): Record<string, number[]> => Object.fromEntries([...m.inputs].map(([k, a]) => [k, Array.from(a.data)]));

/** Runs the module file as a program: inputs as a JSON argument, outputs parsed from stdout. */
function runProgram(file: string, args: string[], input?: string): Record<string, Printed> {
  const stdout = execFileSync(process.execPath, [file, ...args], { cwd: dir, encoding: 'utf8', input, env: { PATH: process.env.PATH ?? '' } });
  return JSON.parse(stdout) as Record<string, Printed>;
}

function expectMatches(printed: Record<string, Printed>, want: readonly NDArray[], tol: number): number {
  let worst = 0;
  want.forEach((w, i) => {
    const p = printed[`out${i}`]!;
    expect(p.shape).toEqual(w.shape);
    expect(p.dtype).toBe(w.dtype);
    const d = maxDiff(p.data.map(Number), w.data);
    expect(d).toBeLessThanOrEqual(tol);
    worst = Math.max(worst, d);
  });
  return worst;
}

describe('toStandaloneEsm: runs under plain node in an empty folder', () => {
  it('MLP: as a program, inputs from an argument, a file and stdin', () => {
    const model = mlp();
    const file = join(dir, 'mlp.mjs');
    writeFileSync(file, toStandaloneEsm(model.graph, model.weights));
    expect(readdirSync(dir)).toEqual(['mlp.mjs']);
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);
    const want = runKiln(model);
    const json = toJson(inputsJson(model));
    expectMatches(runProgram(file, [json]), want, 1e-5);
    writeFileSync(join(dir, 'mlp-inputs.json'), json);
    expectMatches(runProgram(file, ['@mlp-inputs.json']), want, 1e-5);
    expectMatches(runProgram(file, ['-'], json), want, 1e-5);
  });

  const models: [string, () => Model][] = [
    ['CNN', () => cnn()],
    ['transformer block, erf GELU', () => transformerBlock('none')],
    ['transformer block, tanh GELU', () => transformerBlock('tanh')],
  ];
  it.each(models)('%s', (name, make) => {
    const model = make();
    const file = join(dir, `${name.replace(/\W+/g, '-')}.mjs`);
    writeFileSync(file, toStandaloneEsm(model.graph, model.weights));
    expectMatches(runProgram(file, [toJson(inputsJson(model))]), runKiln(model), 1e-5);
  });

  it('has no imports and prints usage and errors like a command-line tool', () => {
    const model = mlp();
    const source = toStandaloneEsm(model.graph, model.weights, { name: 'digits-mlp' });
    expect(source).not.toMatch(/^\s*import\s/m);
    expect(source).not.toMatch(/\brequire\(/);
    const file = join(dir, 'usage.mjs');
    writeFileSync(file, source);
    expect(execFileSync(process.execPath, [file, '--help'], { encoding: 'utf8' })).toContain('Runs digits-mlp and prints');
    let stderr = '';
    try {
      execFileSync(process.execPath, [file, '{"y": [1]}'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      stderr = String((e as { stderr: string }).stderr);
    }
    expect(stderr).toBe("digits-mlp: missing input 'x' (f32[4,16])\n");
  });
});

describe('toStandaloneEsm: every primitive, imported as a module', () => {
  it('matches kiln on every op case', () => {
    const cases = opCases.map((c, i) => {
      const model = opModel(c, i);
      const file = `op-${i}.mjs`;
      writeFileSync(join(dir, file), toStandaloneEsm(model.graph, model.weights));
      return { name: c.name, file, model };
    });
    // One node process imports every module and runs it on its inputs.
    const driver = [
      "import { readFileSync } from 'node:fs';",
      "const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));",
      'const results = [];',
      'for (const c of cases) {',
      '  const m = await import(`./${c.file}`);',
      '  const out = m.run(c.inputs);',
      '  results.push(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v)])));',
      '}',
      "process.stdout.write(JSON.stringify(results, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));",
    ].join('\n');
    writeFileSync(join(dir, 'driver.mjs'), driver);
    writeFileSync(join(dir, 'cases.json'), toJson(cases.map((c) => ({ file: c.file, inputs: inputsJson(c.model) }))));
    const stdout = execFileSync(process.execPath, ['driver.mjs', 'cases.json'], { cwd: dir, encoding: 'utf8' });
    const results = JSON.parse(stdout) as Record<string, (number | string)[]>[];
    cases.forEach((c, i) => {
      runKiln(c.model).forEach((w, k) => {
        const got = results[i]![`out${k}`]!.map(Number);
        expect(maxDiff(got, w.data), `${c.name}: output ${k}`).toBeLessThanOrEqual(1e-5);
        expect(got.map(Number.isNaN), `${c.name}: output ${k} NaNs`).toEqual(Array.from(w.data, Number.isNaN));
      });
    });
  });
});

describe('toStandaloneEsm: what the module carries', () => {
  it('has the same scalar helpers as codegen-js, bit for bit', () => {
    const h = new Function(`${HELPERS_SOURCE}\nreturn h;`)() as Record<string, (...xs: number[]) => number>;
    expect(Object.keys(h).sort()).toEqual(Object.keys(jsHelpers).sort());
    const xs = [NaN, Infinity, -Infinity, 0, -0, 1e-30, ...Array.from({ length: 2001 }, (_, i) => (i - 1000) / 97)];
    const lib = jsHelpers as Record<string, (...a: number[]) => number>;
    for (const x of xs) {
      expect(h.erf!(x)).toBe(lib.erf!(x));
      expect(h.sigmoid!(x)).toBe(lib.sigmoid!(x));
      expect(h.max2!(x, 0.5)).toBe(lib.max2!(x, 0.5));
      expect(h.min2!(x, 0.5)).toBe(lib.min2!(x, 0.5));
    }
  });

  it('swaps a WASM kernel in on load(), keeping the JS kernel until then', () => {
    const model = mlp();
    // An empty module and a binder standing in for a real WASM GEMM: the last kernel writes 7s.
    const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const bind = 'async (bytes) => { await WebAssembly.compile(bytes); return (out) => out.fill(7); }';
    let steps = 0;
    const jsOnly = toStandaloneEsm(model.graph, model.weights, { wasm: (_k, step) => ((steps = step + 1), null) });
    expect(jsOnly).toContain('const WASM = [\n];');
    const withWasm = toStandaloneEsm(model.graph, model.weights, { wasm: (_k, step) => (step === steps - 1 ? { bytes: empty, bind } : null) });
    writeFileSync(join(dir, 'wasm.mjs'), withWasm);
    writeFileSync(
      join(dir, 'wasm-driver.mjs'),
      [
        "import { load, run, signature } from './wasm.mjs';",
        "const x = new Float32Array(64).fill(0.25);",
        'const before = Array.from(run({ x }).out1);',
        'await load();',
        'const after = Array.from(run({ x }).out1);',
        'process.stdout.write(JSON.stringify({ before, after, outputs: signature.outputs.map((o) => o.name) }));',
      ].join('\n'),
    );
    const r = JSON.parse(execFileSync(process.execPath, ['wasm-driver.mjs'], { cwd: dir, encoding: 'utf8' })) as { before: number[]; after: number[]; outputs: string[] };
    expect(r.outputs).toEqual(['out0', 'out1']);
    expect(r.after).toEqual([7, 7, 7, 7]);
    expect(r.before).not.toEqual(r.after);
  });
});

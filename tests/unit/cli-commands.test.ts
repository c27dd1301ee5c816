/**
 * The built `kiln` command line (dist/cli/main.js), run as a user runs it: every command's
 * happy path and its error paths (exit status, the message on stderr, no stack trace).
 * Training has its own file (cli-train.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveKilnGraph } from '../../src/export/kiln-format.js';
import { saveNpy } from '../../src/data/npy.js';
import { loadNpy } from '../../src/data/files.js';
import { runGraph } from '../../src/frontend-eager/capture.js';
import { tensor } from '../../src/frontend-eager/factories.js';
import { expectError, MAIN, type Result, ROOT, runKiln, tinyMlp } from './cli-helpers.js';

const MODEL = join(ROOT, 'examples/digits/model.ts');

/** The WebAssembly API (the project's libs do not declare it). */
const WA = Reflect.get(globalThis, 'WebAssembly') as {
  Module: { new (bytes: Uint8Array): object; exports(m: object): { name: string }[]; imports(m: object): { module: string; name: string; kind: string }[] };
};

/** Runs `kiln ...args` in the test folder (or `opts.cwd`); never throws. */
function kiln(args: readonly string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Result {
  return runKiln(args, opts.cwd ?? dir, opts.env);
}

let dir: string;
const X = [[1, 2, 3], [-1, 0.5, 2]];
let expected: number[];

beforeAll(() => {
  if (!existsSync(MAIN)) execFileSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
  // A saved graph: relu(x @ w0ᵀ + b0) @ w1ᵀ, parameters named like a state dict.
  const { graph, weights } = tinyMlp();
  saveKilnGraph(join(dir, 'mlp.kiln'), graph, weights);
  expected = Array.from(runGraph(graph, [tensor(X), ...weights.values()])[0]!.data());
  writeFileSync(join(dir, 'x.json'), JSON.stringify(X));
  writeFileSync(join(dir, 'x.npy'), saveNpy(tensor(X)));
  writeFileSync(join(dir, 'short.json'), JSON.stringify([[1, 2]]));
  writeFileSync(join(dir, 'mlp.kir'), readFileSync(join(dir, 'mlp.kiln/graph.kir')));
  // A model file outside the supported subset: a `while` loop in forward.
  writeFileSync(
    join(dir, 'bad.ts'),
    `import { nn, type Tensor } from ${JSON.stringify(join(ROOT, 'src/index.js'))};

export class Bad extends nn.Module {
  fc = new nn.Linear(64, 10);
  override forward(x: Tensor): Tensor {
    let h = x;
    while (h.shape[0]! > 100) h = h.relu();
    return this.fc.forward(h);
  }
}
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const close = (a: readonly number[], b: readonly number[]): void => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 5));
};

describe('kiln (the program)', () => {
  it.each(['compile', 'run', 'train', 'export', 'inspect', 'repl', 'bench'])('%s --help shows the usage and an example', (cmd) => {
    const r = kiln([cmd, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Usage: kiln ${cmd}`);
    expect(r.stdout).toMatch(/Examples?:\n/);
    expect(r.stdout).toContain(`$ kiln ${cmd}`);
  });

  it('lists the commands, and says what is wrong with a bad command line', () => {
    const help = kiln(['--help']);
    expect(help.status).toBe(0);
    for (const c of ['compile', 'run', 'train', 'export', 'inspect', 'repl', 'bench']) expect(help.stdout).toContain(`  ${c} `);
    expect(kiln(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expectError(kiln(['frobnicate']), 2, "error: unknown command 'frobnicate'");
    expectError(kiln(['run']), 2, "error: missing required argument 'graph'");
    expectError(kiln(['run', 'mlp.kiln', '--frob']), 2, "error: unknown option '--frob'");
  });

  it('shows a stack trace only with KILN_DEBUG', () => {
    const quiet = kiln(['run', 'mlp.kiln', '--input', 'short.json']);
    expectError(quiet, 2, 'kiln run: --input x: short.json holds f32[1,2], expected f32[2,3]\n');
    expect(quiet.stderr.trim().split('\n')).toHaveLength(1);
    const loud = kiln(['run', 'mlp.kiln', '--input', 'short.json'], { env: { KILN_DEBUG: '1' } });
    expect(loud.stderr).toContain('kiln run: --input x: short.json holds f32[1,2]');
    expect(loud.stderr).toMatch(/^\s+at readTensorFile /m);
  });
});

describe('kiln run', () => {
  it('runs a saved graph on .json and .npy inputs and prints or writes the outputs', () => {
    const printed = kiln(['run', 'mlp.kiln', '--input', 'x=x.json']);
    expect(printed.stderr).toBe('');
    expect(printed.status).toBe(0);
    expect(printed.stdout).toMatch(/^tensor\(\[\[ ?-?\d+\.\d{4}, +-?\d+\.\d{4}\],\n {8}\[ ?-?\d/);

    expect(kiln(['run', 'mlp.kiln', '--input', 'x.npy', '-o', 'y.json']).status).toBe(0);
    close((JSON.parse(readFileSync(join(dir, 'y.json'), 'utf8')) as { out0: number[][] }).out0.flat(), expected);

    const npy = kiln(['run', 'mlp.kiln', '--input', 'x=x.npy', '--backend', 'interp', '-o', 'y.npy']);
    expect(npy.stderr).toContain('wrote y.npy (f32[2,2])');
    close(Array.from(loadNpy(join(dir, 'y.npy')).data()), expected);
  });

  it('says which input is missing, unknown or of the wrong type', () => {
    expectError(kiln(['run', 'mlp.kiln']), 2, 'kiln run: missing --input for x (f32[2,3])');
    expectError(kiln(['run', 'mlp.kiln', '--input', 'y=x.json']), 2, "kiln run: --input y=x.json: the graph has no input 'y' (inputs: x: f32[2,3])");
    expectError(kiln(['run', 'mlp.kiln', '--input', 'x=nothing.npy']), 2, 'kiln run: --input x: nothing.npy: no such file');
    expectError(kiln(['run', 'mlp.kiln', '--input', 'x.json', '--backend', 'gpu9']), 2, /^kiln run: --backend expects one of interp, js(, \w+)*, got 'gpu9'\n$/);
    expectError(kiln(['run', 'mlp.kiln', '--input', 'x.json', '-o', 'y.csv']), 2, 'kiln run: -o y.csv: expected a .json or .npy file');
    expectError(kiln(['run', 'x.json', '--input', 'x.json']), 2, 'kiln run: x.json is not a saved kiln graph');
  });
});

describe('kiln inspect', () => {
  it('prints the IR of a saved graph or IR text', () => {
    const r = kiln(['inspect', 'mlp.kiln']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(dir, 'mlp.kiln/graph.kir'), 'utf8'));
    expect(kiln(['inspect', 'mlp.kir']).stdout).toBe(r.stdout);
  });

  it('draws the graph as DOT, SVG and HTML', () => {
    const lines = readFileSync(join(dir, 'mlp.kiln/graph.kir'), 'utf8').split('\n');
    const nodes = lines.filter((l) => /^ {2}%\d+ = /.test(l)).length;
    const ops = lines.filter((l) => /^ {2}%\d+ = (?!const )/.test(l)).length;
    const dot = kiln(['inspect', 'mlp.kiln', '--dot']).stdout;
    expect(dot).toMatch(/^digraph "mlp" \{\n/);
    expect(dot).toContain('label="%1 = matmul\\nf32[2,4]"');
    expect(dot.match(/ -> /g)!.length).toBeGreaterThanOrEqual(nodes);

    const svg = kiln(['inspect', 'mlp.kiln', '--svg']).stdout;
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+"/);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<g class="op">/g)).toHaveLength(ops); // (scalar constants get a box per use)
    expect(svg.match(/<g class="param">/g)).toHaveLength(4);
    expect(svg).toContain('%1 = matmul %x, %0 : f32[2,4]'); // each box's IR line as its tooltip

    expect(kiln(['inspect', 'mlp.kiln', '--html', '-o', 'g.html']).status).toBe(0);
    const html = readFileSync(join(dir, 'g.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg ');
    expect(html).toContain('func @mlp(%x: f32[2,3]');
  });

  it('optimizes on request and dumps the IR after a pass', () => {
    const r = kiln(['inspect', 'mlp.kiln', '-O2', '--dump-after', 'cse']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\/\/ after cse\nfunc @mlp/);
    const fused = kiln(['inspect', 'mlp.kiln', '--dump-after', 'fuse']);
    expect(fused.stdout).toMatch(/^\/\/ after fuse\nfunc @mlp[^]*\n}\n\/\/ kernel 0 \(matmul\): %\d+  reads %x, %arg1\n\/\/ kernel 1 \(pointwise\): /);
    expectError(kiln(['inspect', 'mlp.kiln', '--dump-after', 'lower']), 2, "kiln inspect: --dump-after: no pass 'lower' in the -O2 pipeline (passes: canonicalize, fold, cse, dce, fuse)");
  });

  it('refuses what it cannot draw', () => {
    expectError(kiln(['inspect', 'mlp.kiln', '--dot', '--svg']), 2, 'kiln inspect: choose one of --dot, --svg, --html (got --dot and --svg)');
    expectError(kiln(['inspect', 'nothing.kiln']), 2, 'kiln inspect: nothing.kiln: no such file or directory');
    expectError(kiln(['inspect', 'x.json']), 2, 'kiln inspect: x.json: expected a model file (.ts), a saved graph (.kiln directory) or IR text (.kir)');
    writeFileSync(join(dir, 'broken.kir'), 'func @f(%x: f32[2]) -> (f32[2]) {\n  %0 = nope %x : f32[2]\n  return %0\n}\n');
    expectError(kiln(['inspect', 'broken.kir']), 1, /^kiln inspect: broken\.kir:2:\d+: .*nope/);
  });
});

describe('kiln export', () => {
  it('exports a saved graph as a kiln graph, ONNX (run in onnxruntime) and a standalone ES module', async () => {
    const k = kiln(['export', 'mlp.kiln', '-o', 'copy.kiln']);
    expect(k.stderr).toMatch(/^exported @mlp \(\d+ nodes, 3 tensors \/ 24 parameters\) to copy\.kiln \(kiln\)/);
    expect(kiln(['run', 'copy.kiln', '--input', 'x.json', '-o', 'copy.json']).status).toBe(0);
    close((JSON.parse(readFileSync(join(dir, 'copy.json'), 'utf8')) as { out0: number[][] }).out0.flat(), expected);

    expect(kiln(['export', 'mlp.kiln', '--format', 'onnx', '-o', 'mlp.onnx']).status).toBe(0);
    const session = await ort.InferenceSession.create(join(dir, 'mlp.onnx'));
    const result = await session.run({ x: new ort.Tensor('float32', Float32Array.from(X.flat()), [2, 3]) });
    close(Array.from(result.out0!.data as Float32Array), expected);

    const esmDir = mkdtempSync(join(tmpdir(), 'kiln-esm-'));
    try {
      expect(kiln(['export', 'mlp.kiln', '--format', 'esm', '-o', join(esmDir, 'mlp.mjs')]).status).toBe(0);
      const out = execFileSync(process.execPath, ['mlp.mjs', JSON.stringify({ x: X })], { cwd: esmDir, encoding: 'utf8' });
      const y = (JSON.parse(out) as Record<string, { data: number[] }>).out0!.data;
      close(y, expected);
    } finally {
      rmSync(esmDir, { recursive: true, force: true });
    }
  });

  it('names the default output after the source', () => {
    expect(kiln(['export', 'mlp.kiln', '--format', 'onnx']).stderr).toContain('to mlp.onnx (onnx)');
  });

  it('says what is wrong', () => {
    expectError(kiln(['export', 'mlp.kiln', '--format', 'tflite']), 2, "kiln export: --format expects one of kiln, onnx, esm, got 'tflite'");
    writeFileSync(join(dir, 'wrong.safetensors'), '');
    expectError(kiln(['export', 'mlp.kiln', '--weights', 'wrong.safetensors']), 1, /^kiln export: .*wrong\.safetensors/);
    expectError(kiln(['export', 'mlp.kiln', '--input', 'x:f32[1,3]']), 2, 'kiln export: --input is for model files; mlp.kiln already has typed inputs');
  });
});

describe('kiln compile', () => {
  it('prints the optimized IR of a model file', () => {
    const r = kiln(['compile', MODEL, '--input', 'x:f32[1,64]']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^func @\w+\(%x: f32\[1,64\], %fc1\.weight: f32\[128,64\], %fc1\.bias: f32\[128\]/);
    expect(r.stdout).toMatch(/-> \(f32\[1,10\]\) \{/);
    expect(r.stdout).toContain('matmul');
  });

  it('dumps after a pass, traces the rules, and emits the JS kernels and ONNX', () => {
    const d = kiln(['compile', MODEL, '--input', 'x:f32[4,64]', '-O1', '--dump-after', 'canonicalize', '--trace-rules']);
    expect(d.status).toBe(0);
    expect(d.stdout).toMatch(/^\/\/ after canonicalize\nfunc @/);
    expect(d.stdout.match(/^func @/gm)).toHaveLength(2); // the dump, then the result
    expect(d.stderr).toMatch(/^\/\/ canonicalize: \d+ -> \d+ nodes/m);
    expect(d.stderr).toMatch(/^\/\/ fold: \d+ -> \d+ nodes/m);

    const js = kiln(['compile', MODEL, '--input', 'x:f32[1,64]', '--emit', 'js']);
    expect(js.status).toBe(0);
    expect(js.stdout).toMatch(/^\/\/ kernel 0: /m);
    expect(js.stdout).toContain('GEMM');
    expect(js.stdout).toMatch(/function makeKernel\d+\(h\) \{\n {2}return function kernel\(out, x0/);

    const onnx = kiln(['compile', MODEL, '--input', 'x:f32[1,64]', '--emit', 'onnx', '-o', 'digits.onnx']);
    expect(onnx.status).toBe(0);
    expect(readFileSync(join(dir, 'digits.onnx')).includes(Buffer.from('fc1.weight'))).toBe(true);
  });

  it('reports model errors at file:line:col, and bad flags', () => {
    expectError(kiln(['compile', 'bad.ts', '--input', 'x:f32[1,64]']), 1, /^.*bad\.ts:7:5: error: .*while/m);
    expectError(kiln(['compile', MODEL]), 2, /kiln compile: .*model\.ts: a model file needs its input types: --input x:f32\[1,784\]/);
    expectError(kiln(['compile', 'nothing.ts', '--input', 'x:f32[1,64]']), 2, 'kiln compile: nothing.ts: no such file or directory');
    expectError(kiln(['compile', MODEL, '--input', 'x:f32[1,64]', '--emit', 'llvm']), 2, "kiln compile: --emit expects one of ir, js, wasm, onnx, got 'llvm'");
    expectError(kiln(['compile', MODEL, '--input', 'x:f32[1,64]', '-O7']), 2, "kiln compile: -O expects 0, 1 or 2, got '7'");
    expectError(kiln(['compile', MODEL, '--input', 'x:f32[1,64]', '--emit', 'onnx']), 2, 'kiln compile: --emit onnx writes binary data: give an output file with -o');
  });
});

describe('kiln compile on graphs', () => {
  it('emits the JS kernels and the wasm module of a saved graph', () => {
    const js = kiln(['compile', 'mlp.kir', '--emit', 'js']);
    expect(js.status).toBe(0);
    expect(js.stdout).toMatch(/^\/\/ kernel 0: /m);
    expect(js.stdout).toContain('GEMM');
    expect(js.stdout).toMatch(/function makeKernel\d+\(h\) \{\n {2}return function kernel\(out, x0/);
    // The kernels are real code: each one parses.
    for (const m of js.stdout.matchAll(/^function makeKernel\d+\(h\) \{[^]*?^\}$/gm)) expect(() => new Function(`${m[0]}`)).not.toThrow();

    const wasm = kiln(['compile', 'mlp.kiln', '--emit', 'wasm', '-o', 'mlp.wasm']);
    expect(wasm.status).toBe(0);
    expect(wasm.stderr).toMatch(/^\/\/ k\d+\(a, b, c, row_start, row_end, scratch\): matmul -> f32\[2,4\]$/m);
    const bytes = readFileSync(join(dir, 'mlp.wasm'));
    const mod = new WA.Module(bytes);
    const exports = WA.Module.exports(mod).map((e) => e.name);
    const listed = [...wasm.stderr.matchAll(/^\/\/ (k\d+)\(/gm)].map((m) => m[1]);
    expect(exports.filter((e) => /^k\d+$/.test(e)).sort()).toEqual(listed.sort());
    expect(WA.Module.imports(mod)).toContainEqual({ module: 'env', name: 'memory', kind: 'memory' });
  });
});

describe('kiln bench', () => {
  it('lists the workloads, and passes its flags through', () => {
    const r = kiln(['bench', '--list']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^W1_/m);
    expectError(kiln(['bench', '--only', 'NOPE']), 2, 'no workload matches --only NOPE');
  });

  it('measures the wasm backend with its wasm kernels (binaryen loaded before timing, not JS kernels)', () => {
    const r = kiln(['bench', '--backend', 'wasm', '--only', 'W5_mlp_infer_b1__compiled', '--json'], { env: { KILN_DEBUG: '1', KILN_CACHE: '0' } });
    expect(r.status, r.stderr).toBe(0);
    const line = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { workload: string; backend: string; ms: number };
    expect(line).toMatchObject({ workload: 'W5_mlp_infer_b1__compiled', backend: 'wasm' });
    // the module was built before the workload ran (its diagnostics come after the timing)
    const built = r.stderr.search(/kiln: wasm @\w+: \d+ kernels/);
    expect(built).toBeGreaterThan(0);
    expect(built).toBeLessThan(r.stderr.indexOf('# W5_mlp_infer_b1__compiled'));
  });
});

/**
 * kiln's graph format (a `.kiln/` directory: graph.kir, weights.safetensors, manifest.json)
 * and the runtime-only entry point `kiln/runtime`, which must load and run a saved graph
 * without loading ts-morph or binaryen.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKilnGraph, KilnFormatError, saveKilnGraph } from '../../src/export/kiln-format.js';
import { runGraph } from '../../src/frontend-eager/capture.js';
import { tensor } from '../../src/frontend-eager/factories.js';
import { tinyMlp } from './cli-helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: string;

const mlp = tinyMlp;

const X = [[1, 2, 3], [-1, 0.5, 2]];

function expected(): number[] {
  const { graph, weights } = mlp();
  return Array.from(runGraph(graph, [tensor(X), ...weights.values()])[0]!.data());
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-format-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kiln graph format', () => {
  it('round-trips a graph and its weights, and runs it', () => {
    const { graph, weights } = mlp();
    const path = join(dir, 'mlp.kiln');
    saveKilnGraph(path, graph, weights);
    expect(readdirSync(path).sort()).toEqual(['graph.kir', 'manifest.json', 'weights.safetensors']);
    const m = loadKilnGraph(path);
    expect(m.manifest).toMatchObject({
      format: 'kiln-graph',
      version: 1,
      name: 'mlp',
      inputs: [{ name: 'x', type: 'f32[2,3]' }],
      outputs: [{ name: 'out0', type: 'f32[2,2]' }],
      parameters: ['0.weight', '0.bias', 'head.weight'],
    });
    // The loaded graph's params carry the manifest's names, though the IR text renames `0.weight`.
    expect(readFileSync(join(path, 'graph.kir'), 'utf8')).toContain('%arg1: f32[4,3]');
    expect(m.graph.params.map((p) => p.name)).toEqual(['x', '0.weight', '0.bias', 'head.weight']);
    const [y] = m.run({ x: tensor(X) });
    expect(Array.from(y!.data())).toEqual(expected());
    // Inputs by position and as nested arrays give the same.
    expect(Array.from(m.run([X])[0]!.data())).toEqual(expected());
  });

  it('saves atomically: overwriting replaces the directory and leaves no temp folders', () => {
    const sub = join(dir, 'atomic');
    mkdirSync(sub);
    const path = join(sub, 'g.kiln');
    const { graph, weights } = mlp();
    saveKilnGraph(path, graph, weights);
    writeFileSync(join(path, 'stale.txt'), 'from before');
    weights.set('0.bias', tensor([1, 1, 1, 1]));
    saveKilnGraph(path, graph, weights);
    expect(readdirSync(sub)).toEqual(['g.kiln']);
    expect(existsSync(join(path, 'stale.txt'))).toBe(false);
    expect(Array.from(loadKilnGraph(path).weights.get('0.bias')!.data())).toEqual([1, 1, 1, 1]);
  });

  it('rejects what it cannot load, saying why', () => {
    const { graph, weights } = mlp();
    const path = join(dir, 'bad.kiln');
    saveKilnGraph(path, graph, weights);
    expect(() => loadKilnGraph(join(dir, 'nothing.kiln'))).toThrow(/loadKilnGraph: .*nothing\.kiln is not a kiln graph directory/);

    const manifest = JSON.parse(readFileSync(join(path, 'manifest.json'), 'utf8')) as { version: number };
    writeFileSync(join(path, 'manifest.json'), JSON.stringify({ ...manifest, version: 99 }));
    expect(() => loadKilnGraph(path)).toThrow(/format version 99 is newer than this kiln reads \(1\)/);

    const m = (() => {
      saveKilnGraph(path, graph, weights);
      return loadKilnGraph(path);
    })();
    expect(() => m.run({ x: tensor([[1, 2]]) })).toThrow(KilnFormatError);
    expect(() => m.run({ x: tensor([[1, 2]]) })).toThrow("run @mlp: input 'x' must be f32[2,3], got f32[1,2]");
    expect(() => m.run({})).toThrow("run @mlp: missing input 'x' (inputs: x: f32[2,3])");
    expect(() => m.run({ x: tensor(X), y: tensor(X) })).toThrow("run @mlp: unexpected input 'y'");

    const wrong = new Map(weights);
    wrong.set('0.bias', tensor([1, 2]));
    expect(() => saveKilnGraph(join(dir, 'w.kiln'), graph, wrong)).toThrow("saveKilnGraph: weight '0.bias' is f32[2] but param 2 of @mlp is f32[4]");
  });
});

describe('kiln/runtime (src/runtime-entry.ts)', () => {
  // How we know what a process loaded: a `--import` preload registers module hooks
  // (`module.register`) whose `resolve` appends every resolved URL to a log file, so every
  // ESM import, static or dynamic, including bare specifiers like 'ts-morph', is seen. At
  // exit the script adds `require.cache` (CommonJS modules, which ts-morph is, land there
  // even when imported from ESM). A control run that does import ts-morph and binaryen
  // checks that the detector sees them.
  let hooks: string;

  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist/src/runtime-entry.js'))) execFileSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, stdio: 'inherit' });
    hooks = join(dir, 'hooks');
    mkdirSync(hooks);
    writeFileSync(
      join(hooks, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(log, r.url + '\\n');
  return r;
}
`,
    );
    writeFileSync(
      join(hooks, 'register.mjs'),
      `import { register } from 'node:module';
register('./hooks.mjs', import.meta.url, { data: { log: process.env.KILN_LOAD_LOG } });
`,
    );
  });

  /** Runs `body` (an ES module) with the hooks; returns its stdout and every module URL it loaded. */
  function runWithLog(name: string, body: string): { stdout: string; loaded: string[] } {
    const script = join(dir, `${name}.mjs`);
    const log = join(dir, `${name}.log`);
    writeFileSync(
      script,
      `${body}
import { createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
appendFileSync(process.env.KILN_LOAD_LOG, Object.keys(createRequire(import.meta.url).cache).join('\\n') + '\\n');
`,
    );
    writeFileSync(log, '');
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(hooks, 'register.mjs')).href, script], {
      env: { ...process.env, KILN_LOAD_LOG: log },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return { stdout: r.stdout, loaded: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
  }

  const heavy = (urls: string[]): string[] => urls.filter((u) => /ts-morph|binaryen|frontend-script/.test(u));

  it('loads and runs a saved graph without loading ts-morph or binaryen', () => {
    const { graph, weights } = mlp();
    const path = join(dir, 'runtime.kiln');
    saveKilnGraph(path, graph, weights);
    const entry = pathToFileURL(join(ROOT, 'dist/src/runtime-entry.js')).href;
    const { stdout, loaded } = runWithLog(
      'runtime-user',
      `import { loadKilnGraph, tensor } from ${JSON.stringify(entry)};
const m = loadKilnGraph(${JSON.stringify(path)});
const [y] = m.run({ x: tensor(${JSON.stringify(X)}) });
console.log(JSON.stringify(Array.from(y.data())));`,
    );
    expect(JSON.parse(stdout)).toEqual(expected());
    expect(loaded.some((u) => u.endsWith('/dist/src/runtime-entry.js'))).toBe(true);
    expect(loaded.some((u) => u.endsWith('/dist/src/codegen-js/js-kernel.js'))).toBe(true); // it did compile
    expect(heavy(loaded)).toEqual([]);
  });

  it('the detector sees ts-morph and binaryen when they are loaded (control)', () => {
    const nm = (p: string): string => JSON.stringify(pathToFileURL(join(ROOT, 'node_modules', p)).href);
    const { loaded } = runWithLog('control', `await import(${nm('ts-morph/dist/ts-morph.js')});\nawait import(${nm('binaryen/index.js')});`);
    expect(loaded.some((u) => u.includes('ts-morph'))).toBe(true);
    expect(loaded.some((u) => u.includes('binaryen'))).toBe(true);
  });
});

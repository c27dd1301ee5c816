/**
 * DESIGN.md's dependency direction, checked on the source: which box may import which,
 * no import cycles between files (type-only imports excepted: they vanish at run time),
 * and no Node built-ins in the core that must also run in browsers.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Which boxes each box may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  // Node-only services (files, workers) behind small modules a browser bundle can swap.
  platform: [],
  ir: [],
  autodiff: ['ir'],
  passes: ['ir'],
  'codegen-js': ['ir'],
  'codegen-gpu': ['ir'],
  runtime: ['ir', 'passes', 'codegen-js', 'codegen-gpu', 'platform'],
  'frontend-eager': ['ir', 'autodiff', 'passes', 'runtime'],
  'stdlib-nn': ['ir', 'autodiff', 'passes', 'runtime', 'frontend-eager', 'platform'],
  optim: ['ir', 'autodiff', 'passes', 'runtime', 'frontend-eager', 'stdlib-nn'],
  data: ['ir', 'runtime', 'frontend-eager', 'platform'],
  'frontend-script': ['ir', 'autodiff', 'passes', 'runtime', 'frontend-eager', 'stdlib-nn', 'optim', 'platform'],
  // Deployment formats: kiln's graph format, ONNX, standalone ES modules.
  export: ['ir', 'autodiff', 'passes', 'codegen-js', 'runtime', 'frontend-eager', 'stdlib-nn', 'platform'],
};
/** Boxes that must not touch Node built-ins (they are bundled for web pages). */
const CORE = ['ir', 'autodiff', 'passes', 'codegen-js', 'runtime', 'frontend-eager', 'stdlib-nn', 'optim'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

interface Import {
  spec: string;
  typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const re = /^(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gms;
  return [...text.matchAll(re)].map((m) => ({ spec: m[3]!, typeOnly: Boolean(m[2]) }));
}

const box = (file: string): string => relative(join(ROOT, 'src'), file).split('/')[0]!;
const files = sources(join(ROOT, 'src')).filter((f) => relative(join(ROOT, 'src'), f).includes('/'));

function target(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return resolve(dirname(file), spec).replace(/\.js$/, '.ts');
}

describe('architecture', () => {
  it('imports only go down the dependency direction', () => {
    const bad: string[] = [];
    for (const f of files) {
      for (const { spec } of importsOf(f)) {
        const t = target(f, spec);
        if (!t || !t.startsWith(join(ROOT, 'src'))) continue;
        const from = box(f);
        const to = box(t);
        if (from !== to && !(ALLOWED[from] ?? []).includes(to)) bad.push(`${relative(ROOT, f)} imports ${to} (${spec})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('has no import cycles between files', () => {
    const graph = new Map<string, string[]>();
    for (const f of files) {
      graph.set(
        f,
        importsOf(f).flatMap(({ spec, typeOnly }) => {
          const t = target(f, spec);
          return t && !typeOnly ? [t] : [];
        }),
      );
    }
    const state = new Map<string, 'active' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'active') {
        cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(ROOT, p)).join(' -> '));
        return;
      }
      state.set(f, 'active');
      for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('keeps Node built-ins out of the core', () => {
    const bad = files
      .filter((f) => CORE.includes(box(f)))
      .flatMap((f) => importsOf(f).filter((i) => i.spec.startsWith('node:') || ['fs', 'path', 'os', 'worker_threads'].includes(i.spec)).map((i) => `${relative(ROOT, f)}: ${i.spec}`));
    expect(bad).toEqual([]);
  });
});

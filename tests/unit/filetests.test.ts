/**
 * IR file tests (MLIR / Cranelift style). Each folder of tests/filetests/ is one kind:
 *
 * - `roundtrip/`: every func prints back exactly as written (comment-only lines aside).
 * - `verify/`:    cases separated by `// -----`; each parses, and the verifier rejects it at the
 *                 line marked `// expect-error: <text>`, with a message containing <text>.
 * - `parse/`:     cases separated by `// -----`; the parser rejects each at the line marked
 *                 `// expect-parse-error: <text>`.
 * - `run/`:       cases separated by `// -----`; a func with `// arg: [..]` per parameter and
 *                 `// expect: [..]` per result (flat JSON data, "inf"/"-inf"/"nan" allowed),
 *                 run by the reference interpreter and compared with tolerance 1e-6.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { IRParseError, IRVerifyError } from '../../src/ir/errors.js';
import { interpret } from '../../src/ir/interpret.js';
import type { NDArray } from '../../src/ir/ndarray.js';
import { allocStorage } from '../../src/ir/ndarray.js';
import { parseGraph, parseModule } from '../../src/ir/parser.js';
import { printModule } from '../../src/ir/printer.js';
import { verifyGraph, verifyModule } from '../../src/ir/verifier.js';
import type { TensorType } from '../../src/ir/types.js';
import { formatType, numel } from '../../src/ir/types.js';

const ROOT = fileURLToPath(new URL('../filetests/', import.meta.url));
const TOLERANCE = 1e-6;

type Check = (text: string, file: string) => void;

const kinds: Record<string, Check> = {
  roundtrip: checkRoundtrip,
  verify: checkVerify,
  parse: checkParseErrors,
  run: checkRun,
};

/** Golden snapshots of generated code, checked by the code generators' own tests. */
const SNAPSHOT_KINDS = new Set(['js', 'wat']);

it('every folder of tests/filetests is a known kind', () => {
  const dirs = readdirSync(ROOT, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  expect(dirs.filter((d) => !(d in kinds) && !SNAPSHOT_KINDS.has(d))).toEqual([]);
});

for (const [kind, check] of Object.entries(kinds)) {
  describe(`filetests/${kind}`, () => {
    const files = readdirSync(join(ROOT, kind)).filter((f) => f.endsWith('.kir')).sort();
    it('has files', () => expect(files.length).toBeGreaterThan(0));
    for (const f of files) {
      const file = `${kind}/${f}`;
      it(f, () => check(readFileSync(join(ROOT, file), 'utf8'), file));
    }
  });
}

// ---- kinds ----

function checkRoundtrip(text: string, file: string): void {
  const gs = parseModule(text, file);
  verifyModule(gs);
  const written = text
    .split('\n')
    .filter((l) => !/^\s*\/\//.test(l))
    .join('\n')
    .trim();
  expect(printModule(gs).trimEnd()).toBe(written);
}

function checkVerify(text: string, file: string): void {
  for (const c of cases(text)) {
    const mark = onlyDirective(c, 'expect-error', file);
    const g = parseGraph(c.text, file);
    const message = thrownBy(() => verifyGraph(g), IRVerifyError, `${file}:${mark.line}`);
    expect(message, `${file}:${mark.line}`).toContain(mark.arg);
    // The marked line of the message is the line the comment sits on (written canonically).
    const marked = /^>\s+\d+ \| (.*)$/m.exec(message)?.[1];
    expect(marked?.trim(), `${file}:${mark.line}: wrong line marked in\n${message}`).toBe(mark.code);
  }
}

function checkParseErrors(text: string, file: string): void {
  for (const c of cases(text)) {
    const mark = onlyDirective(c, 'expect-parse-error', file);
    const message = thrownBy(() => parseModule(c.text, file), IRParseError, `${file}:${mark.line}`);
    expect(message, `${file}:${mark.line}`).toMatch(new RegExp(`^${escape(file)}:${mark.line}:\\d+: `));
    expect(message, `${file}:${mark.line}`).toContain(mark.arg);
  }
}

function checkRun(text: string, file: string): void {
  for (const c of cases(text)) {
    const g = parseGraph(c.text, file);
    verifyGraph(g);
    const args = directives(c, 'arg').map((d) => d.arg);
    const wants = directives(c, 'expect').map((d) => d.arg);
    expect(args.length, `${file}: @${g.name}: one '// arg:' per parameter`).toBe(g.params.length);
    expect(wants.length, `${file}: @${g.name}: one '// expect:' per result`).toBe(g.outputs.length);
    const inputs = g.params.map((p, i) => toArray(p.type, readData(args[i]!), `${file}: @${g.name} arg ${i}`));
    const outs = interpret(g, inputs);
    outs.forEach((out, k) => {
      const want = readData(wants[k]!);
      const where = `${file}: @${g.name} result ${k} (${formatType(out)})`;
      expect(out.data.length, `${where}: element count`).toBe(want.length);
      want.forEach((w, i) => {
        const got = out.data[i]!;
        const ok = Object.is(got, w) || Math.abs(got - w) <= TOLERANCE * (1 + Math.abs(w));
        if (!ok) expect.fail(`${where}: element ${i} is ${got}, expected ${w}\n  got ${JSON.stringify(Array.from(out.data))}`);
      });
    });
  }
}

// ---- helpers ----

/** One case of a file: its text with every other case blanked out, so line numbers stay the file's. */
interface Case {
  readonly text: string;
  readonly lines: readonly string[];
}

function cases(text: string): Case[] {
  const lines = text.split('\n');
  const bounds = [-1, ...lines.flatMap((l, i) => (/^\s*\/\/\s*-----\s*$/.test(l) ? [i] : [])), lines.length];
  const out: Case[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const [from, to] = [bounds[k]!, bounds[k + 1]!];
    const mine = lines.map((l, i) => (i > from && i < to ? l : ''));
    if (mine.some((l) => /^\s*func\b/.test(l))) out.push({ text: mine.join('\n'), lines: mine });
  }
  return out;
}

interface Directive {
  readonly line: number;
  readonly arg: string;
  /** The code before the comment, trimmed. */
  readonly code: string;
}

function directives(c: Case, name: string): Directive[] {
  const re = new RegExp(`//\\s*${name}:\\s*(.*?)\\s*$`);
  return c.lines.flatMap((l, i) => {
    const m = re.exec(l);
    return m ? [{ line: i + 1, arg: m[1]!, code: l.slice(0, m.index).trim() }] : [];
  });
}

function onlyDirective(c: Case, name: string, file: string): Directive {
  const ds = directives(c, name);
  if (ds.length !== 1) expect.fail(`${file}: each case needs exactly one '// ${name}:', found ${ds.length}`);
  return ds[0]!;
}

function thrownBy(fn: () => unknown, cls: new (...a: never[]) => Error, where: string): string {
  try {
    fn();
  } catch (e) {
    expect(e, where).toBeInstanceOf(cls);
    return (e as Error).message;
  }
  return expect.fail(`${where}: expected ${cls.name}, nothing was thrown`);
}

function readData(json: string): number[] {
  const special: Record<string, number> = { inf: Infinity, '-inf': -Infinity, nan: NaN };
  const flat = [JSON.parse(json) as unknown].flat(Infinity);
  return flat.map((x) => {
    if (typeof x === 'number') return x;
    if (typeof x === 'boolean') return x ? 1 : 0;
    if (typeof x === 'string' && x in special) return special[x]!;
    throw new Error(`bad data element ${JSON.stringify(x)} in ${json}`);
  });
}

function toArray(type: TensorType, data: number[], where: string): NDArray {
  expect(data.length, `${where}: ${formatType(type)} needs ${numel(type.shape)} elements`).toBe(numel(type.shape));
  const storage = allocStorage(type, 'f64');
  storage.set(data);
  return { dtype: type.dtype, shape: type.shape, data: storage };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

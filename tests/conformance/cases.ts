import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DType } from '../../src/ir/types.js';

/** FORMAT.md, part 1: one op case. */
export interface JsonTensor {
  dtype?: 'float32' | 'int64' | 'bool';
  shape: number[];
  data: (number | string | boolean)[] | null;
  requires_grad?: boolean;
}
export interface Statement {
  out: string;
  op: string;
  args: (string | number | string[])[];
  kwargs?: Record<string, unknown>;
}
export interface OpCase {
  format: 'conformance/op-1';
  name: string;
  tags: string[];
  inputs: Record<string, JsonTensor>;
  program: Statement[];
  backward?: { of: string; grad_output: JsonTensor | null };
  expected?: {
    values: Record<string, JsonTensor>;
    grads?: Record<string, JsonTensor>;
    hvp?: Record<string, JsonTensor>;
  };
  hvp_vector?: Record<string, JsonTensor>;
  expected_error?: { kind: 'shape' | 'index' | 'value' | 'dtype' };
  tolerance?: { rtol: number; atol: number };
}

export interface CaseFile {
  path: string;
  json: { format: string; name: string } & Record<string, unknown>;
}

/** Every `*.json` case under the given files or folders, sorted by path. */
export function loadCases(paths: readonly string[]): CaseFile[] {
  const files: string[] = [];
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) {
      for (const e of readdirSync(p).sort()) walk(join(p, e));
    } else if (p.endsWith('.json')) files.push(p);
  };
  paths.forEach(walk);
  return files.map((path) => ({ path, json: JSON.parse(readFileSync(path, 'utf8')) }));
}

export function toNumber(v: number | string | boolean): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  if (v === 'nan') return NaN;
  return Number(v);
}

export function dtypeOf(t: JsonTensor): DType {
  return t.dtype === 'int64' ? 'i32' : t.dtype === 'bool' ? 'bool' : 'f32';
}

/** Elementwise `|got - want| <= atol + rtol * |want|`; NaN matches NaN, infinities exactly. */
export function compare(
  what: string,
  got: { shape: readonly number[]; data: ArrayLike<number> },
  want: JsonTensor,
  tol: { rtol: number; atol: number },
  exact: boolean,
): string | null {
  if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
    return `${what}: shape [${got.shape.join(',')}] != expected [${want.shape.join(',')}]`;
  }
  const data = want.data ?? [];
  for (let i = 0; i < data.length; i++) {
    const w = toNumber(data[i]!);
    const g = got.data[i]!;
    const ok = Number.isNaN(w)
      ? Number.isNaN(g)
      : !Number.isFinite(w)
        ? g === w
        : exact
          ? g === w
          : Math.abs(g - w) <= tol.atol + tol.rtol * Math.abs(w);
    if (!ok) return `${what}: element ${i} (of ${data.length}) is ${g}, expected ${w}`;
  }
  return null;
}

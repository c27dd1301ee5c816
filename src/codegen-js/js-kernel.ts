import type { NDArray, Storage } from '../ir/ndarray.js';
import { ops } from '../ir/ops/index.js';
import type { Kernel } from '../ir/schedule.js';
import { broadcastIndex } from '../ir/ndarray.js';
import { numel } from '../ir/types.js';
import { type IExpr, toJs } from './index-expr.js';
import { jsHelpers, jsTemplate } from './js-templates.js';
import { type Cond, type LoopNest, lowerKernel, type SExpr } from './lower.js';

/** A compiled kernel: writes `out` from `inputs` (typed arrays, in Kernel.inputs order). */
export type KernelFn = (out: Storage, inputs: readonly Storage[]) => void;

export interface JsKernel {
  readonly fn: KernelFn;
  /** The generated source (for `--emit js`, snapshots and debugging); null for library kernels. */
  readonly source: string | null;
}

const v = (i: number): string => `i${i}`;

/** Generates the statements computing `e`, sharing subexpressions used more than once. */
function emitExpr(root: SExpr, stmts: string[]): string {
  const refs = new Map<SExpr, number>();
  const count = (e: SExpr): void => {
    const n = (refs.get(e) ?? 0) + 1;
    refs.set(e, n);
    if (n > 1) return;
    if (e.t === 'op') e.args.forEach(count);
    else if (e.t === 'cast') count(e.arg);
    else if (e.t === 'select') {
      count(e.a);
      count(e.b);
    }
  };
  count(root);
  const names = new Map<SExpr, string>();
  let tmp = 0;
  const cond = (c: Cond): string => {
    const e = toJs(c.e, v);
    return c.t === 'range' ? `(${e}) >= ${c.lo} && (${e}) < ${c.hi}` : `(${e}) % ${c.d} === 0`;
  };
  const gen = (e: SExpr): string => {
    const named = names.get(e);
    if (named) return named;
    let code: string;
    switch (e.t) {
      case 'load':
        code = `x${e.input}[${toJs(e.index, v)}]`;
        break;
      case 'const':
        code = Number.isNaN(e.value) ? 'NaN' : e.value === Infinity ? 'Infinity' : e.value === -Infinity ? '-Infinity' : `${e.value}`;
        if (code.startsWith('-')) code = `(${code})`;
        break;
      case 'index':
        code = `(${toJs(e.index, v)})`;
        break;
      case 'op':
        code = jsTemplate(e.op)(e.args.map(gen), e.dtype);
        break;
      case 'cast':
        code = e.dtype === 'bool' ? `(${gen(e.arg)} !== 0 ? 1 : 0)` : e.dtype === 'i32' ? `(Math.trunc(${gen(e.arg)}) | 0)` : gen(e.arg);
        break;
      case 'select':
        code = `(${e.conds.map(cond).join(' && ')} ? ${gen(e.a)} : ${gen(e.b)})`;
        break;
    }
    if ((refs.get(e) ?? 0) > 1 && e.t !== 'const') {
      const name = `t${tmp++}`;
      stmts.push(`const ${name} = ${code};`);
      names.set(e, name);
      return name;
    }
    return code;
  };
  return gen(root);
}

/** JS source of a loop nest: `function (out, x0, x1, ...)`. */
export function loopNestSource(nest: LoopNest, nInputs: number): string {
  const lines: string[] = [];
  const args = ['out', ...Array.from({ length: nInputs }, (_, i) => `x${i}`)];
  lines.push(`return function kernel(${args.join(', ')}) {`);
  const ext = nest.extents;
  let indent = '  ';
  const open = (d: number): void => {
    lines.push(`${indent}for (let ${v(d)} = 0; ${v(d)} < ${ext[d]}; ${v(d)}++) {`);
    indent += '  ';
  };
  const close = (): void => {
    indent = indent.slice(2);
    lines.push(`${indent}}`);
  };
  for (let d = 0; d < nest.outerLoops; d++) open(d);
  const stmts: string[] = [];
  if (!nest.reduce) {
    const value = emitExpr(nest.body, stmts);
    for (const s of stmts) lines.push(indent + s);
    lines.push(`${indent}out[${toJs(nest.out, v)}] = ${value};`);
  } else {
    const init = { sum: '0', prod: '1', max: '-Infinity', min: 'Infinity' }[nest.reduce];
    lines.push(`${indent}let acc = ${init};`);
    for (let d = nest.outerLoops; d < ext.length; d++) open(d);
    const value = emitExpr(nest.body, stmts);
    for (const s of stmts) lines.push(indent + s);
    const step = {
      sum: `acc += ${value};`,
      prod: `acc *= ${value};`,
      max: `{ const y = ${value}; if (y > acc || y !== y) acc = acc !== acc ? acc : y; }`,
      min: `{ const y = ${value}; if (y < acc || y !== y) acc = acc !== acc ? acc : y; }`,
    }[nest.reduce];
    lines.push(indent + step);
    for (let d = nest.outerLoops; d < ext.length; d++) close();
    lines.push(`${indent}out[${toJs(nest.out as IExpr, v)}] = acc;`);
  }
  for (let d = 0; d < nest.outerLoops; d++) close();
  lines.push('};');
  return lines.join('\n');
}

function compileSource(src: string, nInputs: number): KernelFn {
  const factory = new Function('h', src) as (h: typeof jsHelpers) => (...a: Storage[]) => void;
  const f = factory(jsHelpers);
  // NOTE: spread-free call paths for the common arities keep the call monomorphic.
  switch (nInputs) {
    case 0:
      return (out) => f(out);
    case 1:
      return (out, x) => f(out, x[0]!);
    case 2:
      return (out, x) => f(out, x[0]!, x[1]!);
    case 3:
      return (out, x) => f(out, x[0]!, x[1]!, x[2]!);
    default:
      return (out, x) => f(out, ...x);
  }
}

/** Batched matmul with transposes and broadcast batch dims, accumulating in float64. */
function matmulKernel(k: Kernel): JsKernel {
  const [a, b] = k.inputs as [typeof k.inputs[0], typeof k.inputs[0]];
  const out = k.node.out.type.shape;
  const r = out.length;
  const M = out[r - 2]!;
  const N = out[r - 1]!;
  const as = a!.type.shape;
  const K = k.transA ? as[as.length - 2]! : as[as.length - 1]!;
  const batch = out.slice(0, -2);
  const ia = broadcastIndex(as.slice(0, -2), batch);
  const ib = broadcastIndex(b!.type.shape.slice(0, -2), batch);
  const nb = numel(batch);
  const tA = Boolean(k.transA);
  const tB = Boolean(k.transB);
  const row = new Float64Array(N);
  const fn: KernelFn = (o, [A, B]) => {
    for (let p = 0; p < nb; p++) {
      const ao = (ia ? ia[p]! : p) * M * K;
      const bo = (ib ? ib[p]! : p) * K * N;
      const oo = p * M * N;
      for (let i = 0; i < M; i++) {
        row.fill(0);
        for (let kk = 0; kk < K; kk++) {
          const av = A![tA ? ao + kk * M + i : ao + i * K + kk]!;
          if (av === 0) continue;
          if (tB) for (let j = 0; j < N; j++) row[j]! += av * B![bo + j * K + kk]!;
          else {
            const bb = bo + kk * N;
            for (let j = 0; j < N; j++) row[j]! += av * B![bb + j]!;
          }
        }
        for (let j = 0; j < N; j++) o[oo + i * N + j] = row[j]!;
      }
    }
  };
  return { fn, source: null };
}

/** An op without a fused form runs its reference evaluator on the buffers. */
function opaqueKernel(k: Kernel): JsKernel {
  const n = k.node;
  const def = ops[n.op];
  const index = new Map(k.inputs.map((v, i) => [v, i]));
  const fn: KernelFn = (out, xs) => {
    const ins: NDArray[] = n.inputs.map((v) => ({ dtype: v.type.dtype, shape: v.type.shape, data: xs[index.get(v)!]! }));
    def.eval(ins, { dtype: n.out.type.dtype, shape: n.out.type.shape, data: out }, n.attrs);
  };
  return { fn, source: null };
}

/** Compiles one scheduled kernel to a JS function. */
export function compileJsKernel(k: Kernel): JsKernel {
  if (k.kind === 'matmul') return matmulKernel(k);
  if (k.kind === 'opaque') return opaqueKernel(k);
  const nest = lowerKernel(k);
  const source = loopNestSource(nest, k.inputs.length);
  return { fn: compileSource(source, k.inputs.length), source };
}

import type { NDArray, Storage } from '../ir/ndarray.js';
import { ops } from '../ir/ops/index.js';
import type { Kernel } from '../ir/schedule.js';
import { windowAttrs, windowOut } from '../ir/ops/conv.js';
import { normalizeAxis, numel, stridesOf } from '../ir/types.js';
import { type IExpr, toJs } from '../ir/index-expr.js';
import { jsHelpers, jsTemplate } from './js-templates.js';
import { type Cond, type LoopNest, lowerKernel, referenceCounts, type SExpr } from '../ir/loop-nest.js';
import { matmulGeometry } from '../ir/matmul.js';

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
  const refs = referenceCounts(root);
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
  const { m: M, n: N, k: K, transA: tA, transB: tB, aOffset, bOffset } = matmulGeometry(k);
  const row = new Float64Array(N);
  const fn: KernelFn = (o, [A, B]) => {
    for (let p = 0; p < aOffset.length; p++) {
      const ao = aOffset[p]!;
      const bo = bOffset[p]!;
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

// ---- source for every kernel (standalone exports: `--emit js`, the ES module exporter) ----

/**
 * JS source of any scheduled kernel, in `loopNestSource`'s form: a function body that, run
 * with `h` bound to `jsHelpers`, returns `function kernel(out, x0, x1, ...)`. Pointwise and
 * reduce kernels are their loop nests; matmul and the opaque ops are written out with shapes
 * baked in and compute what `compileJsKernel`'s kernels compute, in the same order.
 * NOTE: out-of-range gather/scatter indices throw a RangeError (the source has no kiln classes).
 */
export function kernelSource(k: Kernel): string {
  if (k.kind === 'pointwise' || k.kind === 'reduce') return loopNestSource(lowerKernel(k), k.inputs.length);
  if (k.kind === 'matmul') return matmulSource(k);
  const n = k.node;
  const arg = (i: number): string => `x${k.inputs.indexOf(n.inputs[i]!)}`;
  const args = ['out', ...k.inputs.map((_, i) => `x${i}`)].join(', ');
  const body = opaqueBody(k, arg);
  return [...body.setup, `return function kernel(${args}) {`, ...body.lines.map((l) => `  ${l}`), '};'].join('\n');
}

const intList = (xs: ArrayLike<number>): string => `[${Array.from(xs).join(', ')}]`;

function matmulSource(k: Kernel): string {
  const { m: M, n: N, k: K, aOffset, bOffset } = matmulGeometry(k);
  const batched = aOffset.length > 1 || aOffset[0] !== 0 || bOffset[0] !== 0;
  const aRead = k.transA ? `ao + kk * ${M} + i` : `ao + i * ${K} + kk`;
  const accumulate = k.transB
    ? [`for (let j = 0; j < ${N}; j++) row[j] += av * x1[bo + j * ${K} + kk];`]
    : [`const bb = bo + kk * ${N};`, `for (let j = 0; j < ${N}; j++) row[j] += av * x1[bb + j];`];
  return [
    ...(batched ? [`const ia = new Int32Array(${intList(aOffset)});`, `const ib = new Int32Array(${intList(bOffset)});`] : []),
    `const row = new Float64Array(${N});`,
    'return function kernel(out, x0, x1) {',
    `  for (let p = 0; p < ${aOffset.length}; p++) {`,
    `    const ao = ${batched ? 'ia[p]' : '0'};`,
    `    const bo = ${batched ? 'ib[p]' : '0'};`,
    `    const oo = p * ${M * N};`,
    `    for (let i = 0; i < ${M}; i++) {`,
    '      row.fill(0);',
    `      for (let kk = 0; kk < ${K}; kk++) {`,
    `        const av = x0[${aRead}];`,
    '        if (av === 0) continue;',
    ...accumulate.map((l) => `        ${l}`),
    '      }',
    `      for (let j = 0; j < ${N}; j++) out[oo + i * ${N} + j] = row[j];`,
    '    }',
    '  }',
    '};',
  ].join('\n');
}

/** Nested loops `d0, d1, ...` over `shape` around `body`. */
function loops(shape: readonly number[], body: readonly string[]): string[] {
  const lines: string[] = [];
  shape.forEach((n, d) => lines.push(`${'  '.repeat(d)}for (let d${d} = 0; d${d} < ${n}; d${d}++) {`));
  const pad = '  '.repeat(shape.length);
  for (const l of body) lines.push(pad + l);
  shape.forEach((_, d) => lines.push(`${'  '.repeat(shape.length - 1 - d)}}`));
  return lines;
}

/** Σ d_i · strides_i over the loop variables, with `axisTerm` in place of dim `axis`. */
function offset(strides: readonly number[], axis: number, axisTerm: string): string {
  return strides.map((s, d) => (d === axis ? `${axisTerm} * ${s}` : `d${d} * ${s}`)).join(' + ') || '0';
}

/** A bounds-checked index read from `src` into `k` (negative indices count from the end). */
function checkedIndex(op: string, src: string, size: number, axis: number): string[] {
  return [
    `let k = ${src};`,
    `if (k < ${-size} || k >= ${size}) throw new RangeError('${op}: index ' + k + ' is out of bounds for dim ${axis} with size ${size}');`,
    `if (k < 0) k += ${size};`,
  ];
}

function opaqueBody(k: Kernel, arg: (i: number) => string): { setup: string[]; lines: string[] } {
  const n = k.node;
  const x = n.inputs[0]!.type;
  const out = n.out.type;
  switch (n.op) {
    case 'gather': {
      const index = n.inputs[1]!.type.shape;
      const axis = normalizeAxis('gather', n.attrs.axis as number, x.shape.length);
      const body = [...checkedIndex('gather', `${arg(1)}[i]`, x.shape[axis] ?? 1, axis), `out[i++] = ${arg(0)}[${offset(stridesOf(x.shape), axis, 'k')}];`];
      return { setup: [], lines: ['let i = 0;', ...loops(index, body)] };
    }
    case 'scatter_add': {
      const index = n.inputs[1]!.type.shape;
      const axis = normalizeAxis('scatter_add', n.attrs.axis as number, x.shape.length);
      const src = offset(stridesOf(n.inputs[2]!.type.shape), -1, '');
      const body = [...checkedIndex('scatter_add', `${arg(1)}[i++]`, x.shape[axis] ?? 1, axis), `acc[${offset(stridesOf(x.shape), axis, 'k')}] += ${arg(2)}[${src}];`];
      return {
        setup: [`const acc = new Float64Array(${numel(out.shape)});`],
        lines: [`acc.set(${arg(0)});`, 'let i = 0;', ...loops(index, body), 'out.set(acc);'],
      };
    }
    case 'fold': {
      // NOTE: only folds with more than 64 window taps get here; smaller ones are loop nests.
      const w = windowAttrs(n.op, n.attrs);
      const [N, C, H, W] = out.shape as [number, number, number, number];
      const [oh, ow] = windowOut(n.op, x, [H, W], w);
      const sweep = [
        'let col = 0;',
        `for (let nc = 0; nc < ${N * C}; nc++) {`,
        `  const base = nc * ${H * W};`,
        `  for (let ki = 0; ki < ${w.kernel[0]}; ki++) {`,
        `    for (let kj = 0; kj < ${w.kernel[1]}; kj++) {`,
        `      for (let oi = 0; oi < ${oh}; oi++) {`,
        `        const i = oi * ${w.stride[0]} - ${w.padding[0]} + ki * ${w.dilation[0]};`,
        `        for (let oj = 0; oj < ${ow}; oj++) {`,
        `          const j = oj * ${w.stride[1]} - ${w.padding[1]} + kj * ${w.dilation[1]};`,
        `          if (i >= 0 && i < ${H} && j >= 0 && j < ${W}) acc[base + i * ${W} + j] += ${arg(0)}[col];`,
        '          col++;',
        '        }',
        '      }',
        '    }',
        '  }',
        '}',
      ];
      return { setup: [`const acc = new Float64Array(${numel(out.shape)});`], lines: ['acc.fill(0);', ...sweep, 'out.set(acc);'] };
    }
    case 'cumsum':
    case 'argmax':
    case 'argmin': {
      const axis = normalizeAxis(n.op, n.attrs.axis as number, x.shape.length);
      const len = x.shape[axis] ?? 1;
      const inner = stridesOf(x.shape)[axis] ?? 1;
      const outer = numel(x.shape.slice(0, axis));
      const scan =
        n.op === 'cumsum'
          ? ['let acc = 0;', `for (let k = 0; k < ${len}; k++) {`, `  const j = base + k * ${inner};`, `  acc += ${arg(0)}[j];`, '  out[j] = acc;', '}']
          : [
              `let best = ${arg(0)}[base];`,
              'let bestK = 0;',
              `for (let k = 1; k < ${len}; k++) {`,
              `  const v = ${arg(0)}[base + k * ${inner}];`,
              `  if (best === best && (v !== v || v ${n.op === 'argmax' ? '>' : '<'} best)) {`,
              '    best = v;',
              '    bestK = k;',
              '  }',
              '}',
              `out[o * ${inner} + i] = bestK;`,
            ];
      return {
        setup: [],
        lines: [
          `for (let o = 0; o < ${outer}; o++) {`,
          `  for (let i = 0; i < ${inner}; i++) {`,
          `    const base = o * ${len * inner} + i;`,
          ...scan.map((l) => `    ${l}`),
          '  }',
          '}',
        ],
      };
    }
    default:
      throw new Error(`codegen-js: no kernel source for ${n.op}`);
  }
}

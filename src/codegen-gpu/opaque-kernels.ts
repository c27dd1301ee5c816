/**
 * Kernels that are not a fused loop nest: matmul and the ops fusion leaves opaque (gather,
 * scatter_add, unfold, fold, cumsum, argmax, argmin), each as GLSL computing one output
 * element. Where several contributions land on one element (scatter_add, fold, cumsum), the
 * kernel gathers them in the order the CPU kernels add them.
 */
import type { Value } from '../ir/graph.js';
import { windowAttrs, windowOut } from '../ir/ops/conv.js';
import { matmulGeometry } from '../ir/matmul.js';
import type { Kernel } from '../ir/schedule.js';
import { normalizeAxis, numel, stridesOf } from '../ir/types.js';
import { CHUNK, delinearize, forRange, loader, PARTIAL, partLoop, partsFor, splitPrefix, SUM_BLOCK } from './glsl.js';
import { assemble, type GpuKernelSource, withParts } from './kernel-source.js';

const ld = (i: number, index: string): string => `${loader(i)}(${index})`;

/** A kernel of `outSize` elements whose loop is split into `parts` partial sums (if parts > 1). */
function summed(nInputs: number, outSize: number, parts: number, body: readonly string[], checks: GpuKernelSource['indexChecks'] = []): GpuKernelSource {
  const src = assemble(nInputs, outSize * parts, [...splitPrefix(parts), ...body], checks);
  return parts === 1 ? src : withParts(src, outSize, parts, 'sum');
}

/** Σ coords[d] * strides[d] as GLSL (terms with stride 0 dropped). */
function dot(coords: readonly string[], strides: readonly number[]): string {
  const terms = coords.flatMap((c, d) => (strides[d] === 0 ? [] : [strides[d] === 1 ? c : `${c} * ${strides[d]}`]));
  return terms.length ? terms.join(' + ') : '0';
}

/** Batched matmul with transposes and broadcast batch dims; K-loop as the js kernel runs it. */
export function matmulKernel(k: Kernel): GpuKernelSource {
  const [a, b] = k.inputs as [Value, Value];
  const out = k.node.out.type.shape;
  const { m: M, n: N, k: K } = matmulGeometry(k);
  const as = a.type.shape;
  const batch = out.slice(0, -2);
  // Per batch dim: how far (in matrices) each operand moves; 0 where it is broadcast.
  const matStrides = (shape: readonly number[]): number[] => {
    const bs = shape.slice(0, -2);
    const st = stridesOf(bs);
    const off = batch.length - bs.length;
    return batch.map((_, d) => (d < off || bs[d - off] === 1 ? 0 : st[d - off]!));
  };
  const sa = matStrides(as);
  const sb = matStrides(b.type.shape);
  const bvars = batch.map((_, d) => `b${d}`);
  const aIdx = k.transA ? `ao + kk * ${M} + i` : `ao + i * ${K} + kk`;
  const bIdx = k.transB ? `bo + j * ${K} + kk` : `bo + kk * ${N} + j`;
  const parts = partsFor(K + K / SUM_BLOCK);
  const body = [
    ...delinearize('t', [...batch, M, N], (v) => (v < batch.length ? bvars[v]! : v === batch.length ? 'i' : 'j')),
    `int ao = (${dot(bvars, sa)}) * ${M * K};`,
    `int bo = (${dot(bvars, sb)}) * ${K * N};`,
    'float acc = 0.0;',
    // NOTE: like the CPU kernels, a zero from A skips its row of B (0 * inf stays 0).
    ...partLoop('kk', K, parts, [`float av = ${ld(0, aIdx)};`, `if (av != 0.0) part += av * ${ld(1, bIdx)};`], SUM_BLOCK, PARTIAL),
    'return acc;',
  ];
  return summed(2, numel(out), parts, body);
}

/** Position of operand `i` of the node among the kernel's (deduplicated) inputs. */
const inputOf = (k: Kernel, i: number): number => k.inputs.indexOf(k.node.inputs[i]!);

/** out[idx] = x[idx with index[idx] along axis] (torch.gather); indices checked on the host. */
export function gatherKernel(k: Kernel): GpuKernelSource {
  const n = k.node;
  const x = n.inputs[0]!.type.shape;
  const index = n.inputs[1]!.type.shape;
  const axis = normalizeAxis('gather', n.attrs.axis as number, x.length);
  const size = x[axis] ?? 1;
  const coords = index.map((_, d) => `d${d}`);
  coords[axis] = 'kk';
  const body = [
    ...delinearize('t', index, (d) => `d${d}`),
    `int kk = int(${ld(inputOf(k, 1), 't')});`,
    `if (kk < 0) kk += ${size};`,
    `return ${ld(inputOf(k, 0), dot(coords, stridesOf(x)))};`,
  ];
  return assemble(k.inputs.length, numel(index), body, [{ op: 'gather', input: inputOf(k, 1), axis, size }]);
}

/**
 * out = base; out[index[q] along axis] += src[q] (torch.scatter_add). Each output element
 * sums the src entries aimed at it: those in its column along `axis`, in index order.
 */
export function scatterAddKernel(k: Kernel): GpuKernelSource {
  const n = k.node;
  const base = n.inputs[0]!.type.shape;
  const index = n.inputs[1]!.type.shape;
  const src = n.inputs[2]!.type.shape;
  const axis = normalizeAxis('scatter_add', n.attrs.axis as number, base.length);
  const size = base[axis] ?? 1;
  const coords = base.map((_, d) => `p${d}`);
  coords[axis] = 'kk';
  const inside = base.flatMap((_, d) => (d === axis || index[d]! >= base[d]! ? [] : [`p${d} < ${index[d]}`]));
  const len = index[axis] ?? 1;
  const parts = partsFor(len);
  const body = [
    ...delinearize('t', base, (d) => `p${d}`),
    `float acc = ${parts === 1 ? '' : 'c_ > 0 ? 0.0 : '}${ld(inputOf(k, 0), 't')};`,
    ...(inside.length ? [`if (!(${inside.join(' && ')})) return acc;`] : []),
    ...partLoop('kk', len, parts, [
      `int to = int(${ld(inputOf(k, 1), dot(coords, stridesOf(index)))});`,
      `if (to < 0) to += ${size};`,
      `if (to == p${axis}) acc += ${ld(inputOf(k, 2), dot(coords, stridesOf(src)))};`,
    ]),
    'return acc;',
  ];
  return summed(k.inputs.length, numel(base), parts, body, [{ op: 'scatter_add', input: inputOf(k, 1), axis, size }]);
}

/** col2im, unfold's adjoint: each pixel sums the window positions that cover it, (ki, kj) in order. */
export function foldKernel(k: Kernel): GpuKernelSource {
  const n = k.node;
  const out = n.out.type.shape as [number, number, number, number];
  const w = windowAttrs('fold', n.attrs);
  const [N, C, H, W] = out;
  const [oh, ow] = windowOut('fold', n.inputs[0]!.type, [H, W], w);
  const [kh, kw] = w.kernel;
  const body = [
    ...delinearize('t', [N, C, H, W], (v) => ['n', 'c', 'i', 'j'][v]!),
    'float acc = 0.0;',
    `for (int ki = 0; ki < ${kh}; ki++) {`,
    `  int si = i + ${w.padding[0]} - ki * ${w.dilation[0]};`,
    `  int oi = si / ${w.stride[0]};`,
    `  if (si < 0 || oi * ${w.stride[0]} != si || oi >= ${oh}) continue;`,
    `  for (int kj = 0; kj < ${kw}; kj++) {`,
    `    int sj = j + ${w.padding[1]} - kj * ${w.dilation[1]};`,
    `    int oj = sj / ${w.stride[1]};`,
    `    if (sj < 0 || oj * ${w.stride[1]} != sj || oj >= ${ow}) continue;`,
    `    acc += ${ld(0, `((n * ${C} + c) * ${kh * kw} + ki * ${kw} + kj) * ${oh * ow} + oi * ${ow} + oj`)};`,
    '  }',
    '}',
    'return acc;',
  ];
  return assemble(1, numel(out), body);
}

/** The (outer, axis, inner) split of a shape around `axis`. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [numel(shape.slice(0, axis)), shape[axis] ?? 1, numel(shape.slice(axis + 1))];
}

/**
 * Inclusive prefix sum along `axis`: each element sums its own prefix (len²/2 additions per
 * row, no scan passes; correctness first).
 */
export function cumsumKernel(k: Kernel): GpuKernelSource {
  const x = k.node.inputs[0]!.type.shape;
  const axis = normalizeAxis('cumsum', k.node.attrs.axis as number, x.length);
  const [outer, len, inner] = around(x, axis);
  const parts = partsFor(len);
  const body = [
    ...delinearize('t', [outer, len, inner], (v) => ['o', 'p', 'i'][v]!),
    'float acc = 0.0;',
    ...partLoop('kk', len, parts, ['if (kk > p) break;', `acc += ${ld(0, `(o * ${len} + kk) * ${inner} + i`)};`]),
    'return acc;',
  ];
  return summed(1, numel(x), parts, body);
}

/**
 * argmax / argmin along `axis`: the first extreme; the first NaN wins. Split, each part finds
 * the best of its chunk and a second kernel picks the best of the parts, in order.
 */
export function argKernel(k: Kernel): GpuKernelSource {
  const op = k.node.op as 'argmax' | 'argmin';
  const x = k.node.inputs[0]!.type.shape;
  const axis = normalizeAxis(op, k.node.attrs.axis as number, x.length);
  const [outer, len, inner] = around(x, axis);
  const parts = partsFor(len);
  const at = (input: number, kk: string): string => ld(input, `(o * ${len} + ${kk}) * ${inner} + i`);
  const better = `best == best && (v != v || v ${op === 'argmax' ? '>' : '<'} best)`;
  const pick = (v: string, kk: string): string[] => [`float v = ${v};`, `if (${better}) {`, '  best = v;', `  bestK = float(${kk});`, '}'];
  const decode = delinearize('t', [outer, inner], (v) => ['o', 'i'][v]!);
  const first = parts === 1 ? '0' : `c_ * ${CHUNK}`;
  const body = [
    ...splitPrefix(parts),
    ...decode,
    `float best = ${at(0, first)};`,
    `float bestK = float(${first});`,
    ...partLoop('kk', len, parts, pick(at(0, 'kk'), 'kk')),
    'return bestK;',
  ];
  const src = assemble(1, outer * inner * parts, body);
  if (parts === 1) return src;
  // The parts' winners: part 0's is the first candidate; later parts win only when better.
  const combine = [
    ...decode,
    `int k0 = int(${ld(0, `t * ${parts}`)});`,
    `float best = ${at(1, 'k0')};`,
    'float bestK = float(k0);',
    ...forRange('c', parts, [`int kc = int(${ld(0, `t * ${parts} + c`)});`, ...pick(at(1, 'kc'), 'kc')]),
    'return bestK;',
  ];
  return { ...src, then: { src: assemble(2, outer * inner, combine), reads: [-1, 0] } };
}

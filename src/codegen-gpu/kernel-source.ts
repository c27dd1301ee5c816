import { forRange, helpersFor, inputUniform, loader, PARTIAL, REDUCE_INIT, REDUCE_STEP, type ReduceOp, SUM_BLOCK } from './glsl.js';

/** An index input the host bounds-checks before the kernel runs (a shader cannot throw). */
export interface IndexCheck {
  readonly op: 'gather' | 'scatter_add';
  /** Which kernel input holds the indices. */
  readonly input: number;
  readonly axis: number;
  /** The size of the indexed dim; valid indices are in [-size, size). */
  readonly size: number;
}

/**
 * One kernel with its shapes baked in: a 1-D output of `outSize` float32 elements, computed
 * by the GLSL function `kiln_kernel(int t)` for output element t, which reads input j (in
 * Kernel.inputs order) through `k_ld<j>(i)`. i32 and bool values travel as floats (exact
 * for |x| < 2^24; bools are 0 and 1).
 */
export interface GpuKernelSource {
  readonly outSize: number;
  readonly nInputs: number;
  /** GLSL: the helpers `kiln_kernel` calls and `kiln_kernel` itself (loaders not included). */
  readonly body: string;
  readonly indexChecks: readonly IndexCheck[];
  /**
   * Set when the work per element is split (see LOOP_BUDGET): this kernel writes partial
   * results and `then` combines them into the value.
   */
  readonly then?: Combine;
}

/** A second kernel over the partial results (read -1) and the first kernel's inputs (j). */
export interface Combine {
  readonly src: GpuKernelSource;
  readonly reads: readonly number[];
}

/**
 * What one gpu.js kernel is built from: complete GLSL over bound input textures holding
 * `inputSizes` elements each. NOTE: gpu.js bakes every input texture's dimensions into the
 * shader, so a kernel is specific to its input sizes as well as to its GLSL.
 */
export interface GpuProgram {
  readonly outSize: number;
  readonly inputSizes: readonly number[];
  readonly glsl: string;
}

/** The name of the GLSL entry point (a gpu.js native function). */
export const KERNEL_FN = 'kiln_kernel';

/** The gpu.js kernel function (JavaScript source): output element t is kiln_kernel(t). */
export function kernelJs(textures: number): string {
  const args = [...Array.from({ length: textures }, (_, i) => `x${i}`), 'kz'];
  return `function (${args.join(', ')}) { return ${KERNEL_FN}(this.thread.x); }`;
}

/** Wraps body statements (which `return` the value of output element `t`) into a kernel. */
export function assemble(nInputs: number, outSize: number, body: readonly string[], indexChecks: readonly IndexCheck[] = []): GpuKernelSource {
  const fn = [`float ${KERNEL_FN}(int t) {`, ...body.map((l) => `  ${l}`), '}'].join('\n');
  const helpers = helpersFor(fn);
  return { outSize, nInputs, body: helpers ? `${helpers}\n${fn}` : fn, indexChecks };
}

/** Splits a kernel of `outSize` elements into `parts` partial results each, combined by `op`. */
export function withParts(partials: GpuKernelSource, outSize: number, parts: number, op: ReduceOp): GpuKernelSource {
  const y = `float y = ${loader(0)}(t * ${parts} + c);`;
  const loop = op === 'sum' ? forRange('c', parts, [y, 'part += y;'], SUM_BLOCK, PARTIAL) : forRange('c', parts, [y, REDUCE_STEP[op]]);
  const body = [`float acc = ${REDUCE_INIT[op]};`, ...loop, 'return acc;'];
  return { ...partials, then: { src: assemble(1, outSize, body), reads: [-1] } };
}

/** Reads element i of bound texture `u` (gpu.js's accessor for its float textures). */
const fetch = (u: number, i: string): string => {
  const name = inputUniform(u);
  return `getFloatFromSampler2D(${name}, ${name}Size, ${name}Dim, 0, 0, ${i})`;
};

/** The kernel with each input in its own texture (x0, x1, ...) of `sizes` elements. */
export function directProgram(src: GpuKernelSource, sizes: readonly number[]): GpuProgram {
  const loaders = sizes.map((_, j) => `float ${loader(j)}(int i) { return ${fetch(j, 'i')}; }`);
  return { outSize: src.outSize, inputSizes: sizes, glsl: [...loaders, src.body].join('\n') };
}

/** A packing kernel: which textures it reads (the kernel's input indices; -1: the previous pack). */
export interface PackStep {
  readonly program: GpuProgram;
  readonly reads: readonly number[];
}

/**
 * A kernel with more inputs than a gpu.js kernel can bind (`maxTextures`): packing kernels
 * concatenate the inputs' elements into one texture (each reads the previous pack and up to
 * maxTextures - 1 inputs), and the kernel reads input j at its offset in the last pack.
 */
export function packedPrograms(src: GpuKernelSource, sizes: readonly number[], maxTextures: number): { packs: PackStep[]; main: GpuProgram } {
  const offsets: number[] = [];
  let total = 0;
  for (const n of sizes) {
    offsets.push(total);
    total += n;
  }
  const packs: PackStep[] = [];
  let done = 0; // inputs already in the previous pack
  while (done < sizes.length) {
    const prev = packs.length > 0 ? 1 : 0;
    const take = Math.min(maxTextures - prev, sizes.length - done);
    const reads = [...(prev ? [-1] : []), ...Array.from({ length: take }, (_, i) => done + i)];
    const end = offsets[done + take - 1]! + sizes[done + take - 1]!;
    // Element t of this pack: the previous pack below offsets[done], then each new input's range.
    const lines = [`float ${KERNEL_FN}(int t) {`];
    if (prev) lines.push(`  if (t < ${offsets[done]}) return ${fetch(0, 't')};`);
    for (let i = 0; i < take; i++) {
      const j = done + i;
      lines.push(`  if (t < ${offsets[j]! + sizes[j]!}) return ${fetch(prev + i, `t - ${offsets[j]}`)};`);
    }
    lines.push('  return 0.0;', '}');
    const inputSizes = reads.map((r) => (r < 0 ? packs[packs.length - 1]!.program.outSize : sizes[r]!));
    packs.push({ program: { outSize: Math.max(1, end), inputSizes, glsl: lines.join('\n') }, reads });
    done += take;
  }
  const loaders = sizes.map((_, j) => `float ${loader(j)}(int i) { return ${fetch(0, `${offsets[j]} + i`)}; }`);
  const packed = packs[packs.length - 1]!.program.outSize;
  return { packs, main: { outSize: src.outSize, inputSizes: [packed], glsl: [...loaders, src.body].join('\n') } };
}

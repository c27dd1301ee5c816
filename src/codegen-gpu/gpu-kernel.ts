/**
 * Scheduled kernels → GLSL for gpu.js: fused pointwise and reduce kernels from their loop
 * nests (movement as index arithmetic, elementwise ops by the capability table), the rest by
 * their own emitters.
 */
import { CompileError } from '../ir/errors.js';
import type { Kernel } from '../ir/schedule.js';
import { delinearize, floatLit, forRange, intExpr, loader, PARTIAL, partLoop, partsFor, REDUCE_INIT, REDUCE_STEP, splitPrefix, SUM_BLOCK } from './glsl.js';
import { castGlsl, type GpuOp, gpuOps } from './gpu-ops.js';
import { assemble, type GpuKernelSource, withParts } from './kernel-source.js';
import { type Cond, type LoopNest, referenceCounts, type SExpr } from '../ir/loop-nest.js';

const loopVar = (v: number): string => `i${v}`;

/** Generates statements computing `root`, naming subexpressions used more than once. */
function emitValue(root: SExpr, stmts: string[]): string {
  const refs = referenceCounts(root);
  const names = new Map<SExpr, string>();
  const cond = (c: Cond): string => {
    const e = intExpr(c.e);
    return c.t === 'range' ? `${e} >= ${c.lo} && ${e} < ${c.hi}` : `k_imod(${e}, ${c.d}) == 0`;
  };
  const gen = (e: SExpr): string => {
    const named = names.get(e);
    if (named) return named;
    let code: string;
    switch (e.t) {
      case 'load':
        code = `${loader(e.input)}(${intExpr(e.index)})`;
        break;
      case 'const':
        code = floatLit(e.value);
        break;
      case 'index':
        code = `float(${intExpr(e.index)})`;
        break;
      case 'op': {
        const g: GpuOp = gpuOps[e.op];
        if (g.how !== 'elementwise') throw new CompileError(`codegen-gpu: ${e.op} is not elementwise (${g.how})`);
        code = g.glsl(e.args.map(gen), e.dtype);
        break;
      }
      case 'cast':
        code = castGlsl([gen(e.arg)], e.dtype);
        break;
      case 'select':
        code = `(${e.conds.map(cond).join(' && ')} ? ${gen(e.a)} : ${gen(e.b)})`;
        break;
    }
    if ((refs.get(e) ?? 0) > 1 && e.t !== 'const') {
      const name = `v${names.size}`;
      stmts.push(`float ${name} = ${code};`);
      names.set(e, name);
      return name;
    }
    return code;
  };
  return gen(root);
}

/** The output is written in row-major order of the outer loops (what `lowerKernel` produces). */
function checkRowMajor(nest: LoopNest): void {
  let stride = 1;
  let ok = nest.out.t === 'aff' && nest.out.c === 0;
  if (nest.out.t === 'aff') {
    for (let v = nest.outerLoops - 1; v >= 0; v--) {
      const e = nest.extents[v]!;
      if (e !== 1 && nest.out.terms.get(v) !== stride) ok = false;
      stride *= e;
    }
    for (const v of nest.out.terms.keys()) if (v >= nest.outerLoops) ok = false;
  }
  if (!ok) throw new CompileError('codegen-gpu: a loop nest whose output is not row-major over its outer loops');
}

/** A fused pointwise or reduce kernel from its loop nest. */
export function loopNestKernel(nest: LoopNest, nInputs: number): GpuKernelSource {
  checkRowMajor(nest);
  const ext = nest.extents;
  const outer = nest.outerLoops;
  const stmts: string[] = [];
  const value = emitValue(nest.body, stmts);
  if (!nest.reduce) return assemble(nInputs, nest.outSize, [...delinearize('t', ext, loopVar), ...stmts, `return ${value};`]);

  const op = nest.reduce;
  const red = ext.slice(outer);
  const step = op === 'sum' && red.length > 0 ? 'part += y;' : REDUCE_STEP[op];
  const inner = [...stmts, `float y = ${value};`, step];
  // A sum adds up blocks of its innermost loop, then the blocks.
  const innermost = (v: string, n: number, parts: number, body: readonly string[]): string[] =>
    op === 'sum' ? partLoop(v, n, parts, body, SUM_BLOCK, PARTIAL) : partLoop(v, n, parts, body);
  // Iterations per output element: every level of the nest, and the sum's blocks.
  let iterations = 0;
  let level = 1;
  for (const e of red) iterations += level *= e;
  const parts = partsFor(iterations + level / SUM_BLOCK);
  let loops: string[];
  if (parts === 1) {
    loops = inner;
    for (let v = ext.length - 1; v >= outer; v--) {
      loops = v === ext.length - 1 ? innermost(loopVar(v), ext[v]!, 1, loops) : forRange(loopVar(v), ext[v]!, loops);
    }
  } else {
    // Split: one flat loop over the reduced elements, in chunks, their loop variables recovered.
    const vars = delinearize('rr', red, (v) => loopVar(outer + v), 'rq_');
    loops = innermost('rr', level, parts, [...vars, ...inner]);
  }
  const body = [...splitPrefix(parts), ...delinearize('t', ext.slice(0, outer), loopVar), `float acc = ${REDUCE_INIT[op]};`, ...loops, 'return acc;'];
  const src = assemble(nInputs, nest.outSize * parts, body);
  return parts === 1 ? src : withParts(src, nest.outSize, parts, op);
}

/**
 * GLSL for one scheduled kernel. Pointwise and reduce kernels are given as loop nests by
 * `lower` (codegen-js's `lowerKernel`: the same fusion and index math as the CPU backends).
 */
export function gpuKernelSource(k: Kernel, lower: (k: Kernel) => LoopNest): GpuKernelSource {
  if (k.kind === 'pointwise' || k.kind === 'reduce') return loopNestKernel(lower(k), k.inputs.length);
  const g: GpuOp = gpuOps[k.node.op];
  if (g.how === 'kernel') return g.emit(k);
  const why = g.how === 'unsupported' ? g.reason : `a ${g.how} op scheduled as a ${k.kind} kernel`;
  throw new CompileError(`codegen-gpu: ${k.node.op}: no gpu kernel (${why})`);
}

import { compileJsKernel, type KernelFn } from '../codegen-js/js-kernel.js';
import { ArgumentError, inOp } from '../ir/errors.js';
import type { Graph, Value } from '../ir/graph.js';
import type { NDArray, Storage } from '../ir/ndarray.js';
import { allocStorage } from '../ir/ndarray.js';
import type { Kernel, Schedule } from '../ir/schedule.js';
import { formatType, typesEqual } from '../ir/types.js';
import { fuse } from '../passes/fuse.js';
import { pipelines, runPasses } from '../passes/index.js';
import { type BufferPlan, planMemory } from '../passes/plan-memory.js';
import type { Backend, Executable } from './backend.js';
import { profiler } from './profiler.js';

/** Where each kernel reads and writes: a param index, a planned slot, or an output index. */
export type Loc = { kind: 'param' | 'slot' | 'output'; i: number };

interface Step {
  fn: KernelFn;
  label: string;
  out: Loc;
  inputs: Loc[];
  origin: string | undefined;
}

/**
 * Where each value of a schedule lives at run time: params by index, graph outputs by output
 * index (fresh arrays each run), everything else in a planned slot.
 */
export function kernelLocations(schedule: Schedule, plan: BufferPlan) {
  const g = schedule.graph;
  const paramIndex = new Map(g.params.map((p, i) => [p, i]));
  const outputIndex = new Map<Value, number>();
  g.outputs.forEach((v, i) => {
    if (!outputIndex.has(v) && !paramIndex.has(v)) outputIndex.set(v, i);
  });
  const locOf = (v: Value): Loc => {
    const p = paramIndex.get(v);
    if (p !== undefined) return { kind: 'param', i: p };
    const o = outputIndex.get(v);
    if (o !== undefined) return { kind: 'output', i: o };
    return { kind: 'slot', i: plan.slotOf.get(v)! };
  };
  return { paramIndex, outputIndex, locOf };
}

/** A kernel's name in profiles: kind, root op, fused count, result type. */
export function kernelLabel(k: Kernel): string {
  const fused = k.fused.length > 1 ? `+${k.fused.length - 1}` : '';
  const gemm = k.transA || k.transB ? ` (${k.transA ? 'Aᵀ' : 'A'}·${k.transB ? 'Bᵀ' : 'B'})` : '';
  return `${k.kind} ${k.node.op}${fused} -> ${formatType(k.node.out.type)}${gemm}`;
}

/** Optimizes, fuses and plans a graph, then compiles every kernel with `compileKernel`. */
export function buildExecutable(graph: Graph, compile: (s: Schedule, k: Schedule['kernels'][number]) => KernelFn): Executable {
  const optimized = runPasses(graph, pipelines.O2);
  const schedule = fuse(optimized);
  const plan = planMemory(schedule);
  const g = schedule.graph;
  const { paramIndex, outputIndex, locOf } = kernelLocations(schedule, plan);
  const steps: Step[] = schedule.kernels.map((k) => ({
    fn: compile(schedule, k),
    label: kernelLabel(k),
    out: locOf(k.node.out),
    inputs: k.inputs.map(locOf),
    origin: k.node.origin,
  }));
  const slots = plan.slots.map((s) => allocStorage({ dtype: s.dtype, shape: [s.size] }, 'f32'));
  const params = g.params;
  const outputs = g.outputs;

  return {
    run(args: readonly NDArray[]): NDArray[] {
      if (args.length !== params.length) {
        throw new ArgumentError(`@${graph.name}: expected ${params.length} arguments, got ${args.length}`);
      }
      args.forEach((a, i) => {
        if (!typesEqual(a, params[i]!.type)) {
          throw new ArgumentError(`@${graph.name}: argument ${i} must be ${formatType(params[i]!.type)}, got ${formatType(a)}`);
        }
      });
      const outs: Storage[] = outputs.map((v, i) =>
        outputIndex.get(v) === i ? allocStorage(v.type, 'f32') : (undefined as unknown as Storage),
      );
      const get = (l: Loc): Storage =>
        l.kind === 'param' ? args[l.i]!.data : l.kind === 'slot' ? slots[l.i]! : outs[l.i]!;
      const timing = profiler.enabled;
      for (const s of steps) {
        const t0 = timing ? performance.now() : 0;
        try {
          s.fn(get(s.out), s.inputs.map(get));
        } catch (e) {
          throw inOp(e, s.origin);
        }
        if (timing) profiler.record(s.label, performance.now() - t0);
      }
      return outputs.map((v, i) => {
        const p = paramIndex.get(v);
        const data = p !== undefined ? args[p]!.data.slice() : outs[outputIndex.get(v)!]!;
        return { dtype: v.type.dtype, shape: v.type.shape, data };
      });
    },
  };
}

/** The `js` backend: fused kernels as generated JavaScript, matmul and the rest as JS loops. */
export const jsBackend: Backend = {
  name: 'js',
  compile: (graph) => buildExecutable(graph, (_s, k) => compileJsKernel(k).fn),
};

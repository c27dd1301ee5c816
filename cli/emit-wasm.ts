/**
 * `kiln compile --emit wasm`: the WebAssembly module the wasm backend builds for a graph,
 * one exported function per kernel that has a wasm form (fused pointwise and reduction
 * loops, f32 GEMMs), as src/runtime/wasm.ts builds it. binaryen is loaded here, on demand.
 */
import { lowerKernel } from '../src/ir/loop-nest.js';
import { emitGemm } from '../src/codegen-js/wasm-gemm.js';
import { emitLoopNest, getBinaryen, newKernelModule } from '../src/codegen-js/wasm-kernel.js';
import type { Graph } from '../src/ir/graph.js';
import type { Kernel } from '../src/ir/schedule.js';
import { formatType } from '../src/ir/types.js';
import { fuse } from '../src/passes/fuse.js';
import { CliError } from './errors.js';

export interface WasmArtifact {
  bytes: Uint8Array;
  /** One line per kernel: its export (or why it has none) and its signature. */
  listing: string[];
}

function gemmSpec(k: Kernel): { m: number; n: number; k: number; transA: boolean; transB: boolean; accumulate: false } {
  const out = k.node.out.type.shape;
  const a = k.inputs[0]!.type.shape;
  const r = out.length;
  return { m: out[r - 2]!, n: out[r - 1]!, k: k.transA ? a[a.length - 2]! : a[a.length - 1]!, transA: Boolean(k.transA), transB: Boolean(k.transB), accumulate: false };
}

/** Builds the module: exports `k<i>` for kernel i; it imports a shared `env.memory`. */
export async function wasmModule(graph: Graph): Promise<WasmArtifact> {
  const bin = await getBinaryen();
  const schedule = fuse(graph);
  const mod = newKernelModule(bin);
  const listing: string[] = [];
  try {
    schedule.kernels.forEach((k, i) => {
      const what = `${k.kind === k.node.op ? '' : `${k.kind} `}${k.node.op}${k.fused.length > 1 ? `+${k.fused.length - 1}` : ''} -> ${formatType(k.node.out.type)}`;
      if (k.kind === 'matmul' && k.node.out.type.dtype === 'f32') {
        emitGemm(bin, mod, `k${i}`, gemmSpec(k));
        const batched = k.node.out.type.shape.length > 2 ? ', called once per matrix of the batch' : '';
        listing.push(`k${i}(a, b, c, row_start, row_end, scratch): ${what}${batched}`);
      } else if (k.kind === 'pointwise' || k.kind === 'reduce') {
        emitLoopNest(bin, mod, `k${i}`, lowerKernel(k), k.inputs.map((v) => v.type.dtype));
        listing.push(`k${i}(${['out', ...k.inputs.map((_, j) => `x${j}`)].join(', ')}): ${what}`);
      } else {
        listing.push(`(kernel ${i} has no wasm form; it runs in JS): ${what}`);
      }
    });
    if (!mod.validate()) throw new CliError(`--emit wasm: binaryen rejected the module generated for @${graph.name}`);
    bin.setOptimizeLevel(2);
    bin.setShrinkLevel(0);
    mod.optimize();
    return { bytes: mod.emitBinary(), listing };
  } finally {
    mod.dispose();
  }
}

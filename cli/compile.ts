/**
 * `kiln compile`: a model file to optimized IR, or to an artifact (the JS kernels, ONNX).
 */
import type { Command } from 'commander';
import { compileJsKernel } from '../src/codegen-js/js-kernel.js';
import type { Graph } from '../src/ir/graph.js';
import type { Schedule } from '../src/ir/schedule.js';
import { formatType } from '../src/ir/types.js';
import { fuse } from '../src/passes/fuse.js';
import { writeAtomic } from '../src/platform/fs.js';
import { collect, irText, loadSource, optimize, optLevel, type OptLevel, weightsOf } from './common.js';
import { CliError } from './errors.js';
import { wasmModule } from './emit-wasm.js';
import { toOnnxBytes } from './exporters.js';

const EMITS = ['ir', 'js', 'wasm', 'onnx'] as const;
type Emit = (typeof EMITS)[number];

interface CompileFlags {
  input?: string[];
  entry?: string;
  emit: string;
  optLevel: OptLevel;
  dumpAfter?: string;
  traceRules?: boolean;
  output?: string;
}

export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description('compile a model file to optimized IR, or emit its kernels (js, wasm) or an ONNX model')
    .argument('<model.ts>', 'a TypeScript model file (a Module subclass with forward, or exported functions of tensors); also a saved graph (.kiln) or IR text (.kir)')
    .option('--input <name:type>', 'an input and its type, e.g. x:f32[1,784] (repeat for several)', collect)
    .option('--entry <name>', 'the class or function to compile (default: the one Module subclass no other class creates, else the one exported function)')
    .option('--emit <kind>', `what to produce: ${EMITS.join(', ')}`, 'ir')
    .option('-O, --opt-level <level>', 'optimization level: -O0 (dead code only), -O1, -O2', optLevel, 'O2')
    .option('--dump-after <pass>', 'also print the IR after this pass: canonicalize, fold, cse, dce, or fuse (the kernels)')
    .option('--trace-rules', 'report each pass and the rewrite rules that fired (stderr)')
    .option('-o, --output <file>', 'write the result to a file instead of stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ kiln compile examples/mlp/model.ts --input x:f32[1,64]
  $ kiln compile examples/mlp/model.ts --input x:f32[32,64] -O1 --dump-after canonicalize --trace-rules
  $ kiln compile examples/mlp/model.ts --input x:f32[1,64] --emit js -o mlp-kernels.js
  $ kiln compile examples/mlp/model.ts --input x:f32[1,64] --emit onnx -o mlp.onnx
  $ kiln compile examples/mlp/model.ts --input x:f32[32,64] --emit wasm -o mlp-kernels.wasm

--emit wasm writes the module the wasm backend builds: one export k<i> per kernel
with a wasm form (listed on stderr), taking byte offsets into an imported shared
env.memory.`,
    )
    .action(async (file: string, flags: CompileFlags) => {
      const emit = flags.emit as Emit;
      if (!EMITS.includes(emit)) throw new CliError(`--emit expects one of ${EMITS.join(', ')}, got '${flags.emit}'`);
      if ((emit === 'onnx' || emit === 'wasm') && !flags.output) throw new CliError(`--emit ${emit} writes binary data: give an output file with -o`);
      const src = await loadSource(file, { inputs: flags.input ?? [], ...(flags.entry ? { entry: flags.entry } : {}) });
      const graph = optimize(src.graph, {
        level: flags.optLevel,
        traceRules: Boolean(flags.traceRules),
        ...(flags.dumpAfter !== undefined ? { dumpAfter: flags.dumpAfter } : {}),
      });
      let out: string | Uint8Array;
      if (emit === 'ir') out = irText(graph);
      else if (emit === 'js') out = kernelsSource(graph);
      else if (emit === 'onnx') out = await toOnnxBytes(graph, weightsOf(src));
      else {
        const wasm = await wasmModule(graph);
        out = wasm.bytes;
        process.stderr.write(`${wasm.listing.map((l) => `// ${l}`).join('\n')}\n`);
      }
      if (flags.output) {
        writeAtomic(flags.output, out);
        process.stderr.write(`wrote ${flags.output} (${emit}, ${typeof out === 'string' ? out.length : out.byteLength} bytes)\n`);
      } else {
        process.stdout.write(out as string);
      }
    });
}

/**
 * The JavaScript the js backend generates for the graph: fused kernels as source, matmuls and
 * other library kernels named, in execution order.
 */
export function kernelsSource(graph: Graph): string {
  const schedule: Schedule = fuse(graph);
  const lines = [
    `// kiln --emit js: the kernels of @${graph.name}, in execution order.`,
    '// makeKernelN(h) returns `kernel(out, x0, x1, ...)` over flat typed arrays, shapes and strides baked in;',
    '// `h` holds the few helpers the code calls (erf, sigmoid, max2, min2: kiln\'s codegen-js jsHelpers).',
    '',
  ];
  schedule.kernels.forEach((k, i) => {
    const fused = k.fused.map((n) => n.op).join(' + ');
    const ins = k.inputs.map((v) => formatType(v.type)).join(', ');
    lines.push(`// kernel ${i}: ${k.kind === k.node.op ? '' : `${k.kind} `}${k.node.op} -> ${formatType(k.node.out.type)}  (fuses ${fused}; reads ${ins || 'nothing'})`);
    const { source } = compileJsKernel(k);
    if (source) lines.push(`function makeKernel${i}(h) {`, ...source.trim().split('\n').map((l) => `  ${l}`), '}');
    else lines.push(`// kernel ${i} runs a library routine (${k.kind === 'matmul' ? `GEMM${k.transA ? ', A transposed' : ''}${k.transB ? ', B transposed' : ''}` : k.node.op}).`);
    lines.push('');
  });
  return lines.join('\n');
}

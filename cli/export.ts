/**
 * `kiln export`: a model file or a saved graph, optimized, in a deployment format.
 */
import type { Command } from 'commander';
import { saveKilnGraph } from '../src/export/kiln-format.js';
import { writeAtomic } from '../src/platform/fs.js';
import { collect, loadSource, optimize, optLevel, type OptLevel, weightsOf } from './common.js';
import { CliError } from './errors.js';
import { toEsmSource, toOnnxBytes } from './exporters.js';

const FORMATS = ['kiln', 'onnx', 'esm'] as const;
type Format = (typeof FORMATS)[number];
const EXTENSIONS: Record<Format, string> = { kiln: '.kiln', onnx: '.onnx', esm: '.mjs' };

interface ExportFlags {
  format: string;
  output?: string;
  input?: string[];
  entry?: string;
  weights?: string;
  optLevel: OptLevel;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export a model file or a saved graph, optimized: kiln graph format, ONNX, or a standalone ES module')
    .argument('<source>', 'a model file (.ts, with --input), a saved graph (.kiln directory) or IR text (.kir, with --weights)')
    .option('--format <format>', `the output format: ${FORMATS.join(', ')}`, 'kiln')
    .option('-o, --output <path>', 'where to write (default: <name>.kiln, <name>.onnx or <name>.mjs)')
    .option('--input <name:type>', 'for a model file: an input and its type, e.g. x:f32[1,64] (repeat for several)', collect)
    .option('--entry <name>', 'for a model file: the class or function to compile')
    .option('--weights <ckpt.safetensors>', 'parameter values to use (e.g. from `kiln train --out`); default: the model\'s own initialization')
    .option('-O, --opt-level <level>', 'optimization level: -O0, -O1, -O2', optLevel, 'O2')
    .addHelpText(
      'after',
      `
Examples:
  $ kiln export examples/mlp/model.ts --input x:f32[1,64] --weights mlp.safetensors --format kiln -o mlp.kiln
  $ kiln export mlp.kiln --format onnx -o mlp.onnx
  $ kiln export mlp.kiln --format esm -o mlp.mjs     # then: node mlp.mjs

The kiln format is a directory: graph.kir (IR text), weights.safetensors and
manifest.json; load it with \`import { loadKilnGraph } from 'kiln/runtime'\`.`,
    )
    .action(async (source: string, flags: ExportFlags) => {
      const format = flags.format as Format;
      if (!FORMATS.includes(format)) throw new CliError(`--format expects one of ${FORMATS.join(', ')}, got '${flags.format}'`);
      const src = await loadSource(source, {
        inputs: flags.input ?? [],
        ...(flags.entry ? { entry: flags.entry } : {}),
        ...(flags.weights ? { weights: flags.weights } : {}),
      });
      const weights = weightsOf(src);
      const graph = optimize(src.graph, { level: flags.optLevel });
      const out = flags.output ?? `${src.stem}${EXTENSIONS[format]}`;
      // NOTE: optimization keeps the params, so the weights bind to the same positions.
      if (format === 'kiln') saveKilnGraph(out, graph, weights, { paramNames: src.paramNames });
      else if (format === 'onnx') writeAtomic(out, await toOnnxBytes(graph, weights));
      else writeAtomic(out, await toEsmSource(graph, weights));
      const nParams = [...weights.values()].reduce((n, t) => n + t.numel(), 0);
      process.stderr.write(`exported @${graph.name} (${graph.nodes.length} nodes, ${weights.size} tensors / ${nParams} parameters) to ${out} (${format})\n`);
    });
}

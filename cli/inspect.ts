/**
 * `kiln inspect`: a graph's IR, or a drawing of it (DOT, SVG, HTML).
 */
import type { Command } from 'commander';
import { writeAtomic } from '../src/platform/fs.js';
import { collect, irText, loadSource, optimize, optLevel, type OptLevel, sourceKind } from './common.js';
import { CliError } from './errors.js';
import { toDot, toHtml, toSvg } from './draw.js';

interface InspectFlags {
  dot?: boolean;
  svg?: boolean;
  html?: boolean;
  input?: string[];
  entry?: string;
  optLevel?: OptLevel;
  dumpAfter?: string;
  output?: string;
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('print a graph\'s IR, or draw it as Graphviz DOT, SVG or an HTML page')
    .argument('<source>', 'a saved graph (.kiln directory), IR text (.kir) or a model file (.ts, with --input)')
    .option('--dot', 'print Graphviz DOT text')
    .option('--svg', 'draw the graph as SVG (built-in layout, no Graphviz needed)')
    .option('--html', 'an HTML page with the SVG drawing and the IR text')
    .option('--input <name:type>', 'for a model file: an input and its type, e.g. x:f32[1,64] (repeat for several)', collect)
    .option('--entry <name>', 'for a model file: the class or function to compile')
    .option('-O, --opt-level <level>', 'optimize first: -O0, -O1, -O2 (default: show the graph as it is)', optLevel)
    .option('--dump-after <pass>', 'also print the IR after this pass (canonicalize, fold, cse, dce, or fuse: the kernels); implies -O2 unless -O is given')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ kiln inspect mlp.kiln
  $ kiln inspect examples/mlp/model.ts --input x:f32[1,64] -O2 --svg -o mlp.svg
  $ kiln inspect mlp.kiln --html -o mlp.html
  $ kiln inspect mlp.kiln --dot | dot -Tpng -o mlp.png`,
    )
    .action(async (source: string, flags: InspectFlags) => {
      const views = [flags.dot && 'dot', flags.svg && 'svg', flags.html && 'html'].filter(Boolean);
      if (views.length > 1) throw new CliError(`choose one of --dot, --svg, --html (got ${views.map((v) => `--${v}`).join(' and ')})`);
      if (sourceKind(source) !== 'model' && (flags.input?.length || flags.entry)) throw new CliError('--input and --entry are for model files');
      const src = await loadSource(source, { inputs: flags.input ?? [], ...(flags.entry ? { entry: flags.entry } : {}) });
      let graph = src.graph;
      const level = flags.optLevel ?? (flags.dumpAfter !== undefined ? 'O2' : undefined);
      if (level) graph = optimize(graph, { level, ...(flags.dumpAfter !== undefined ? { dumpAfter: flags.dumpAfter } : {}) });
      const text = flags.dot ? toDot(graph) : flags.svg ? toSvg(graph) : flags.html ? toHtml(graph) : irText(graph);
      if (flags.output) {
        writeAtomic(flags.output, text);
        process.stderr.write(`wrote ${flags.output}\n`);
      } else {
        process.stdout.write(text);
      }
    });
}

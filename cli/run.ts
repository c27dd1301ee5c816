/**
 * `kiln run`: runs a saved kiln graph on inputs read from `.npy` or `.json` files.
 */
import type { Command } from 'commander';
import { extname } from 'node:path';
import { isKilnGraphDir, type LoadedKilnGraph, loadKilnGraph } from '../src/export/kiln-format.js';
import { formatType } from '../src/ir/types.js';
import type { Tensor } from '../src/frontend-eager/tensor.js';
import { saveNpy } from '../src/data/npy.js';
import { writeAtomic } from '../src/platform/fs.js';
import { backendNames } from '../src/runtime/backend.js';
import { prepareBackend } from './backend.js';
import { collect, readTensorFile } from './common.js';
import { CliError } from './errors.js';

interface RunFlags {
  input?: string[];
  backend?: string;
  output?: string;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a saved kiln graph (a .kiln directory written by `kiln export`) on inputs from .npy or .json files')
    .argument('<graph>', 'a saved graph: a directory like mlp.kiln/')
    .option('--input <name=file>', 'an input: name=file.npy or name=file.json (nested arrays); the name may be left out when the graph has one input', collect)
    .option('--backend <name>', 'the engine: js (the optimizing compiler, default), wasm (its kernels as WebAssembly SIMD) or interp (the reference interpreter)')
    .option('-o, --output <file>', 'write the outputs to out.json (all outputs by name) or out.npy (one file per output) instead of printing them')
    .addHelpText(
      'after',
      `
Examples:
  $ kiln run mlp.kiln --input x=digit.npy
  $ kiln run mlp.kiln --input x=digit.json --backend interp -o logits.json

Outputs are printed PyTorch-style unless -o is given; a .json output holds
{"<output name>": nested arrays, ...}, a .npy output one array (several outputs
go to out.<name>.npy).`,
    )
    .action(async (path: string, flags: RunFlags) => {
      if (!isKilnGraphDir(path)) throw new CliError(`${path} is not a saved kiln graph (a directory with graph.kir, weights.safetensors and manifest.json; write one with \`kiln export --format kiln\`)`);
      if (flags.backend !== undefined && !backendNames().includes(flags.backend)) {
        throw new CliError(`--backend expects one of ${backendNames().join(', ')}, got '${flags.backend}'`);
      }
      if (flags.output !== undefined && !['.json', '.npy'].includes(extname(flags.output))) {
        throw new CliError(`-o ${flags.output}: expected a .json or .npy file`);
      }
      await prepareBackend(flags.backend);
      const g = loadKilnGraph(path, flags.backend ? { backend: flags.backend } : {});
      const inputs = readInputs(g, flags.input ?? []);
      const outputs = g.run(inputs);
      writeOutputs(g, outputs, flags.output);
    });
}

function readInputs(g: LoadedKilnGraph, specs: readonly string[]): Record<string, Tensor> {
  const wanted = g.manifest.inputs;
  const list = wanted.map((i) => `${i.name}: ${i.type}`).join(', ') || 'none';
  const out: Record<string, Tensor> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    let name: string;
    let file: string;
    if (eq > 0) {
      name = spec.slice(0, eq);
      file = spec.slice(eq + 1);
    } else if (wanted.length === 1) {
      name = wanted[0]!.name;
      file = spec;
    } else {
      throw new CliError(`--input ${spec}: say which input, as name=file (inputs: ${list})`);
    }
    const input = wanted.find((i) => i.name === name);
    if (!input) throw new CliError(`--input ${spec}: the graph has no input '${name}' (inputs: ${list})`);
    if (name in out) throw new CliError(`--input ${name} is given twice`);
    const param = g.manifest.params.findIndex((p) => p.kind === 'input' && p.name === name);
    out[name] = readTensorFile(file, g.graph.params[param]!.type, `--input ${name}`);
  }
  const missing = wanted.filter((i) => !(i.name in out));
  if (missing.length) throw new CliError(`missing --input for ${missing.map((i) => `${i.name} (${i.type})`).join(', ')}`);
  return out;
}

function writeOutputs(g: LoadedKilnGraph, outputs: Tensor[], file: string | undefined): void {
  const names = g.manifest.outputs.map((o) => o.name);
  if (!file) {
    outputs.forEach((t, i) => process.stdout.write(outputs.length > 1 ? `${names[i]}: ${formatType(t.type)}\n${t.toString()}\n` : `${t.toString()}\n`));
    return;
  }
  const ext = extname(file);
  if (ext === '.json') {
    const obj = Object.fromEntries(outputs.map((t, i) => [names[i]!, t.toArray()]));
    writeAtomic(file, `${JSON.stringify(obj)}\n`);
    process.stderr.write(`wrote ${file} (${outputs.map((t, i) => `${names[i]}: ${formatType(t.type)}`).join(', ')})\n`);
  } else {
    outputs.forEach((t, i) => {
      const path = outputs.length > 1 ? `${file.slice(0, -4)}.${names[i]}.npy` : file;
      writeAtomic(path, saveNpy(t));
      process.stderr.write(`wrote ${path} (${formatType(t.type)})\n`);
    });
  }
}

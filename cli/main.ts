#!/usr/bin/env node
/**
 * The `kiln` command line: compile, run, train, export, inspect, repl, bench.
 *
 * Errors go to stderr as one line (`kiln compile: ...`, or `model.ts:12:7: error: ...`) with
 * exit status 1 (2 for a command used wrongly); KILN_DEBUG=1 adds the stack trace.
 */
import { Command, CommanderError } from 'commander';
import { registerBench } from './bench.js';
import { registerCompile } from './compile.js';
import { CliError, formatError } from './errors.js';
import { registerExport } from './export.js';
import { registerInspect } from './inspect.js';
import { registerRepl } from './repl.js';
import { registerRun } from './run.js';
import { registerTrain } from './train.js';
import { kilnVersion } from './version.js';

function buildProgram(): Command {
  const program = new Command('kiln')
    .description('kiln: a compiler-first deep-learning toolkit for TypeScript')
    .version(kilnVersion(), '-V, --version')
    .showSuggestionAfterError()
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  $ kiln train examples/mlp/model.ts --data digits --epochs 10 --out mlp.safetensors
  $ kiln export examples/mlp/model.ts --input x:f32[1,64] --weights mlp.safetensors -o mlp.kiln
  $ kiln run mlp.kiln --input x=digit.json
  $ kiln compile examples/mlp/model.ts --input x:f32[1,64] -O2
  $ kiln inspect mlp.kiln --svg -o mlp.svg
  $ kiln repl

Set KILN_DEBUG=1 to see stack traces, KILN_BACKEND=interp to run on the reference interpreter.`,
    );
  registerCompile(program);
  registerRun(program);
  registerTrain(program);
  registerExport(program);
  registerInspect(program);
  registerRepl(program);
  registerBench(program);
  for (const c of program.commands) c.exitOverride().showSuggestionAfterError();
  return program;
}

// `kiln inspect x.kiln | head`: a closed pipe ends the output quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  let command = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'kiln';
  program.hook('preAction', (_root, action) => {
    command = action.name();
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander printed its message (or the help) already.
      return e.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`${formatError(command, e)}\n`);
    return e instanceof CliError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));

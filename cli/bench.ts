/**
 * `kiln bench`: the benchmark workloads of bench/main.ts (the peers' protocol, see
 * ../shared/bench/WORKLOADS.md), with the same flags.
 */
import type { Command } from 'commander';
import { prepareBackend } from './backend.js';

interface BenchFlags {
  json?: boolean;
  only?: string;
  backend?: string;
  list?: boolean;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('run the benchmark workloads (one JSON line per workload with --json)')
    .option('--json', 'one JSON line per workload (the peers\' format) instead of a table')
    .option('--only <list>', 'comma list of workload-id prefixes, e.g. W1,W3_mlp')
    .option('--backend <name>', 'kiln backend to measure (default: KILN_BACKEND, else js)')
    .option('--list', 'print the workload ids and exit')
    .addHelpText(
      'after',
      `
Examples:
  $ kiln bench --list
  $ kiln bench --only W1 --json
  $ kiln bench --backend interp --only W3`,
    )
    .action(async (flags: BenchFlags) => {
      const argv: string[] = [];
      if (flags.json) argv.push('--json');
      if (flags.only !== undefined) argv.push('--only', flags.only);
      if (flags.backend !== undefined) argv.push('--backend', flags.backend);
      if (flags.list) argv.push('--list');
      await prepareBackend(flags.backend);
      // NOTE: loaded here, so other commands do not load the workloads.
      const { main } = await import('../bench/main.js');
      const code = main(argv);
      if (code !== 0) process.exitCode = code;
    });
}

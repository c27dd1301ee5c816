/**
 * kiln's side of the peer benchmark (../shared/bench/WORKLOADS.md):
 *
 *   npm run bench -- [--json] [--only W1,W3] [--backend NAME] [--list]
 *   node dist/bench/main.js --json            (what run_all.py's `--add "kiln=node …"` runs)
 *
 * One JSON line per workload on stdout with `--json` (the peers' format, `peer: "kiln"`),
 * otherwise a readable table. Diagnostics (environment, loss before/after, values against
 * closed forms) go to stderr as `# ...` lines. A workload that throws gives a line with
 * `ms: null` and `error`, and the others still run.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runtime } from '../src/index.js';
import { bench, errorLine, type Line, resultLine, wanted } from './protocol.js';
import { suite } from './workloads.js';

const PEER = 'kiln';

export interface Args {
  json: boolean;
  only: string;
  backend: string | undefined;
  list: boolean;
  help: boolean;
}

/** `--json`, `--only X` / `--only=X`, `--backend NAME`, `--list`, `--help`; unknown flags are errors. */
export function parseArgs(argv: readonly string[]): Args {
  const out: Args = { json: false, only: '', backend: undefined, list: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const key = eq >= 0 ? a.slice(0, eq) : a;
    const value = (): string => {
      if (eq >= 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${key} needs a value`);
      return v;
    };
    if (key === '--json') out.json = true;
    else if (key === '--only') out.only = value();
    else if (key === '--backend') out.backend = value();
    else if (key === '--list') out.list = true;
    else if (key === '--help' || key === '-h') out.help = true;
    else throw new Error(`unknown argument ${a} (see --help)`);
  }
  return out;
}

const USAGE = `usage: node dist/bench/main.js [--json] [--only W1,W3_mlp] [--backend NAME] [--list]
  --json        one JSON line per workload (the peers' format) instead of a table
  --only LIST   comma list of workload-id prefixes (W1, W3_mlp_train_b128__compiled, ...)
  --backend     kiln backend (default: KILN_BACKEND or interp; available: ${runtime.backendNames().join(', ')})
  --list        print the workload ids and exit`;

function kilnVersion(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, '../package.json'), join(here, '../../package.json')]) {
    try {
      return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
    } catch {
      // try the next location (bench/ under tsx, dist/bench/ built)
    }
  }
  return 'unknown';
}

const TABLE_COLS: [string, number][] = [
  ['workload', 36],
  ['ms', 10],
  ['min', 10],
  ['max', 10],
  ['GFLOP/s', 9],
  ['reps x k', 9],
  ['first ms', 10],
];

function tableRow(cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(TABLE_COLS[i]![1]) : c.padStart(TABLE_COLS[i]![1]))).join(' ');
}

function formatRow(line: Line): string {
  if (line.ms === null) return `${line.workload.padEnd(TABLE_COLS[0]![1])} error: ${String(line.error)}`;
  const s = (v: unknown) => (v === null || v === undefined ? '-' : String(v));
  const row = tableRow([
    line.workload,
    s(line.ms),
    s(line.ms_min),
    s(line.ms_max),
    s(line.gflops),
    `${s(line.reps)}x${s(line.iters_per_rep)}`,
    s(line.first_call_ms),
  ]);
  return line.note ? `${row}  (${String(line.note)})` : row;
}

export function main(argv: readonly string[]): number {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const workloads = suite().filter((w) => wanted(args.only, w.id));
  if (args.list) {
    for (const w of workloads) process.stdout.write(`${w.id}\n`);
    return 0;
  }
  if (workloads.length === 0) {
    process.stderr.write(`no workload matches --only ${args.only} (see --list)\n`);
    return 2;
  }
  let backend: runtime.Backend;
  try {
    if (args.backend) runtime.setBackend(args.backend);
    backend = runtime.getBackend();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  // A backend may say how many threads it uses; the interpreter runs on the calling thread.
  const threads = (backend as { threads?: number }).threads ?? 1;
  const env = {
    kiln: kilnVersion(),
    backend: backend.name,
    threads,
    node: process.version,
    v8: process.versions.v8,
    kiln_backend_env: process.env.KILN_BACKEND ?? null,
    kiln_verify: process.env.KILN_VERIFY === '1',
  };
  process.stderr.write(`# env ${JSON.stringify(env)}\n`);
  if (!args.json) process.stdout.write(`kiln ${env.kiln}, backend ${backend.name}, ${threads} thread(s), node ${process.version}\n${tableRow(TABLE_COLS.map(([h]) => h))}\n`);

  const extra = { threads, backend: backend.name, variant: '' };
  let failures = 0;
  for (const w of workloads) {
    const more = { ...extra, variant: w.variant };
    let line: Line;
    try {
      const prepared = w.setup();
      const res = bench(() => prepared.step());
      line = resultLine(PEER, w.id, res, more);
      const diag = prepared.report();
      if (diag) process.stderr.write(`# ${w.id} ${diag}\n`);
    } catch (e) {
      failures++;
      line = errorLine(PEER, w.id, e, more);
      const at = String((e as Error | null)?.stack ?? '')
        .split('\n')
        .find((l) => l.trim().startsWith('at '));
      if (at) process.stderr.write(`# ${w.id} failed ${at.trim()}\n`);
    }
    process.stdout.write(args.json ? `${JSON.stringify(line)}\n` : `${formatRow(line)}\n`);
  }
  return failures ? 1 : 0;
}

// Run when executed (node dist/bench/main.js), not when imported by a test.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--backend');
  // The wasm backend loads binaryen and starts its worker threads asynchronously: wait, so the
  // workloads run wasm kernels (and threads) from their first call.
  if ((i >= 0 ? argv[i + 1] : process.env.KILN_BACKEND) === 'wasm') await runtime.prepareWasm();
  process.exitCode = main(argv);
}

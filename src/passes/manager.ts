import type { Graph } from '../ir/graph.js';
import { printGraph } from '../ir/printer.js';
import { verifyGraph } from '../ir/verifier.js';

/** A named graph-to-graph stage of the pipeline. */
export interface Pass {
  readonly name: string;
  run(g: Graph): Graph;
}

export interface PipelineOptions {
  /** Verify the graph after every pass (tests do). */
  verify?: boolean;
  /** Call `dump` with the printed graph after the pass of this name (`--dump-after=PASS`). */
  dumpAfter?: string;
  dump?: (passName: string, text: string) => void;
  /** Called after each pass with what it did (for `--trace-rules` and profiling). */
  trace?: (passName: string, before: Graph, after: Graph) => void;
}

/** Runs `passes` in order. */
export function runPasses(g: Graph, passes: readonly Pass[], opts: PipelineOptions = {}): Graph {
  for (const p of passes) {
    const next = p.run(g);
    if (opts.verify) verifyGraph(next);
    opts.trace?.(p.name, g, next);
    if (opts.dumpAfter === p.name) (opts.dump ?? ((_n, t) => console.log(t)))(p.name, printGraph(next));
    g = next;
  }
  return g;
}

import type { Graph, Value } from '../ir/graph.js';
import { IRVerifyError } from '../ir/errors.js';
import { parseGraph } from '../ir/parser.js';
import { printGraph } from '../ir/printer.js';
import { verifyGraph } from '../ir/verifier.js';
import type { Backend, Executable } from './backend.js';
import { debug } from './debug.js';

/** The checks `KILN_VERIFY=1` adds before compiling: verifier, then the text round trip. */
export function checkGraph(graph: Graph): void {
  verifyGraph(graph);
  const text = printGraph(graph);
  if (printGraph(parseGraph(text)) !== text) {
    throw new IRVerifyError(`@${graph.name}: print(parse(print(g))) differs from print(g):\n${text}`);
  }
}

/**
 * A structural key: two graphs with equal keys compute the same function of their
 * parameters (op, attrs, operand positions and types; names and ids ignored).
 */
export function structuralKey(g: Graph): string {
  const ids = new Map<Value, number>();
  const parts: string[] = [];
  g.params.forEach((p, i) => {
    ids.set(p, i);
    parts.push(`${p.type.dtype}${p.type.shape.join('x')}`);
  });
  parts.push('|');
  for (const n of g.nodes) {
    ids.set(n.out, ids.size);
    parts.push(`${n.op}(${n.inputs.map((v) => ids.get(v)).join(',')})${JSON.stringify(n.attrs, numberSafe)}:${n.out.type.dtype}${n.out.type.shape.join('x')}`);
  }
  parts.push(`->${g.outputs.map((v) => ids.get(v)).join(',')}`);
  return parts.join(';');
}

function numberSafe(_k: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
}

/** In-memory executable cache keyed by backend and structure. */
export class ExecutableCache {
  private readonly map = new Map<string, Executable>();
  hits = 0;
  misses = 0;

  get(backend: Backend, graph: Graph): Executable {
    return this.getByKey(backend, structuralKey(graph), () => graph);
  }

  /**
   * The executable for a structure `key` (which must determine the graph up to names);
   * `build` makes the graph only on a miss.
   */
  getByKey(backend: Backend, key: string, build: () => Graph): Executable {
    const full = `${backend.name}\n${key}`;
    let exe = this.map.get(full);
    if (exe) {
      this.hits++;
      return exe;
    }
    this.misses++;
    const graph = build();
    if (debug.verify) checkGraph(graph);
    exe = backend.compile(graph);
    this.map.set(full, exe);
    return exe;
  }

  clear(): void {
    this.map.clear();
  }
}

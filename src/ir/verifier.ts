import { IRVerifyError } from './errors.js';
import type { AttrValue, Graph, Value } from './graph.js';
import { inferType, isOpName } from './ops/index.js';
import { nodeLine, printGraph, valueNames } from './printer.js';
import type { TensorType } from './types.js';
import { formatType, typesEqual } from './types.js';

/**
 * Checks a graph's invariants: parameters are parameters, every operand is defined before
 * use, every value is assigned once, each node's declared type is what its op's rules give
 * for its inputs and attributes, and the outputs are defined (and match the signature the
 * text declared, for parsed graphs). Throws IRVerifyError printing the IR around the fault:
 *
 * ```
 * @f: type mismatch: add of f32[3], f32[3] gives f32[3], declared f32[4]
 *    1 | func @f(%x: f32[3], %y: f32[3]) -> (f32[4]) {
 *    2 |   %0 = neg %x : f32[3]
 * >  3 |   %1 = add %0, %y : f32[4]
 *      |   error: type mismatch: add of f32[3], f32[3] gives f32[3], declared f32[4]
 *    4 |   return %1
 *    5 | }
 * ```
 */
export function verifyGraph(g: Graph): void {
  const fault = findFault(g);
  if (fault) throw new IRVerifyError(formatFault(g, fault));
}

export function verifyModule(gs: readonly Graph[]): void {
  for (const g of gs) verifyGraph(g);
}

/** Result types a parsed `func` declared in its signature; the graph itself only has its outputs. */
const declaredResults = new WeakMap<Graph, readonly TensorType[]>();

/** Records the signature's result types so the verifier can check the return against them. */
export function declareResults(g: Graph, types: readonly TensorType[]): void {
  declaredResults.set(g, types);
}

/** A broken invariant: the line of `printGraph(g)` at fault (1-based) and what is wrong. */
export interface Fault {
  readonly line: number;
  readonly what: string;
}

/** The first broken invariant of `g`, or null when it is valid. */
export function findFault(g: Graph): Fault | null {
  const names = valueNames(g);
  const ref = (v: Value): string => names.get(v) ?? `%?v${v.id}`;
  const defined = new Map<Value, number>(); // value → line of its definition
  const header = 1;

  for (const p of g.params) {
    if (p.node !== null) return { line: header, what: `parameter ${ref(p)} is the result of a ${p.node.op} node` };
    if (defined.has(p)) return { line: header, what: `parameter ${ref(p)} appears twice` };
    defined.set(p, header);
  }

  // Where each node result is (first) defined, to tell use-before-def from a foreign value.
  const defLine = new Map<Value, number>();
  g.nodes.forEach((n, i) => {
    if (!defLine.has(n.out)) defLine.set(n.out, nodeLine(i));
  });

  for (const [i, node] of g.nodes.entries()) {
    const line = nodeLine(i);
    const at = (what: string): Fault => ({ line, what });
    if (!isOpName(node.op)) return at(`unknown op '${String(node.op)}'`);
    const first = defined.get(node.out);
    if (first !== undefined) {
      return at(`${ref(node.out)} is assigned twice (first ${first === header ? 'as a parameter' : `on line ${first}`})`);
    }
    if (node.out.node !== node) return at(`the result value of this ${node.op} belongs to another node`);
    for (const [k, x] of node.inputs.entries()) {
      if (defined.has(x)) continue;
      const later = defLine.get(x);
      return at(
        later !== undefined
          ? `operand ${k} (${ref(x)}) is used before its definition on line ${later}`
          : `operand ${k} (${ref(x)}) is not defined in @${g.name}`,
      );
    }
    for (const [key, v] of Object.entries(node.attrs)) {
      if (!isPlainAttr(v)) return at(`${node.op}: attribute '${key}' is not plain JSON (numbers, strings, booleans, null, lists)`);
    }
    const inputTypes = node.inputs.map((x) => x.type);
    let inferred: TensorType;
    try {
      inferred = inferType(node.op, inputTypes, node.attrs);
    } catch (e) {
      // NOTE: the rules throw kiln errors naming the op; anything else is reported too, as a rule bug.
      return at(e instanceof Error ? e.message : String(e));
    }
    if (!typesEqual(inferred, node.out.type)) {
      const of = inputTypes.length > 0 ? ` of ${inputTypes.map(formatType).join(', ')}` : '';
      return at(`type mismatch: ${node.op}${of} gives ${formatType(inferred)}, declared ${formatType(node.out.type)}`);
    }
    defined.set(node.out, line);
  }

  const ret = nodeLine(g.nodes.length);
  for (const [k, v] of g.outputs.entries()) {
    if (!defined.has(v)) return { line: ret, what: `return: result ${k} (${ref(v)}) is not defined in @${g.name}` };
  }
  const declared = declaredResults.get(g);
  if (declared) {
    const got = g.outputs.map((v) => v.type);
    const list = (ts: readonly TensorType[]): string => `(${ts.map(formatType).join(', ')})`;
    if (declared.length !== got.length) {
      return {
        line: ret,
        what: `return: @${g.name} declares ${declared.length} results ${list(declared)} but returns ${got.length} ${list(got)}`,
      };
    }
    for (const [k, t] of declared.entries()) {
      if (!typesEqual(t, got[k]!)) {
        return { line: ret, what: `return: result ${k} is ${formatType(got[k]!)}, declared ${formatType(t)}` };
      }
    }
  }
  return null;
}

function isPlainAttr(v: AttrValue | undefined): boolean {
  if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return true;
  return Array.isArray(v) && (v as readonly AttrValue[]).every(isPlainAttr);
}

/** Lines of context printed before and after the faulty line. */
const CONTEXT = 3;

/** `@f: <what>`, then the printed graph around the fault with the line marked. */
export function formatFault(g: Graph, fault: Fault): string {
  const lines = printGraph(g).trimEnd().split('\n');
  const from = Math.max(1, fault.line - CONTEXT);
  const to = Math.min(lines.length, fault.line + CONTEXT);
  const width = String(to).length;
  const out = [`@${g.name}: ${fault.what}`];
  for (let n = from; n <= to; n++) {
    const text = lines[n - 1]!;
    out.push(`${n === fault.line ? '>' : ' '} ${String(n).padStart(width + 1)} | ${text}`);
    if (n === fault.line) {
      const indent = /^\s*/.exec(text)![0];
      out.push(`  ${' '.repeat(width + 1)} | ${indent}error: ${fault.what}`);
    }
  }
  return out.join('\n');
}

import type { Attrs, AttrValue, Graph, Node, SourceLoc, Value } from './graph.js';
import { formatType } from './types.js';

/**
 * The canonical text form of the IR. `parseGraph(printGraph(g))` rebuilds `g`, and printing
 * that again gives the same text byte for byte:
 *
 * ```
 * func @mlp(%x: f32[32,784], %w1: f32[784,128], %b1: f32[128]) -> (f32[32,128]) {
 *   %0 = matmul %x, %w1 : f32[32,128]
 *   %1 = add %0, %b1 : f32[32,128]
 *   %2 = relu %1 : f32[32,128] loc("model.ts":12:7)
 *   return %2
 * }
 * ```
 *
 * NOTE: one line per node, so node i is on line i + 2 (the verifier relies on it).
 */

/** Names a parameter, a graph or an attribute key may keep as written. */
export const IDENT = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const ATTR_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The 1-based line of node `i` in `printGraph`'s output; the return line is `nodeLine(g.nodes.length)`. */
export function nodeLine(i: number): number {
  return i + 2;
}

/** Prints a graph as one `func`, ending in a newline. Never throws, even on invalid graphs. */
export function printGraph(g: Graph): string {
  const names = valueNames(g);
  const ref = (v: Value): string => names.get(v) ?? `%?v${v.id}`;
  const params = g.params.map((p) => `${ref(p)}: ${formatType(p.type)}`).join(', ');
  const results = g.outputs.map((v) => formatType(v.type)).join(', ');
  const lines = [`func @${formatSymbol(g.name)}(${params}) -> (${results}) {`];
  g.nodes.forEach((node, i) => lines.push(`  %${i} = ${formatNodeBody(node, ref)}`));
  lines.push(g.outputs.length > 0 ? `  return ${g.outputs.map(ref).join(', ')}` : '  return');
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** Prints several graphs, separated by a blank line. */
export function printModule(gs: readonly Graph[]): string {
  return gs.map(printGraph).join('\n');
}

/**
 * Names every value defined in `g`: parameters keep their names where those are unique
 * identifiers (else `%arg<i>`), node results are `%0, %1, ...` in node order.
 * NOTE: the first definition of a value wins, so an invalid graph still prints.
 */
export function valueNames(g: Graph): Map<Value, string> {
  const names = new Map<Value, string>();
  const kept = new Set<string>();
  const keep = g.params.map((p) => {
    const ok = p.name !== undefined && IDENT.test(p.name) && !kept.has(p.name);
    if (ok) kept.add(p.name!);
    return ok;
  });
  const used = new Set(kept);
  g.params.forEach((p, i) => {
    if (names.has(p)) return;
    let name = keep[i] ? p.name! : `arg${i}`;
    if (!keep[i]) {
      while (used.has(name)) name += '_';
      used.add(name);
    }
    names.set(p, `%${name}`);
  });
  g.nodes.forEach((node, i) => {
    if (!names.has(node.out)) names.set(node.out, `%${i}`);
  });
  return names;
}

function formatNodeBody(node: Node, ref: (v: Value) => string): string {
  let s = node.op;
  if (node.inputs.length > 0) s += ` ${node.inputs.map(ref).join(', ')}`;
  const attrs = formatAttrs(node.attrs);
  if (attrs) s += ` ${attrs}`;
  s += ` : ${formatType(node.out.type)}`;
  if (node.loc) s += ` ${formatSourceLoc(node.loc)}`;
  return s;
}

/** `{k=v, ...}` in sorted key order, or '' when there are none. */
export function formatAttrs(attrs: Attrs): string {
  const keys = Object.keys(attrs).sort();
  if (keys.length === 0) return '';
  const items = keys.map((k) => `${ATTR_KEY.test(k) ? k : JSON.stringify(k)}=${formatAttrValue(attrs[k])}`);
  return `{${items.join(', ')}}`;
}

/** JSON, except numbers: `inf`, `-inf`, `nan`, `-0`, else JS's shortest round-trip form. */
export function formatAttrValue(v: AttrValue | undefined): string {
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return JSON.stringify(v);
  if (Array.isArray(v)) return `[${(v as readonly AttrValue[]).map(formatAttrValue).join(',')}]`;
  return `<invalid ${typeof v}>`; // NOTE: only reachable on graphs the verifier rejects
}

export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (Object.is(n, -0)) return '-0';
  return String(n);
}

export function formatSourceLoc(loc: SourceLoc): string {
  return `loc(${JSON.stringify(loc.file)}:${loc.line}:${loc.col})`;
}

function formatSymbol(name: string): string {
  return IDENT.test(name) ? name : JSON.stringify(name);
}

/**
 * Drawings of a graph for `kiln inspect`: Graphviz DOT text, and an SVG made here by a small
 * layered (Sugiyama-style) layout, so no Graphviz is needed:
 *
 *   1. layers: longest path from the params, then every vertex sinks to just above its
 *      first use (scalar constants get a box per use);
 *   2. edges that span layers get a dummy vertex per layer crossed (they bend there);
 *   3. order within layers: barycenter sweeps, down and up, to reduce crossings;
 *   4. x positions: each vertex pulled toward its neighbours' mean, then pushed apart.
 */
import type { Graph, Value } from '../src/ir/graph.js';
import { formatAttrs, formatAttrValue, printGraph, valueNames } from '../src/ir/printer.js';
import { formatType } from '../src/ir/types.js';

type Kind = 'param' | 'op' | 'const' | 'return' | 'dummy';

interface Vertex {
  id: number;
  kind: Kind;
  lines: string[];
  title: string;
  layer: number;
  order: number;
  x: number;
  w: number;
  h: number;
}

interface Edge {
  from: number;
  to: number;
}

/** The graph as vertices (params, nodes, `return`) and producer → consumer edges. */
function buildView(g: Graph): { vertices: Vertex[]; edges: Edge[] } {
  const names = valueNames(g);
  const irLines = printGraph(g).split('\n');
  const vertices: Vertex[] = [];
  const byValue = new Map<Value, number>();
  const add = (kind: Kind, lines: string[], title: string): number => {
    const id = vertices.length;
    const width = Math.max(...lines.map((l) => l.length));
    vertices.push({ id, kind, lines, title, layer: 0, order: 0, x: 0, w: kind === 'dummy' ? 0 : width * 7 + 18, h: kind === 'dummy' ? 0 : lines.length * 15 + 12 });
    return id;
  };
  g.params.forEach((p) => byValue.set(p, add('param', [names.get(p)!, formatType(p.type)], `${names.get(p)}: ${formatType(p.type)}`)));
  const edges: Edge[] = [];
  // NOTE: a scalar constant gets its own small box at each use, so it draws no long edges.
  const scalarConst = new Map<Value, () => number>();
  const source = (v: Value): number => scalarConst.get(v)?.() ?? byValue.get(v)!;
  g.nodes.forEach((n, i) => {
    const lines = [`${names.get(n.out)} = ${n.op}`, formatType(n.out.type)];
    const title = irLines[i + 1]!.trim();
    if (n.op === 'const') {
      lines[0] += ` ${formatAttrValue(n.attrs.value)}`; // dtype and shape are in the type
      if (n.out.type.shape.length === 0) {
        scalarConst.set(n.out, () => add('const', lines, title));
        return;
      }
    } else {
      const attrs = formatAttrs(n.attrs);
      if (attrs && attrs.length <= 40) lines.push(attrs);
    }
    const kind: Kind = n.op === 'const' || n.op === 'iota' ? 'const' : 'op';
    const froms = [...new Set(n.inputs)].map(source); // NOTE: before `add`, so ids stay topological
    const id = add(kind, lines, title);
    byValue.set(n.out, id);
    for (const f of froms) edges.push({ from: f, to: id });
  });
  const froms = [...new Set(g.outputs)].map(source);
  const ret = add('return', ['return'], irLines[g.nodes.length + 1]!.trim());
  for (const f of froms) edges.push({ from: f, to: ret });
  return { vertices, edges };
}

/** Graphviz DOT text of the graph (render with `dot -Tsvg`). */
export function toDot(g: Graph): string {
  const { vertices, edges } = buildView(g);
  const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const shape: Record<Kind, string> = { param: 'shape=ellipse, style=filled, fillcolor="#dbeafe"', op: 'shape=box, style="rounded,filled", fillcolor="#f8fafc"', const: 'shape=box, style="rounded,filled", fillcolor="#f1f5f9", fontsize=9', return: 'shape=doubleoctagon, style=filled, fillcolor="#dcfce7"', dummy: 'shape=point' };
  const lines = [`digraph "${esc(g.name)}" {`, '  rankdir=TB;', '  node [fontname="monospace", fontsize=10];', '  edge [arrowsize=0.6];'];
  for (const v of vertices) lines.push(`  v${v.id} [label="${v.lines.map(esc).join('\\n')}", tooltip="${esc(v.title)}", ${shape[v.kind]}];`);
  for (const e of edges) lines.push(`  v${e.from} -> v${e.to};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

const LAYER_GAP = 46;
const NODE_GAP = 18;
const MARGIN = 20;

/** Lays the graph out in layers and returns vertex positions and edge routes. */
function layout(g: Graph): { vertices: Vertex[]; routes: { points: [number, number][] }[]; y: number[]; width: number; height: number } {
  const { vertices, edges } = buildView(g);
  const ins = vertices.map(() => [] as number[]);
  const outs = vertices.map(() => [] as number[]);
  for (const e of edges) {
    ins[e.to]!.push(e.from);
    outs[e.from]!.push(e.to);
  }
  // 1. Layers. Vertex ids are already in topological order (params, nodes, return).
  for (const v of vertices) v.layer = ins[v.id]!.length ? Math.max(...ins[v.id]!.map((u) => vertices[u]!.layer + 1)) : 0;
  // Then every vertex but `return` sinks to just above its first use (params and weights
  // sit beside the op that reads them, not all at the top).
  for (let i = vertices.length - 2; i >= 0; i--) {
    const v = vertices[i]!;
    if (outs[v.id]!.length) v.layer = Math.min(...outs[v.id]!.map((u) => vertices[u]!.layer)) - 1;
  }
  // 2. Dummy vertices on long edges; each edge becomes a chain of unit edges.
  const chains: number[][] = [];
  const adjDown = vertices.map(() => [] as number[]);
  const adjUp = vertices.map(() => [] as number[]);
  const link = (a: number, b: number): void => {
    adjDown[a]!.push(b);
    adjUp[b]!.push(a);
  };
  for (const e of edges) {
    const chain = [e.from];
    for (let l = vertices[e.from]!.layer + 1; l < vertices[e.to]!.layer; l++) {
      const d: Vertex = { id: vertices.length, kind: 'dummy', lines: [], title: '', layer: l, order: 0, x: 0, w: 0, h: 0 };
      vertices.push(d);
      adjDown.push([]);
      adjUp.push([]);
      chain.push(d.id);
    }
    chain.push(e.to);
    for (let i = 1; i < chain.length; i++) link(chain[i - 1]!, chain[i]!);
    chains.push(chain);
  }
  const nLayers = Math.max(...vertices.map((v) => v.layer)) + 1;
  const layers: Vertex[][] = Array.from({ length: nLayers }, () => []);
  for (const v of vertices) layers[v.layer]!.push(v);
  layers.forEach((l) => l.forEach((v, i) => (v.order = i)));
  // 3. Barycenter ordering sweeps.
  const bary = (v: Vertex, adj: number[][]): number => {
    const ns = adj[v.id]!;
    return ns.length ? ns.reduce((s, u) => s + vertices[u]!.order, 0) / ns.length : v.order;
  };
  for (let sweep = 0; sweep < 8; sweep++) {
    const down = sweep % 2 === 0;
    const seq = down ? layers.slice(1) : layers.slice(0, -1).reverse();
    for (const layer of seq) {
      const keys = new Map(layer.map((v) => [v, bary(v, down ? adjUp : adjDown)]));
      layer.sort((a, b) => keys.get(a)! - keys.get(b)! || a.order - b.order);
      layer.forEach((v, i) => (v.order = i));
    }
  }
  // 4. x positions: sequential, then pulled toward neighbours and pushed apart.
  for (const layer of layers) {
    let x = 0;
    for (const v of layer) {
      v.x = x + v.w / 2;
      x += v.w + NODE_GAP;
    }
  }
  const place = (layer: Vertex[], adj: number[][]): void => {
    const want = layer.map((v) => (adj[v.id]!.length ? adj[v.id]!.reduce((s, u) => s + vertices[u]!.x, 0) / adj[v.id]!.length : v.x));
    let prevRight = -Infinity;
    layer.forEach((v, i) => {
      v.x = Math.max(want[i]!, prevRight + NODE_GAP + v.w / 2);
      prevRight = v.x + v.w / 2;
    });
    // Shift back so the layer's mean displacement from what it wanted is zero.
    const shift = layer.reduce((s, v, i) => s + (v.x - want[i]!), 0) / Math.max(1, layer.length);
    for (const v of layer) v.x -= shift;
  };
  for (let it = 0; it < 6; it++) {
    for (const layer of layers.slice(1)) place(layer, adjUp);
    for (const layer of layers.slice(0, -1).reverse()) place(layer, adjDown);
  }
  const minX = Math.min(...vertices.map((v) => v.x - v.w / 2));
  for (const v of vertices) v.x += MARGIN - minX;
  const width = Math.max(...vertices.map((v) => v.x + v.w / 2)) + MARGIN;
  const layerH = layers.map((l) => Math.max(0, ...l.map((v) => v.h)));
  const y: number[] = [];
  let top = MARGIN;
  for (let l = 0; l < nLayers; l++) {
    y.push(top + layerH[l]! / 2);
    top += layerH[l]! + LAYER_GAP;
  }
  const routes = chains.map((chain) => ({
    points: chain.map((id, i): [number, number] => {
      const v = vertices[id]!;
      const cy = y[v.layer]!;
      if (i === 0) return [v.x, cy + v.h / 2];
      if (i === chain.length - 1) return [v.x, cy - v.h / 2];
      return [v.x, cy];
    }),
  }));
  return { vertices, routes, y, width, height: top - LAYER_GAP + MARGIN };
}

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** An SVG drawing of the graph, top to bottom: params, ops, `return`. */
export function toSvg(g: Graph): string {
  const { vertices, routes, y, width, height } = layout(g);
  const fill: Record<Kind, string> = { param: '#dbeafe', op: '#f8fafc', const: '#f1f5f9', return: '#dcfce7', dummy: 'none' };
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="11">`,
    `<title>@${xml(g.name)}</title>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker></defs>',
    '<g fill="none" stroke="#94a3b8" stroke-width="1.2">',
  ];
  for (const r of routes) {
    const [first, ...rest] = r.points;
    let d = `M${first![0].toFixed(1)},${first![1].toFixed(1)}`;
    let prev = first!;
    for (const p of rest) {
      const my = (prev[1] + p[1]) / 2;
      d += ` C${prev[0].toFixed(1)},${my.toFixed(1)} ${p[0].toFixed(1)},${my.toFixed(1)} ${p[0].toFixed(1)},${p[1].toFixed(1)}`;
      prev = p;
    }
    out.push(`<path d="${d}" marker-end="url(#arrow)"/>`);
  }
  out.push('</g>');
  for (const v of vertices) {
    if (v.kind === 'dummy') continue;
    const cy = y[v.layer]!;
    const x0 = v.x - v.w / 2;
    const y0 = cy - v.h / 2;
    const rx = v.kind === 'param' || v.kind === 'return' ? v.h / 2 : 5;
    out.push(`<g class="${v.kind}"><title>${xml(v.title)}</title>`);
    out.push(`<rect x="${x0.toFixed(1)}" y="${y0.toFixed(1)}" width="${v.w.toFixed(1)}" height="${v.h.toFixed(1)}" rx="${rx.toFixed(1)}" fill="${fill[v.kind]}" stroke="#475569"/>`);
    v.lines.forEach((line, i) => {
      const ty = y0 + 6 + 15 * i + 11;
      const weight = i === 0 ? ' font-weight="bold"' : ' fill="#475569"';
      out.push(`<text x="${v.x.toFixed(1)}" y="${ty.toFixed(1)}" text-anchor="middle"${weight}>${xml(line)}</text>`);
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** A self-contained HTML page: the drawing and the IR text. */
export function toHtml(g: Graph): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>kiln: @${xml(g.name)}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 24px; color: #0f172a; }
  .graph { overflow: auto; border: 1px solid #e2e8f0; padding: 8px; }
  pre { background: #f8fafc; border: 1px solid #e2e8f0; padding: 12px; overflow: auto; }
</style>
</head>
<body>
<h1>@${xml(g.name)}</h1>
<p>${g.params.length} params, ${g.nodes.length} nodes, ${g.outputs.length} outputs. Hover a box for its IR line.</p>
<div class="graph">
${toSvg(g)}</div>
<h2>IR</h2>
<pre>${xml(printGraph(g))}</pre>
</body>
</html>
`;
}

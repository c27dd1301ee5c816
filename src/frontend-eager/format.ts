import type { Tensor } from './tensor.js';

const LINE_WIDTH = 80;
const SUMMARIZE_OVER = 1000;
const EDGE_ITEMS = 3;

/** How PyTorch picks a float format: integers as `1.`, else 4 decimals, or scientific. */
function floatFormatter(values: number[]): (v: number) => string {
  const finite = values.filter(Number.isFinite);
  const special = (v: number): string | null => (Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : null);
  if (finite.length === 0) return (v) => special(v) ?? String(v);
  const abs = finite.map(Math.abs).filter((v) => v > 0);
  const max = abs.length ? Math.max(...abs) : 0;
  const min = abs.length ? Math.min(...abs) : 0;
  const intMode = finite.every((v) => Number.isInteger(v));
  let fmt: (v: number) => string;
  if (intMode) {
    fmt = max / Math.max(min, 1) > 1000 || max > 1e8 ? (v) => v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2') : (v) => `${v.toFixed(0)}.`;
  } else if (max > 1e8 || (min > 0 && min < 1e-4) || (min > 0 && max / min > 1000)) {
    fmt = (v) => v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2');
  } else {
    fmt = (v) => v.toFixed(4);
  }
  return (v) => special(v) ?? (Object.is(v, -0) ? `-${fmt(0)}` : fmt(v));
}

/** Formats the values of `t` like `torch.Tensor.__repr__` (without the suffixes). */
function formatValues(t: Tensor, indent: number): string {
  const shape = t.shape;
  const data = Array.from(t.data(), Number);
  const n = data.length;
  if (n === 0) return '[]';
  const summarize = n > SUMMARIZE_OVER;
  const fmt =
    t.dtype === 'bool' ? (v: number) => (v ? 'True' : 'False') : t.dtype === 'i32' ? (v: number) => String(v) : floatFormatter(data);
  const strings = data.map(fmt);
  const width = Math.max(...strings.map((s) => s.length));
  const pad = (s: string) => s.padStart(width);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const indices = (len: number): (number | null)[] =>
    summarize && len > 2 * EDGE_ITEMS
      ? [...Array(EDGE_ITEMS).keys(), null, ...Array.from({ length: EDGE_ITEMS }, (_, i) => len - EDGE_ITEMS + i)]
      : [...Array(len).keys()];

  const render = (dim: number, off: number, ind: number): string => {
    if (shape.length === 0) return strings[0]!;
    const idx = indices(shape[dim]!);
    if (dim === shape.length - 1) {
      const items = idx.map((i) => (i === null ? '...' : pad(strings[off + i]!)));
      const perLine = Math.max(1, Math.floor((LINE_WIDTH - ind) / (width + 2)));
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
      return `[${lines.join(`,\n${' '.repeat(ind + 1)}`)}]`;
    }
    const sep = `,${'\n'.repeat(shape.length - dim - 1)}${' '.repeat(ind + 1)}`;
    const parts = idx.map((i) => (i === null ? '...' : render(dim + 1, off + i * strides[dim]!, ind + 1)));
    return `[${parts.join(sep)}]`;
  };
  return render(0, 0, indent);
}

/**
 * PyTorch-style repr: `tensor([[1., 2.]], grad_fn=<MulBackward>)`.
 *
 * ```ts
 * String(tensor([1.5, 2], { requiresGrad: true })); // 'tensor([1.5000, 2.0000], requires_grad=True)'
 * ```
 */
export function formatTensor(t: Tensor): string {
  const prefix = 'tensor(';
  let body = formatValues(t, prefix.length);
  if (t.numel() === 0 && t.shape.length !== 1) body += `, size=(${t.shape.join(', ')})`;
  const suffix: string[] = [];
  if (t.gradFn) suffix.push(`grad_fn=<${t.gradFn.name}>`);
  else if (t.requiresGrad) suffix.push('requires_grad=True');
  return `${prefix}${body}${suffix.map((s) => `, ${s}`).join('')})`;
}

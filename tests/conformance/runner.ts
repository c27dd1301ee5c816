import { hvp as hvpTransform } from '../../src/autodiff/hvp.js';
import { vjp as vjpTransform } from '../../src/autodiff/vjp.js';
import { autograd, F, fromStorage, type Tensor } from '../../src/frontend-eager/index.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { ArgumentError, DTypeError, IndexError, KilnError, ShapeError } from '../../src/ir/errors.js';
import type { Graph, Value } from '../../src/ir/graph.js';
import { Ops } from '../../src/ir/lang/index.js';
import type { NDArray } from '../../src/ir/ndarray.js';
import { allocStorage } from '../../src/ir/ndarray.js';
import { parseGraph } from '../../src/ir/parser.js';
import { printGraph } from '../../src/ir/printer.js';
import { tensorType } from '../../src/ir/types.js';
import { verifyGraph } from '../../src/ir/verifier.js';
import { dce } from '../../src/passes/dce.js';
import { getBackend } from '../../src/runtime/backend.js';
import { compare, dtypeOf, type JsonTensor, type OpCase, toNumber } from './cases.js';
import { applyOp } from './vocab.js';

/** An execution path: runs one case, returns null on success or the first mismatch. */
export type Path = (c: OpCase) => string | null;

const ERROR_CLASSES = { shape: ShapeError, index: IndexError, value: ArgumentError, dtype: DTypeError } as const;

function storageOf(t: JsonTensor): NDArray {
  const dtype = dtypeOf(t);
  const data = allocStorage(tensorType(dtype, t.shape), 'f32');
  (t.data ?? []).forEach((v, i) => (data[i] = toNumber(v)));
  return { dtype, shape: t.shape, data };
}

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** An expected error must be of the right class and name an op of the program (or backward). */
function checkError(c: OpCase, e: unknown): string | null {
  const kind = c.expected_error!.kind;
  if (!(e instanceof KilnError)) return `expected a ${kind} error, got a non-kiln error: ${String(e)}`;
  if (!(e instanceof ERROR_CLASSES[kind])) return `expected ${ERROR_CLASSES[kind].name}, got ${e.name}: ${e.message}`;
  const names = [...c.program.map((s) => s.op), 'backward'];
  const msg = snake(e.message);
  if (!names.some((n) => msg.includes(n))) return `error message does not name the op (${names.join('/')}): ${e.message}`;
  return null;
}

function tolerance(c: OpCase): { rtol: number; atol: number } {
  return c.tolerance ?? { rtol: 1e-4, atol: 1e-5 };
}

function checkAll(
  c: OpCase,
  kind: string,
  want: Record<string, JsonTensor> | undefined,
  got: (name: string) => NDArray | null,
): string | null {
  for (const [name, w] of Object.entries(want ?? {})) {
    const g = got(name);
    if (w.data === null) {
      if (g !== null) return `${kind} ${name}: expected None (not connected), got a tensor`;
      continue;
    }
    if (g === null) return `${kind} ${name}: expected a tensor, got None`;
    const err = compare(`${kind} ${name}`, g, w, tolerance(c), w.dtype === 'int64' || w.dtype === 'bool');
    if (err) return err;
  }
  return null;
}

const nd = (t: Tensor | null | undefined): NDArray | null => (t ? { dtype: t.dtype, shape: t.shape, data: t.data() } : null);

/** (a) Eager: every statement is a Tensor op; gradients through `backward()` / `autograd.grad`. */
export const eagerPath: Path = (c) => {
  try {
    const env = new Map<string, Tensor>();
    const inputs: Tensor[] = [];
    for (const [name, t] of Object.entries(c.inputs)) {
      const s = storageOf(t);
      const x = fromStorage(s.data, s.shape, { dtype: s.dtype, requiresGrad: t.requires_grad ?? false });
      env.set(name, x);
      if (t.requires_grad) inputs.push(x);
    }
    const names = Object.entries(c.inputs).flatMap(([n, t]) => (t.requires_grad ? [n] : []));
    for (const st of c.program) {
      const args = st.args.map((a) => (typeof a === 'string' ? env.get(a)! : Array.isArray(a) ? a.map((n) => env.get(n)!) : a));
      env.set(st.out, applyOp(F, st.op, args, st.kwargs ?? {}));
    }
    // Reading every value realizes it; run-time errors (index out of range) surface here.
    const values = new Map<string, NDArray>();
    for (const st of c.program) values.set(st.out, nd(env.get(st.out))!);

    let grads: (Tensor | null)[] = [];
    let hvps: (Tensor | null)[] = [];
    if (c.backward) {
      const of = env.get(c.backward.of)!;
      const go = c.backward.grad_output;
      const seed = go ? fromStorage(storageOf({ ...go, dtype: 'float32' }).data, go.shape) : undefined;
      if (c.expected?.hvp) {
        const g = autograd.grad(of, inputs, { createGraph: true, allowUnused: true, gradOutputs: seed ? [seed] : undefined });
        grads = g;
        let s: Tensor | null = null;
        g.forEach((gi, i) => {
          if (!gi) return;
          const v = storageOf({ ...c.hvp_vector![names[i]!]!, dtype: 'float32' });
          const term = gi.mul(fromStorage(v.data, v.shape)).sum();
          s = s ? s.add(term) : term;
        });
        hvps = s ? autograd.grad(s, inputs, { allowUnused: true }) : inputs.map(() => null);
      } else {
        of.backward(seed ?? null);
        grads = inputs.map((x) => x.grad);
      }
    }
    if (c.expected_error) return `expected a ${c.expected_error.kind} error, but the program ran`;
    const idx = (n: string) => names.indexOf(n);
    return (
      checkAll(c, 'value', c.expected?.values, (n) => values.get(n) ?? null) ??
      checkAll(c, 'grad', c.expected?.grads, (n) => nd(grads[idx(n)])) ??
      checkAll(c, 'hvp', c.expected?.hvp, (n) => nd(hvps[idx(n)]))
    );
  } catch (e) {
    if (c.expected_error) return checkError(c, e);
    return `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  }
};

/** Checks the IR invariants every graph the runner builds must keep. */
function checked(g: Graph): Graph {
  verifyGraph(g);
  const text = printGraph(g);
  const again = printGraph(parseGraph(text));
  if (again !== text) throw new Error(`@${g.name}: print(parse(print(g))) differs from print(g)`);
  return g;
}

function run(g: Graph, args: readonly NDArray[]): NDArray[] {
  return getBackend().compile(checked(dce(g))).run(args);
}

/** (b) Compiled: the whole program is built as one IR graph; gradients by the VJP transform. */
export const compiledPath: Path = (c) => {
  try {
    const b = new GraphBuilder(c.name);
    const o = new Ops(b);
    const env = new Map<string, Value>();
    const args: NDArray[] = [];
    const wrt: number[] = [];
    const names: string[] = [];
    Object.entries(c.inputs).forEach(([name, t], i) => {
      const s = storageOf(t);
      // Integer and bool inputs are static arguments: the graph may specialize on them.
      env.set(name, b.param(name, tensorType(s.dtype, s.shape), s.dtype === 'f32' ? undefined : s.data));
      args.push(s);
      if (t.requires_grad) {
        wrt.push(i);
        names.push(name);
      }
    });
    for (const st of c.program) {
      const a = st.args.map((x) => (typeof x === 'string' ? env.get(x)! : Array.isArray(x) ? x.map((n) => env.get(n)!) : x));
      env.set(st.out, applyOp(o, st.op, a, st.kwargs ?? {}));
    }
    const outNames = c.program.map((s) => s.out);
    const forward = checked(b.build(outNames.map((n) => env.get(n)!)));
    const outs = run(forward, args);
    const values = new Map(outNames.map((n, i) => [n, outs[i]!]));

    let grads: (NDArray | null)[] = [];
    let hvps: (NDArray | null)[] = [];
    if (c.backward) {
      const ofIdx = outNames.lastIndexOf(c.backward.of);
      const go = c.backward.grad_output;
      const { graph, unused } = vjpTransform(forward, { wrt, of: [ofIdx], seeds: go ? 'param' : 'implicit', keepOutputs: false });
      const gOut = run(checked(graph), go ? [...args, storageOf({ ...go, dtype: 'float32' })] : args);
      grads = gOut.map((g, i) => (unused[i] ? null : g));
      if (c.expected?.hvp) {
        const h = hvpTransform(forward, wrt, ofIdx);
        const vs = names.map((n) => storageOf({ ...c.hvp_vector![n]!, dtype: 'float32' }));
        const hOut = run(checked(h.graph), [...args, ...vs]);
        // outputs: f, grads..., hvps...
        hvps = wrt.map((_, i) => (h.unused[i] ? null : hOut[1 + wrt.length + i]!));
      }
    }
    if (c.expected_error) return `expected a ${c.expected_error.kind} error, but the program ran`;
    const idx = (n: string) => names.indexOf(n);
    return (
      checkAll(c, 'value', c.expected?.values, (n) => values.get(n) ?? null) ??
      checkAll(c, 'grad', c.expected?.grads, (n) => grads[idx(n)] ?? null) ??
      checkAll(c, 'hvp', c.expected?.hvp, (n) => hvps[idx(n)] ?? null)
    );
  } catch (e) {
    if (c.expected_error) return checkError(c, e);
    return `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  }
};

export const PATHS: Record<string, Path> = { eager: eagerPath, compiled: compiledPath };

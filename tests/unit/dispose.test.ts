/**
 * Results that stay in the wasm arena, and `Tensor.dispose()`: a wasm-backend result is a view
 * of the arena (no copy), a disposed result's block is reused by the next result of its size,
 * and nothing another holder can still read is ever freed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arange, fullLike, jit, type Tensor, tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { interpret } from '../../src/ir/interpret.js';
import { Ops } from '../../src/ir/lang/index.js';
import { tensorType } from '../../src/ir/types.js';
import { Arena } from '../../src/runtime/arena.js';
import { getBackend, setBackend } from '../../src/runtime/backend.js';
import { prepareWasm, releaseStorage, wasmArena, wasmBackend } from '../../src/runtime/wasm.js';

const initial = getBackend().name;
beforeAll(async () => {
  await prepareWasm();
  setBackend('wasm');
});
afterAll(() => void setBackend(initial));

/** `tanh(x) * 2 + y` over two f32[n] params. */
function graph(n: number) {
  const b = new GraphBuilder('f');
  const o = new Ops(b);
  const x = b.param('x', tensorType('f32', [n]));
  const y = b.param('y', tensorType('f32', [n]));
  return b.build([o.add(o.mul(o.tanh(x), 2), y)]);
}

/** Each element within 1e-6 of the reference (the interpreter computes tanh in float64). */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst).toBeLessThan(1e-6);
}

const ramp = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * s));
const arg = (data: Float32Array) => ({ dtype: 'f32' as const, shape: [data.length], data });

describe('Arena views', () => {
  it('hands out views up to its budget and takes each back once', () => {
    const a = new Arena(1, 64, 8192);
    const v1 = a.view('f32', 1024)!; // 4 KiB
    const v2 = a.view('f32', 1024)!;
    expect(a.handedOut).toBe(8192);
    expect(a.view('f32', 1)).toBeNull(); // over budget: the caller copies instead
    expect(a.releaseView(v1)).toBe(true);
    expect(a.releaseView(v1)).toBe(false); // twice: nothing freed
    expect(a.releaseView(new Float32Array(4))).toBe(false);
    const v3 = a.view('f32', 1024)!;
    expect(v3.byteOffset).toBe(v1.byteOffset); // the freed block comes back
    expect(a.handedOut).toBe(8192);
    expect(a.owns(v2)).toBe(true);
  });
});

describe('wasm executables: results in the arena', () => {
  const n = 4096;
  const exe = wasmBackend.compile(graph(n));
  const x = arg(ramp(n, 0.01));
  const y = arg(ramp(n, 0.03));
  const want = interpret(graph(n), [x, y])[0]!.data;

  it('returns a view of the arena, and a released block is the next result', () => {
    const r1 = exe.run([x, y])[0]!.data;
    expect(wasmArena().owns(r1)).toBe(true);
    expectClose(r1, want);
    const offset = r1.byteOffset;
    expect(releaseStorage(r1)).toBe(true);
    const r2 = exe.run([x, y])[0]!.data;
    expect(r2.byteOffset).toBe(offset);
    expectClose(r2, want);
    // a result that is not released keeps its block: the next result goes elsewhere
    const r3 = exe.run([x, y])[0]!.data;
    expect(r3.byteOffset).not.toBe(r2.byteOffset);
    expectClose(r2, want);
    releaseStorage(r2);
    releaseStorage(r3);
  });

  it('reads an argument that lives in the arena where it is, including a sub-view', () => {
    const r1 = exe.run([x, y])[0]!.data;
    const r2 = exe.run([arg(r1 as Float32Array), y])[0]!.data;
    expectClose(r2, interpret(graph(n), [arg(Float32Array.from(r1)), y])[0]!.data);
    // a sub-array of an arena block (a slice view) is passed by its own offset
    const big = exe.run([x, y])[0]!.data as Float32Array;
    const small = wasmBackend.compile(graph(n / 2));
    const half = big.subarray(n / 2);
    const got = small.run([arg(half), arg(y.data.subarray(0, n / 2))])[0]!.data;
    expectClose(got, interpret(graph(n / 2), [arg(Float32Array.from(half)), arg(y.data.subarray(0, n / 2))])[0]!.data);
    for (const r of [r1, r2, big, got]) releaseStorage(r);
  });

  it('returns a value listed twice among the outputs as a view and a copy', () => {
    const b = new GraphBuilder('twice');
    const o = new Ops(b);
    const x = b.param('x', tensorType('f32', [n]));
    const y = o.tanh(x);
    const [r1, r2] = wasmBackend.compile(b.build([y, y])).run([arg(ramp(n, 0.01))]).map((r) => r.data);
    expect(wasmArena().owns(r1!)).toBe(true);
    expect(wasmArena().owns(r2!)).toBe(false);
    expectClose(r2!, r1!);
    expectClose(r1!, Float32Array.from(ramp(n, 0.01), Math.tanh));
    releaseStorage(r1!);
  });

  it('copies results out once the views handed out take the budget', () => {
    const arena = wasmArena();
    const hog: ReturnType<Arena['view']>[] = [];
    for (const size of [1 << 20, 1 << 10, 1]) for (let v = arena.view('f32', size); v; v = arena.view('f32', size)) hog.push(v);
    try {
      const r = exe.run([x, y])[0]!.data;
      expect(arena.owns(r)).toBe(false);
      expectClose(r, want);
    } finally {
      for (const v of hog) arena.releaseView(v!);
    }
    expect(arena.owns(exe.run([x, y])[0]!.data)).toBe(true);
  });
});

describe('Tensor.dispose', () => {
  const twice = jit(function twice(t: Tensor): Tensor {
    return t.mul(2);
  });
  const x = tensor([1, 2, 3, 4]);
  /** A result big enough to stay in the arena (small ones are copied out). */
  const big = arange(4096);

  it('makes the tensor unusable, with an error naming the call', () => {
    const y = twice(x);
    y.dispose();
    expect(y.isDisposed).toBe(true);
    expect(() => y.data()).toThrow(/data: the f32\[4\] tensor was disposed/);
    expect(() => y.item()).toThrow(/disposed/);
    expect(() => y.add(1)).toThrow(/add: the f32\[4\] tensor was disposed/);
    expect(() => twice(y)).toThrow(/jit @twice: argument 0: the f32\[4\] tensor was disposed/);
    y.dispose(); // twice is harmless
  });

  it('leaves storage that another holder reads: a view, a pending op, a detached handle', () => {
    const want = Array.from({ length: 4096 }, (_, i) => 2 * i);
    const y = twice(big);
    const view = y.reshape(64, 64);
    const pending = y.add(1);
    const detached = y.detach();
    y.dispose();
    const other = fullLike(big, -1);
    const reuse = [0, 1, 2].map(() => twice(other)); // would take a freed block of y's size
    expect(Array.from(view.data())).toEqual(want);
    expect(Array.from(pending.data())).toEqual(want.map((v) => v + 1));
    expect(Array.from(detached.data())).toEqual(want);
    for (const r of reuse) expect(Array.from(r.data())).toEqual(want.map(() => -2));
  });

  it('keeps what autograd saved for backward', () => {
    const w = tensor([0.5, -1], { requiresGrad: true });
    const t = w.tanh();
    const s = t.sum();
    t.dispose(); // tanh's backward reads t
    s.backward();
    const g = w.grad!.toArray() as number[];
    expect(g[0]).toBeCloseTo(1 - Math.tanh(0.5) ** 2, 6);
    expect(g[1]).toBeCloseTo(1 - Math.tanh(-1) ** 2, 6);
  });

  it('frees a jit result for the next one, which computes the right values', () => {
    const arena = wasmArena();
    const before = arena.handedOut;
    const a = twice(big);
    expect(arena.handedOut).toBeGreaterThan(before);
    a.dispose();
    expect(arena.handedOut).toBe(before);
    const b = twice(big.neg());
    expect(Array.from(b.data())).toEqual(Array.from({ length: 4096 }, (_, i) => -2 * i));
    // a small result is copied out: nothing to track
    const held = arena.handedOut;
    expect(arena.owns(twice(x)._buf.data!)).toBe(false);
    expect(arena.handedOut).toBe(held);
  });
});

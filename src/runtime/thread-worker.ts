/**
 * The worker side of `ThreadPool` (threads.ts) and the control-block layout both sides share.
 *
 * The worker program is a string run with `new Worker(source, { eval: true })`, so it needs no
 * file path: it works the same from built JS (dist/) and from TS sources under vitest.
 *
 * Control block: a SharedArrayBuffer of its own (no bytes of the caller's wasm memory are
 * reserved). Worker w (1..size-1) owns the slot at byte `w * SLOT_BYTES`, three cache lines so
 * the words each side writes never share a line:
 *
 * | bytes   | written by | words (int32 unless noted)                                         |
 * |---------|------------|--------------------------------------------------------------------|
 * | 0–63    | main       | SEQ (dispatch number), OP, MODULE (id), EXPORT (index), NARGS, MAIN_WAITING |
 * | 64–127  | main       | ARGS: up to 8 float64 arguments                                    |
 * | 128–191 | worker     | DONE (last finished SEQ), STATUS (0 ok, 1 error), SLEEPING, OWNER  |
 *
 * OWNER is also compare-exchanged by main (below). After the slots, worker w's error text
 * (UTF-8, length in the first int32) sits at `size * SLOT_BYTES + w * TEXT_BYTES`. Slot 0 (the
 * main thread) is unused.
 *
 * Protocol: main writes OP/MODULE/EXPORT/ARGS, then stores a new SEQ and notifies only if the
 * worker set SLEEPING. The worker spins on SEQ for `spinMicros`, then sets SLEEPING and
 * Atomics.waits; it runs the op, stores STATUS and DONE = SEQ, and notifies only if main set
 * MAIN_WAITING. Both flag handshakes are Dekker-style on seq-cst atomics: a side that sleeps
 * re-checks the word it waits on inside Atomics.wait, so a wake-up is never lost.
 * OWNER settles who runs a job: the worker claims job SEQ by a compare-exchange of OWNER to
 * SEQ; main may instead cancel a job the worker has not claimed yet by exchanging OWNER to
 * -SEQ, and then does not wait for it (`run` then runs that share itself; in `runShared` the
 * other threads have claimed its units).
 * Modules travel once, at load time, over a MessagePort read with `receiveMessageOnPort`.
 */

export const SLOT_BYTES = 192;
export const TEXT_BYTES = 1024;
export const MAX_ARGS = 8;

/** Int32 word offsets inside a slot. */
export const W = {
  SEQ: 0,
  OP: 1,
  MODULE: 2,
  EXPORT: 3,
  NARGS: 4,
  MAIN_WAITING: 5,
  DONE: 32,
  STATUS: 33,
  SLEEPING: 34,
  OWNER: 35,
} as const;
/** Float64 offset of ARGS inside a slot. */
export const ARGS_F64 = 8;

export const OP = { RUN: 1, LOAD: 2, EXIT: 3 } as const;

/** Bytes of the control block for a pool of `size` threads (main included). */
export function controlBytes(size: number): number {
  return size * SLOT_BYTES + size * TEXT_BYTES;
}

/** Byte offset of worker w's error text. */
export function textOffset(size: number, w: number): number {
  return size * SLOT_BYTES + w * TEXT_BYTES;
}

/** What each worker gets as `workerData`. */
export interface WorkerInit {
  control: SharedArrayBuffer;
  memory: unknown;
  port: unknown;
  slot: number;
  size: number;
  spinMicros: number;
}

/** The worker program (CommonJS, run with `eval: true`). */
export function workerSource(): string {
  const c = { ...W, ARGS_F64, SLOT_BYTES, TEXT_BYTES, RUN: OP.RUN, LOAD: OP.LOAD, EXIT: OP.EXIT };
  return `'use strict';
const { workerData, parentPort, receiveMessageOnPort } = require('node:worker_threads');
const { control, memory, port, slot, size, spinMicros } = workerData;
const i32 = new Int32Array(control);
const f64 = new Float64Array(control);
const u8 = new Uint8Array(control);
const base = slot * ${c.SLOT_BYTES} / 4;
const argBase = slot * ${c.SLOT_BYTES} / 8 + ${c.ARGS_F64};
const textBase = size * ${c.SLOT_BYTES} + slot * ${c.TEXT_BYTES};
const modules = [];
const encoder = new TextEncoder();

function fail(e) {
  const text = encoder.encode(String((e && e.stack) || e)).subarray(0, ${c.TEXT_BYTES} - 4);
  u8.set(text, textBase + 4);
  i32[textBase / 4] = text.length;
  Atomics.store(i32, base + ${c.STATUS}, 1);
}

function call(fn) {
  const a = argBase;
  switch (i32[base + ${c.NARGS}]) {
    case 0: return fn();
    case 1: return fn(f64[a]);
    case 2: return fn(f64[a], f64[a + 1]);
    case 3: return fn(f64[a], f64[a + 1], f64[a + 2]);
    case 4: return fn(f64[a], f64[a + 1], f64[a + 2], f64[a + 3]);
    case 5: return fn(f64[a], f64[a + 1], f64[a + 2], f64[a + 3], f64[a + 4]);
    case 6: return fn(f64[a], f64[a + 1], f64[a + 2], f64[a + 3], f64[a + 4], f64[a + 5]);
    case 7: return fn(f64[a], f64[a + 1], f64[a + 2], f64[a + 3], f64[a + 4], f64[a + 5], f64[a + 6]);
    default: return fn(f64[a], f64[a + 1], f64[a + 2], f64[a + 3], f64[a + 4], f64[a + 5], f64[a + 6], f64[a + 7]);
  }
}

// Spin on SEQ for spinMicros, then sleep until main stores a new one.
function next(seen) {
  for (;;) {
    const until = performance.now() + spinMicros / 1000;
    let n = 0;
    for (;;) {
      const seq = Atomics.load(i32, base + ${c.SEQ});
      if (seq !== seen) return seq;
      if ((++n & 63) === 0 && performance.now() > until) break;
    }
    Atomics.store(i32, base + ${c.SLEEPING}, 1);
    Atomics.wait(i32, base + ${c.SEQ}, seen);
    Atomics.store(i32, base + ${c.SLEEPING}, 0);
  }
}

// NOTE: SEQ starts at 0 in a fresh control block; reading it after 'ready' could skip the first job.
let seen = 0;
parentPort.postMessage('ready');
for (;;) {
  const seq = next(seen);
  seen = seq;
  // Claim the job, unless main cancelled it first (OWNER = -seq).
  const owner = Atomics.load(i32, base + ${c.OWNER});
  if (owner === -seq || Atomics.compareExchange(i32, base + ${c.OWNER}, owner, seq) !== owner) continue;
  const op = i32[base + ${c.OP}];
  i32[base + ${c.STATUS}] = 0;
  try {
    if (op === ${c.RUN}) {
      call(modules[i32[base + ${c.MODULE}]][i32[base + ${c.EXPORT}]]);
    } else if (op === ${c.LOAD}) {
      const msg = receiveMessageOnPort(port);
      if (!msg) throw new Error('ThreadPool worker: LOAD without a module on the port');
      const { id, module, exports } = msg.message;
      const instance = new WebAssembly.Instance(module, { env: { memory } });
      modules[id] = exports.map((name) => instance.exports[name]);
    }
  } catch (e) {
    fail(e);
  }
  Atomics.store(i32, base + ${c.DONE}, seq);
  if (Atomics.load(i32, base + ${c.MAIN_WAITING}) !== 0) Atomics.notify(i32, base + ${c.DONE});
  if (op === ${c.EXIT}) break;
}
port.close();
`;
}

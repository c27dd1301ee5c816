import { wasmApi, type WasmMemory } from '../codegen-js/wasm-js-api.js';
import type { Storage } from '../ir/ndarray.js';
import type { DType } from '../ir/types.js';

const PAGE = 65536;
const ALIGN = 64;
/**
 * Bytes of handed-out views (results that stay in the arena) at most; beyond it results are
 * copied out. A program that disposes its results needs a few blocks; one that does not, in a
 * synchronous loop, fills the budget for good (the memory never shrinks), so it is kept small.
 */
const VIEW_BUDGET = 32 * 2 ** 20;

/**
 * One shared `WebAssembly.Memory` holding every buffer the wasm backend touches, so
 * kernels (wasm, JS, worker threads) address buffers by byte offset. Blocks come from
 * size-class free lists over a bump pointer. A typed-array view handed out (a result that
 * stays in the arena) is freed by `releaseView` or when it is garbage collected.
 * NOTE: views stay valid when the memory grows: shared memory never detaches its buffer.
 * NOTE: views handed out are capped at a byte budget: a synchronous loop that never releases
 * its results (finalizers only run between jobs) would otherwise grow the memory for good.
 */
export class Arena {
  readonly memory: WasmMemory;
  private top = ALIGN; // offset 0 is never handed out (a null pointer stays null)
  private readonly free = new Map<number, number[]>();
  private readonly sizes = new Map<number, number>();
  private readonly registry = new FinalizationRegistry<number>((offset) => this.releaseHanded(offset));
  /** Bytes currently allocated (for tests and the memory bench). */
  live = 0;
  /** Bytes of views handed out and not released yet. */
  handedOut = 0;

  /** The memory's buffer as of the last growth (the getter costs a call; only `alloc` grows it). */
  private buffer: ArrayBufferLike;

  constructor(
    initialPages = 256,
    maximumPages = 65536,
    readonly viewBudget = VIEW_BUDGET,
  ) {
    this.memory = new (wasmApi().Memory)({ initial: initialPages, maximum: maximumPages, shared: true });
    this.buffer = this.memory.buffer;
  }

  /** Size class: 64-byte steps up to 4 KiB, then powers of two. */
  private static classOf(bytes: number): number {
    const b = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    return b <= 4096 ? b : 2 ** Math.ceil(Math.log2(b));
  }

  /** A block of at least `bytes`, 64-byte aligned; returns its byte offset. */
  alloc(bytes: number): number {
    const size = Arena.classOf(bytes);
    const list = this.free.get(size);
    let offset = list?.pop();
    if (offset === undefined) {
      offset = this.top;
      this.top += size;
      const need = Math.ceil(this.top / PAGE) - this.buffer.byteLength / PAGE;
      if (need > 0) {
        this.memory.grow(Math.max(need, Math.ceil(this.memory.buffer.byteLength / PAGE / 4)));
        this.buffer = this.memory.buffer;
      }
    }
    this.sizes.set(offset, size);
    this.live += size;
    return offset;
  }

  /** Returns a block to its free list. */
  release(offset: number): void {
    const size = this.sizes.get(offset);
    if (size === undefined) return;
    this.sizes.delete(offset);
    this.live -= size;
    const list = this.free.get(size);
    if (list) list.push(offset);
    else this.free.set(size, [offset]);
  }

  /**
   * A typed-array view over a fresh block, freed by `releaseView` or when the view is
   * collected; null when the views handed out already take the budget.
   */
  view(dtype: DType, length: number): Storage | null {
    const bytes = Math.max(1, length) * (dtype === 'bool' ? 1 : 4);
    if (this.handedOut + Arena.classOf(bytes) > this.viewBudget) return null;
    const offset = this.alloc(bytes);
    this.handedOut += this.sizes.get(offset)!;
    const v = this.viewAt(dtype, offset, length);
    this.registry.register(v, offset, v);
    return v;
  }

  /**
   * Frees the block of a view from `view` now (the caller guarantees nothing reads it again).
   * False, and nothing freed, for any other array.
   */
  releaseView(v: Storage): boolean {
    if (!this.registry.unregister(v)) return false;
    this.releaseHanded(v.byteOffset);
    return true;
  }

  private releaseHanded(offset: number): void {
    this.handedOut -= this.sizes.get(offset) ?? 0;
    this.release(offset);
  }

  /** A view over an existing block (not tracked: the caller owns the block). */
  viewAt(dtype: DType, offset: number, length: number): Storage {
    const buf = this.buffer;
    return dtype === 'f32' ? new Float32Array(buf, offset, length) : dtype === 'i32' ? new Int32Array(buf, offset, length) : new Uint8Array(buf, offset, length);
  }

  /** Whether `data` lives in this arena (its byteOffset is then a pointer). */
  owns(data: Storage): boolean {
    return data.buffer === this.buffer || (data.buffer instanceof SharedArrayBuffer && this.sameMemory(data.buffer));
  }

  private sameMemory(buf: SharedArrayBuffer): boolean {
    // After growth, older views hold an older SharedArrayBuffer object over the same memory.
    // NOTE: a probe write through both views tells; cheap and exact.
    if (buf.byteLength > this.buffer.byteLength) return false;
    const a = new Uint8Array(buf, 0, 1);
    const b = new Uint8Array(this.buffer, 0, 1);
    const old = a[0]!;
    a[0] = old ^ 0xff;
    const same = b[0] === a[0];
    a[0] = old;
    return same;
  }

  get bytesReserved(): number {
    return this.top;
  }
}

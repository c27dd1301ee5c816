import { GraphBuilder } from '../ir/builder.js';
import type { Attrs, Value } from '../ir/graph.js';
import type { NDArray, Storage } from '../ir/ndarray.js';
import type { OpName } from '../ir/ops/index.js';
import type { TensorType } from '../ir/types.js';
import { formatType } from '../ir/types.js';
import { ArgumentError } from '../ir/errors.js';
import { getBackend } from '../runtime/backend.js';
import { releaseStorage } from '../runtime/wasm.js';
import { ExecutableCache } from '../runtime/cache.js';

/** Pending chains deeper than this are realized as they are built, so graphs stay bounded. */
const MAX_PENDING_DEPTH = 256;

/**
 * A value of the eager world: either realized (`data` set) or pending (an op over other
 * LazyBuffers). Realizing compiles the pending subgraph as one IR graph.
 * NOTE: once realized, the buffer drops its inputs so the pending graph can be collected.
 */
export class LazyBuffer {
  op: OpName | null;
  inputs: LazyBuffer[];
  attrs: Attrs;
  data: Storage | null;
  readonly depth: number;
  /** The library op this value was emitted for (error messages). */
  origin: string | undefined;
  /** Cached structural signature (see `realize`). */
  sig: string | undefined;
  /** The last realize walk that visited this buffer, and its position in it. */
  walkEpoch = 0;
  walkIndex = 0;
  /**
   * Long-lived state (the result of an in-place op: a parameter, a running statistic): the
   * next realize that computes it stores it, so later graphs start from it instead of
   * recomputing its whole history.
   */
  keep = false;

  constructor(readonly type: TensorType, op: OpName | null, inputs: LazyBuffer[], attrs: Attrs, data: Storage | null) {
    this.op = op;
    this.inputs = inputs;
    this.attrs = attrs;
    this.data = data;
    let depth = 0;
    let symbolic = false;
    for (const b of inputs) {
      b.shared = true;
      // NOTE: a realized input starts a new chain: its depth no longer counts.
      if (!b.realized && b.depth > depth) depth = b.depth;
      if (b.symbolic) symbolic = true;
    }
    this.depth = data ? 0 : depth + 1;
    this.symbolic = symbolic;
  }

  static fromData(type: TensorType, data: Storage): LazyBuffer {
    return new LazyBuffer(type, null, [], {}, data);
  }

  static pending(type: TensorType, op: OpName, inputs: LazyBuffer[], attrs: Attrs): LazyBuffer {
    const b = new LazyBuffer(type, op, inputs, attrs, null);
    if (b.depth > MAX_PENDING_DEPTH && !b.symbolic) realize([b]);
    return b;
  }

  /**
   * A view sharing `base`'s storage. NOTE: it keeps `base` alive, since storage may be
   * freed when the array that owns it is collected (the wasm arena).
   */
  static viewOf(base: LazyBuffer, type: TensorType, data: Storage): LazyBuffer {
    const b = new LazyBuffer(type, null, [], {}, data);
    b.base = base;
    base.shared = true;
    return b;
  }

  /** The buffer whose storage this one views (kept alive by this reference). */
  base: LazyBuffer | null = null;
  /** The first tensor made over this buffer (the one `dispose` may free it for). */
  owner: object | null = null;
  /**
   * Whether anything but its owner may read this buffer: a second tensor handle, a pending
   * op, a view of its storage. A shared buffer is left to the garbage collector.
   */
  shared = false;
  /** Set once its storage has been freed by `dispose`: reading it is an error. */
  released = false;

  /** Records a tensor handle over this buffer. */
  addHandle(t: object): void {
    if (this.owner === null) this.owner = t;
    else if (this.owner !== t) this.shared = true;
  }

  /**
   * Frees the storage now if `owner` alone can reach it (on the wasm backend the next result
   * of its size reuses the block). Returns whether it was freed.
   */
  release(owner: object): boolean {
    if (this.owner !== owner || this.shared || this.base !== null || this.data === null) return false;
    if (!releaseStorage(this.data)) return false;
    this.data = null;
    this.released = true;
    return true;
  }

  /** A stand-in for a traced function's argument: it has a type but never a value. */
  static placeholder(type: TensorType): LazyBuffer {
    const b = new LazyBuffer(type, null, [], {}, null);
    b.isPlaceholder = true;
    b.symbolic = true;
    return b;
  }

  isPlaceholder = false;
  /** Whether this value depends on a placeholder (so it can only be traced, not computed). */
  symbolic: boolean;

  get realized(): boolean {
    return this.data !== null;
  }

  toNDArray(): NDArray {
    realize([this]);
    return { dtype: this.type.dtype, shape: this.type.shape, data: this.data! };
  }
}

export const executableCache = new ExecutableCache();

let walkEpoch = 0;

/** State updated in place but not computed yet (see `keep`). Every realize computes it too. */
const dirty = new Set<LazyBuffer>();

/**
 * Marks the result of an in-place op as long-lived state: the next realize computes and
 * stores it, whatever that realize was for, so state (parameters, running statistics) never
 * accumulates a growing pending history.
 */
export function keepState(buf: LazyBuffer): void {
  if (buf.realized) return;
  buf.keep = true;
  if (!buf.symbolic) dirty.add(buf);
}

/** A compact text signature of one pending op (op, attrs, result type), computed once. */
function signature(buf: LazyBuffer): string {
  if (buf.sig === undefined) {
    const a = buf.attrs;
    let attrs = '';
    for (const k in a) attrs += `${k}=${attrText(a[k])};`;
    buf.sig = `${buf.op}{${attrs}}${buf.type.dtype}${buf.type.shape.join('x')}`;
  }
  return buf.sig;
}

function attrText(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : `"${v}"`;
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));
}

/**
 * Realizes all `targets` with one compiled graph over their pending ancestors. The
 * structural key is built during the walk from per-node signatures, so a cache hit
 * costs one pass over the pending nodes and no graph construction.
 */
export function realize(targets: readonly LazyBuffer[]): void {
  const pending: LazyBuffer[] = [];
  for (const t of targets) if (!t.realized && !pending.includes(t)) pending.push(t);
  if (pending.length === 0) return;
  if (dirty.size && !pending.some((t) => t.symbolic)) {
    for (const d of dirty) if (!d.realized && !pending.includes(d)) pending.push(d);
    dirty.clear();
  }
  // NOTE: a walk stamps each buffer with its epoch and index (no Map on the hot path).
  const epoch = ++walkEpoch;
  let count = 0;
  const params: LazyBuffer[] = [];
  const nodes: LazyBuffer[] = [];
  const keyParts: string[] = [];
  // Iterative post-order DFS: inputs before users. `expanded` marks the second visit.
  const stack: LazyBuffer[] = [];
  const expanded: boolean[] = [];
  for (let i = pending.length - 1; i >= 0; i--) {
    stack.push(pending[i]!);
    expanded.push(false);
  }
  while (stack.length) {
    const buf = stack.pop()!;
    const second = expanded.pop()!;
    if (buf.walkEpoch === epoch) continue;
    if (buf.realized) {
      buf.walkEpoch = epoch;
      buf.walkIndex = count++;
      params.push(buf);
      keyParts.push(`p${buf.type.dtype}${buf.type.shape.join('x')}`);
      continue;
    }
    if (buf.released) throw new ArgumentError(`realize: a ${formatType(buf.type)} tensor is used after dispose() freed it`);
    if (buf.isPlaceholder) {
      throw new ArgumentError(`realize: cannot compute the value of a traced argument (${formatType(buf.type)}) while tracing; values are only known when the compiled function runs`);
    }
    if (!second) {
      stack.push(buf);
      expanded.push(true);
      const ins = buf.inputs;
      for (let i = ins.length - 1; i >= 0; i--) {
        if (ins[i]!.walkEpoch !== epoch) {
          stack.push(ins[i]!);
          expanded.push(false);
        }
      }
      continue;
    }
    buf.walkEpoch = epoch;
    buf.walkIndex = count++;
    nodes.push(buf);
    if (buf.keep && !pending.includes(buf)) pending.push(buf);
    let key = signature(buf) + '(';
    for (const x of buf.inputs) key += `${x.walkIndex},`;
    keyParts.push(key);
  }
  let outKey = '->';
  for (const t of pending) outKey += `${t.walkIndex},`;
  keyParts.push(outKey);
  const backend = getBackend();
  const exe = executableCache.getByKey(backend, keyParts.join(';'), () => {
    // Cache miss: build the IR graph (params first, then nodes in walk order).
    const b = new GraphBuilder('eager');
    const env = new Map<LazyBuffer, Value>();
    params.forEach((p, i) => env.set(p, b.param(`in${i}`, p.type)));
    for (const buf of nodes) {
      env.set(buf, b.push(buf.op!, buf.inputs.map((x) => env.get(x)!), buf.attrs, buf.type, undefined, buf.origin));
    }
    return b.build(pending.map((t) => env.get(t)!));
  });
  const outs = exe.run(params.map((p) => ({ dtype: p.type.dtype, shape: p.type.shape, data: p.data! })));
  pending.forEach((t, i) => {
    t.data = outs[i]!.data;
    t.op = null;
    t.inputs = [];
    t.attrs = {};
  });
}

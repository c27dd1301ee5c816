import type { Graph, Node, Value } from './graph.js';

/**
 * How a kernel computes its value:
 * - pointwise: an elementwise expression over its inputs, movement ops folded into indexing;
 * - reduce: a reduction whose operand expression is fused in;
 * - matmul: a GEMM over materialized operands (transposes folded into flags);
 * - opaque: one op run on materialized inputs (gather, unfold, cumsum, ...).
 */
export type KernelKind = 'pointwise' | 'reduce' | 'matmul' | 'opaque';

export interface Kernel {
  readonly kind: KernelKind;
  /** The node whose value the kernel writes. */
  readonly node: Node;
  /** Materialized values the kernel reads, in first-use order. */
  readonly inputs: readonly Value[];
  /** The nodes computed inside this kernel (topological order, `node` last). */
  readonly fused: readonly Node[];
  /** matmul only: operands read transposed (their last two dims). */
  readonly transA?: boolean;
  readonly transB?: boolean;
}

/** A graph split into kernels, in execution order; every kernel output is materialized. */
export interface Schedule {
  readonly graph: Graph;
  readonly kernels: readonly Kernel[];
  /** Values held in buffers: params, kernel outputs. */
  readonly materialized: ReadonlySet<Value>;
}

import type { Emitter } from './emitter.js';
import { inOp } from './errors.js';
import type { Attrs, Node, SourceLoc } from './graph.js';
import { freshId, Graph, Value } from './graph.js';
import type { OpName } from './ops/index.js';
import { inferType } from './ops/index.js';
import type { TensorType } from './types.js';

/**
 * Builds a graph node by node, checking each op's rules as it goes.
 *
 * ```ts
 * const b = new GraphBuilder('axpy');
 * const x = b.param('x', tensorType('f32', [3]));
 * const y = b.emit('mul', [x, b.emit('const', [], { dtype: 'f32', shape: [], value: 2 })], {});
 * const g = b.build([y]);
 * ```
 */
export class GraphBuilder implements Emitter<Value> {
  readonly params: Value[] = [];
  private readonly nodes: Node[] = [];
  /** Source location stamped on the nodes emitted next (frontends set it per statement). */
  loc: SourceLoc | undefined;

  private readonly scopes: string[] = [];

  constructor(readonly name: string) {}

  /** Emits `body` as the composite `name`: its nodes remember it for error messages. */
  scope<R extends Value>(name: string, body: () => R): R {
    this.scopes.push(name);
    try {
      return body();
    } finally {
      this.scopes.pop();
    }
  }

  /** Parameters whose values are known while building (static arguments; see `peek`). */
  private readonly known = new Map<Value, ArrayLike<number>>();

  /**
   * Adds a parameter. With `value`, the graph may be specialized to it where a shape
   * depends on data (like JAX's static arguments), e.g. `one_hot` without `num_classes`.
   */
  param(name: string, type: TensorType, value?: ArrayLike<number>): Value {
    const v = new Value(freshId(), type, null, name);
    this.params.push(v);
    if (value) this.known.set(v, value);
    return v;
  }

  /** The value of a static parameter, if it is one. */
  peek(x: Value): ArrayLike<number> | undefined {
    return this.known.get(x);
  }

  emit(op: OpName, inputs: readonly Value[], attrs: Attrs): Value {
    let type: TensorType;
    try {
      type = inferType(
        op,
        inputs.map((x) => x.type),
        attrs,
      );
    } catch (e) {
      throw inOp(e, this.scopes[0]);
    }
    return this.push(op, inputs, attrs, type, this.loc, this.scopes[0]);
  }

  /** Appends a node with a given type, without re-running the rules (parser, transforms). */
  push(op: OpName, inputs: readonly Value[], attrs: Attrs, type: TensorType, loc?: SourceLoc, origin?: string): Value {
    const node: { op: OpName; inputs: readonly Value[]; attrs: Attrs; out: Value; loc?: SourceLoc; origin?: string } = {
      op,
      inputs,
      attrs,
      out: undefined as unknown as Value, // NOTE: tied just below; Value and Node point at each other
    };
    if (loc) node.loc = loc;
    if (origin && origin !== op) node.origin = origin;
    const out = new Value(freshId(), type, node);
    node.out = out;
    this.nodes.push(node);
    return out;
  }

  typeOf(x: Value): TensorType {
    return x.type;
  }

  build(outputs: readonly Value[]): Graph {
    return new Graph(this.name, [...this.params], [...this.nodes], [...outputs]);
  }
}

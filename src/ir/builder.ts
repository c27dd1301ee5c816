import type { Emitter } from './emitter.js';
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

  constructor(readonly name: string) {}

  param(name: string, type: TensorType): Value {
    const v = new Value(freshId(), type, null, name);
    this.params.push(v);
    return v;
  }

  emit(op: OpName, inputs: readonly Value[], attrs: Attrs): Value {
    const type = inferType(
      op,
      inputs.map((x) => x.type),
      attrs,
    );
    return this.push(op, inputs, attrs, type, this.loc);
  }

  /** Appends a node with a given type, without re-running the rules (parser, transforms). */
  push(op: OpName, inputs: readonly Value[], attrs: Attrs, type: TensorType, loc?: SourceLoc): Value {
    const node: { op: OpName; inputs: readonly Value[]; attrs: Attrs; out: Value; loc?: SourceLoc } = {
      op,
      inputs,
      attrs,
      out: undefined as unknown as Value, // NOTE: tied just below; Value and Node point at each other
    };
    if (loc) node.loc = loc;
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

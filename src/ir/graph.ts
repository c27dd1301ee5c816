import type { OpName } from './ops/index.js';
import type { TensorType } from './types.js';

/** `file:line:col` carried from the frontends into errors. */
export interface SourceLoc {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export function formatLoc(loc: SourceLoc): string {
  return `${loc.file}:${loc.line}:${loc.col}`;
}

/** A plain-JSON attribute value; numbers may be ±Infinity or NaN (printed `inf`, `nan`). */
export type AttrValue = number | string | boolean | null | readonly AttrValue[];
export type Attrs = Readonly<Record<string, AttrValue>>;

/**
 * An SSA value: defined once, by a node or as a graph parameter.
 * NOTE: `node` is null exactly for parameters.
 */
export class Value {
  constructor(
    readonly id: number,
    readonly type: TensorType,
    readonly node: Node | null,
    readonly name?: string,
  ) {}
}

/** One operation. Every op has exactly one result. */
export interface Node {
  readonly op: OpName;
  readonly inputs: readonly Value[];
  readonly attrs: Attrs;
  readonly out: Value;
  readonly loc?: SourceLoc;
  /** The library op this node was emitted for (e.g. `embedding` for a gather); used in errors. */
  readonly origin?: string;
}

/** A function: typed parameters, a topologically ordered node list, and outputs. */
export class Graph {
  constructor(
    readonly name: string,
    readonly params: readonly Value[],
    readonly nodes: readonly Node[],
    readonly outputs: readonly Value[],
  ) {}
}

let nextValueId = 0;
/** Fresh value ids, unique within the process so graphs can share values safely. */
export function freshId(): number {
  return nextValueId++;
}

/**
 * kiln's error classes. Every message starts with the op or command that failed, says what
 * is wrong, and shows what arrived in IR type syntax, e.g.
 * `matmul: contracting dimensions differ: f32[2,4] (dim 1 = 4) vs f32[3,5] (dim 0 = 3)`.
 */
export class KilnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not broadcast or do not fit the op. */
export class ShapeError extends KilnError {}
/** A dtype the op does not accept (e.g. float indices). */
export class DTypeError extends KilnError {}
/** A dim or an index out of range. */
export class IndexError extends KilnError {}
/** An invalid argument value (Python's ValueError). */
export class ArgumentError extends KilnError {}
/** Misuse of autograd: freed graphs, in-place modification of saved tensors, ... */
export class AutogradError extends KilnError {}
/** A graph that breaks an IR invariant; the message prints the IR around the fault. */
export class IRVerifyError extends KilnError {}
/** Text that is not valid IR; the message carries `line:col`. */
export class IRParseError extends KilnError {}
/** A failure while compiling a model or graph, with a source location when there is one. */
export class CompileError extends KilnError {
  constructor(message: string, readonly loc?: string) {
    super(loc ? `${loc}: ${message}` : message);
  }
}

/**
 * Prefixes a kiln error with the library op it happened in (`embedding: gather: index 7 ...`),
 * keeping its class; other errors pass through.
 */
export function inOp(e: unknown, op: string | undefined): unknown {
  if (!op || !(e instanceof KilnError) || e.message.startsWith(`${op}:`)) return e;
  const Ctor = e.constructor as new (message: string) => KilnError;
  const wrapped = new Ctor(`${op}: ${e.message}`);
  return wrapped;
}

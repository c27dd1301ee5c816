/**
 * The base of kiln's wasm function builders (the GEMM's `FnBuilder`, the fused kernels'
 * `FnEmitter`): params and named locals, typed `get`/`set`, unique labels, and adding the
 * function with its local names (they show up in `emitText()`, which keeps the golden
 * `.wat` snapshots readable).
 */
import type binaryen from 'binaryen';

export type Binaryen = typeof binaryen;
export type Module = binaryen.Module;
export type Expr = binaryen.ExpressionRef;
export type Type = binaryen.Type;

/** binaryen.js has `Function.setLocalName` at the top level; its .d.ts does not say so. */
function setLocalName(bin: Binaryen, fn: binaryen.FunctionRef, index: number, name: string): void {
  const api: unknown = Reflect.get(bin, 'Function');
  if (typeof api === 'object' || typeof api === 'function') {
    const set: unknown = api && Reflect.get(api, 'setLocalName');
    if (typeof set === 'function') set(fn, index, name);
  }
}

export class WasmFn {
  private readonly types: Type[] = [];
  private readonly names: string[] = [];
  private readonly nParams: number;
  private labels = 0;

  constructor(
    readonly bin: Binaryen,
    readonly mod: Module,
    params: ReadonlyArray<readonly [string, Type]>,
  ) {
    for (const [name, type] of params) this.local(type, name);
    this.nParams = params.length;
  }

  /** A new local (or param, from the constructor); repeated names get a suffix. */
  local(type: Type, name: string): number {
    // NOTE: local names must be unique for the text form to parse back.
    let unique = name;
    for (let i = 2; this.names.includes(unique); i++) unique = `${name}_${i}`;
    this.names.push(unique);
    this.types.push(type);
    return this.types.length - 1;
  }

  get(index: number): Expr {
    const type = this.types[index];
    if (type === undefined) throw new RangeError(`${this.constructor.name}.get: no local ${index}`);
    return this.mod.local.get(index, type);
  }

  set(index: number, value: Expr): Expr {
    return this.mod.local.set(index, value);
  }

  label(prefix: string): string {
    return `${prefix}${this.labels++}`;
  }

  /** Adds the function `name` with this builder's params and locals. */
  protected addFunction(name: string, resultType: Type, body: Expr): binaryen.FunctionRef {
    const { bin, mod } = this;
    const params = bin.createType(this.types.slice(0, this.nParams));
    const fn = mod.addFunction(name, params, resultType, this.types.slice(this.nParams), body);
    this.names.forEach((n, i) => setLocalName(bin, fn, i, n));
    return fn;
  }
}

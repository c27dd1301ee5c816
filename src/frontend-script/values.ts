/**
 * The values the script compiler computes with. A model file runs at compile time over
 * these: numbers, strings and arrays are known; a tensor is an IR `Value` whose contents
 * are not (only its type is).
 */
import type {
  ArrowFunction,
  ClassDeclaration,
  ConstructorDeclaration,
  FunctionDeclaration,
  FunctionExpression,
  GetAccessorDeclaration,
  MethodDeclaration,
} from 'ts-morph';
import { Tensor } from '../frontend-eager/index.js';
import { Value } from '../ir/graph.js';
import { formatType } from '../ir/types.js';
import { Module } from '../stdlib-nn/module.js';
import type { ModelFile } from './source.js';

/** Code the compiler can run: functions, methods, getters, constructors. */
export type FunctionLike = FunctionDeclaration | FunctionExpression | ArrowFunction | MethodDeclaration | GetAccessorDeclaration | ConstructorDeclaration;

/**
 * A compile-time value:
 * - `Value`: a tensor in the graph being built (forward code);
 * - `Tensor`: a real eager tensor (a parameter or buffer while the model is constructed);
 * - `Module`: a real library layer, or the stand-in of a model class (see `modules.ts`);
 * - primitives, arrays (`SVal[]`) and object literals (`Obj`) of compile-time values;
 * - `Func` (a function of the model file), `ClassRef` (a class of the model file),
 *   `Lib` (something of kiln's or a JavaScript built-in such as `Math`).
 */
export type SVal = undefined | null | boolean | number | string | Value | Tensor | Module | SVal[] | Obj | Func | ClassRef | Lib;

/** An object literal: `{ approximate: 'tanh' }`, `{ dim: 32, heads: 4 }`. */
export class Obj {
  constructor(readonly props: Map<string, SVal> = new Map()) {}
}

/** A function of a model file with the scope it closes over (and its `this`, for arrows and methods). */
export class Func {
  constructor(
    readonly decl: FunctionLike,
    readonly env: Scope,
    readonly self: SVal,
    readonly name: string,
    /** For methods (and arrows inside them): the class that declares the method, for `super`. */
    readonly home?: ClassRef,
  ) {}
}

/** A class declared in a model file. */
export class ClassRef {
  constructor(
    readonly decl: ClassDeclaration,
    readonly file: ModelFile,
  ) {}
  get name(): string {
    return this.decl.getName() ?? '(anonymous class)';
  }
}

/**
 * Something of kiln's (`nn.Linear`, `F.relu`, `zeros`) or a JavaScript built-in (`Math.sqrt`),
 * with the dotted name the model file used for it.
 */
export class Lib {
  constructor(
    readonly path: string,
    readonly value: unknown,
    readonly origin: 'kiln' | 'builtin',
  ) {}
}

/** A variable. */
interface Binding {
  value: SVal;
  readonly mutable: boolean;
}

/** Lexical scope: a block, a function body, or (with no parent) a file's top level. */
export class Scope {
  private readonly vars = new Map<string, Binding>();

  constructor(
    readonly parent: Scope | null,
    readonly file: ModelFile,
  ) {}

  child(): Scope {
    return new Scope(this, this.file);
  }

  /** A sibling scope with copies of this one's variables (a `for` loop's per-iteration scope, as in JS). */
  copy(): Scope {
    const s = new Scope(this.parent, this.file);
    for (const [k, b] of this.vars) s.vars.set(k, { ...b });
    return s;
  }

  declare(name: string, value: SVal, mutable: boolean): void {
    this.vars.set(name, { value, mutable });
  }

  find(name: string): Binding | undefined {
    for (let s: Scope | null = this; s; s = s.parent) {
      const b = s.vars.get(name);
      if (b) return b;
    }
    return undefined;
  }
}

/** Whether `v` is known at compile time all the way down (no tensor inside). */
export function hasTensor(v: SVal): boolean {
  if (v instanceof Value) return true;
  if (Array.isArray(v)) return v.some(hasTensor);
  if (v instanceof Obj) return [...v.props.values()].some(hasTensor);
  return false;
}

/** A short description of a value for messages: `a tensor f32[2,3]`, `the number 3`, `nn.Linear`. */
export function describe(v: SVal): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (v instanceof Value) return `a tensor ${formatType(v.type)}`;
  if (v instanceof Tensor) return `a tensor ${formatType(v.type)}`;
  if (v instanceof Module) return `the module ${v.moduleName()}`;
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Obj) return 'an object';
  if (v instanceof Func) return `the function ${v.name}`;
  if (v instanceof ClassRef) return `the class ${v.name}`;
  if (v instanceof Lib) return v.path;
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `the ${typeof v} ${String(v)}`;
}

/** JavaScript truthiness of a compile-time value. */
export function truthy(v: SVal): boolean {
  return Boolean(v);
}

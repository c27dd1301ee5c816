/**
 * JavaScript built-ins on compile-time values: `Math.*`, `Number`, `Array.from`,
 * `Object.keys`, array methods (`map`, `slice`, `push`, ...) and string/number methods.
 * Tensors cannot go through them: their values are not known at compile time.
 */
import type { Node } from 'ts-morph';
import { Module } from '../stdlib-nn/module.js';
import { Tensor } from '../frontend-eager/index.js';
import { Value } from '../ir/graph.js';
import { fail } from './diagnostics.js';
import { describe, Func, hasTensor, Lib, Obj, type SVal, truthy } from './values.js';

/** Calls a callback (a function of the model file) from a built-in such as `Array.from`. */
export type Caller = (fn: SVal, args: SVal[]) => SVal;

/** The globals model code may name. */
export const GLOBALS: Readonly<Record<string, unknown>> = {
  Math, Number, Array, Object, JSON, String, Boolean, parseInt, parseFloat, isNaN, isFinite, Infinity, NaN,
  Error, TypeError, RangeError,
};

/** Math functions that have a tensor method of their own (for hints). */
const TENSOR_TWIN: Record<string, string> = {
  sqrt: 'sqrt', exp: 'exp', log: 'log', abs: 'abs', tanh: 'tanh', sin: 'sin', cos: 'cos', floor: 'floor',
  sign: 'sign', log1p: 'log1p', expm1: 'expm1', max: 'maximum', min: 'minimum', pow: 'pow',
};

/** A compile-time value as plain JavaScript data; `bad` is called on anything else (tensors, modules, functions). */
export function toStatic(v: SVal, bad: (v: SVal) => never): unknown {
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((x) => toStatic(x, bad));
  if (v instanceof Obj) return Object.fromEntries([...v.props].map(([k, x]) => [k, toStatic(x, bad)]));
  return bad(v);
}

/** Plain JavaScript data as a compile-time value. */
export function fromStatic(r: unknown): SVal {
  if (r === null || r === undefined || typeof r === 'number' || typeof r === 'string' || typeof r === 'boolean') return r;
  if (Array.isArray(r)) return r.map(fromStatic);
  if (typeof r === 'object' && Object.getPrototypeOf(r) === Object.prototype) {
    return new Obj(new Map(Object.entries(r).map(([k, x]) => [k, fromStatic(x)])));
  }
  return undefined;
}

/** Why a value cannot go into a built-in taking plain data. */
function notStatic(what: string, site: Node, v: SVal): never {
  if (v instanceof Value || v instanceof Tensor) {
    const name = what.split('.').pop() ?? what;
    const twin = what.startsWith('Math.') ? TENSOR_TWIN[name] : undefined;
    const hint = twin ? `use the tensor op (x.${twin}(...))` : 'keep tensors in tensor ops; use x.shape for compile-time sizes';
    return fail(site, `${what} works on compile-time numbers, but got ${describe(v)} (its values are not known when compiling): ${hint}`);
  }
  return fail(site, `${what} cannot take ${describe(v)} in model code`);
}

/** What iterating `v` gives at compile time (arrays, strings, containers); undefined when not iterable. */
export function iterate(v: SVal): SVal[] | undefined {
  if (Array.isArray(v)) return [...v];
  if (typeof v === 'string') return [...v];
  if (v instanceof Module && Symbol.iterator in v) return [...(v as Module & Iterable<Module>)];
  return undefined;
}

/** A call of a JavaScript built-in (`Math.max(a, b)`, `Array.from({ length: n }, f)`). */
export function callBuiltin(lib: Lib, args: readonly SVal[], site: Node, call: Caller): SVal {
  const cb = (i: number): ((...xs: SVal[]) => SVal) => {
    const f = args[i];
    if (!(f instanceof Func) && !(f instanceof Lib)) return fail(site, `${lib.path}: argument ${i + 1} must be a function, got ${describe(f)}`);
    return (...xs) => call(f, xs);
  };
  switch (lib.path) {
    case 'Math.random':
      return fail(site, 'Math.random() would be fixed at compile time (model code is run once, while compiling): pass random values in as a model input');
    case 'Array.from': {
      const src = args[0];
      let items: SVal[] | undefined = iterate(src);
      if (!items && src instanceof Obj && typeof src.props.get('length') === 'number') {
        items = Array.from({ length: src.props.get('length') as number }, () => undefined);
      }
      if (!items) return fail(site, `Array.from: expected an array or { length: n }, got ${describe(src)}`);
      if (args.length < 2) return items;
      const f = cb(1);
      return items.map((v, i) => f(v, i));
    }
    case 'Array.isArray':
      return Array.isArray(args[0]);
    case 'Object.keys':
    case 'Object.values':
    case 'Object.entries': {
      const o = args[0];
      if (!(o instanceof Obj)) return fail(site, `${lib.path}: expected an object literal, got ${describe(o)}`);
      const entries = [...o.props];
      return lib.path === 'Object.keys' ? entries.map(([k]) => k) : lib.path === 'Object.values' ? entries.map(([, v]) => v) : entries.map(([k, v]) => [k, v]);
    }
    case 'String':
      if (hasTensor(args[0] ?? null)) {
        return fail(site, `String(...) of a tensor is a string operation on tensor values, which are not known when compiling: use its shape or dtype (x.shape, x.dtype)`);
      }
      break;
    case 'Number':
    case 'Boolean':
      if (args[0] instanceof Value) {
        return fail(site, `${lib.path}(x) reads a tensor's value, which does not exist when the model is compiled: keep the computation in tensor ops`);
      }
      break;
  }
  if (typeof lib.value !== 'function') return fail(site, `${lib.path} is not a function`);
  const js = args.map((v) => toStatic(v, (bad) => notStatic(lib.path, site, bad)));
  try {
    return fromStatic(Reflect.apply(lib.value, undefined, js));
  } catch (e) {
    return fail(site, `${lib.path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** An array method on a compile-time array (which may hold tensors: `heads.map((h) => h.relu())`). */
export function callArrayMethod(arr: SVal[], name: string, args: readonly SVal[], site: Node, receiver: string, call: Caller): SVal {
  const cb = (i: number): ((...xs: SVal[]) => SVal) => {
    const f = args[i];
    if (!(f instanceof Func) && !(f instanceof Lib)) return fail(site, `${receiver}.${name}: argument ${i + 1} must be a function, got ${describe(f)}`);
    return (...xs) => call(f, xs);
  };
  const num = (i: number): number | undefined => {
    const v = args[i];
    return v === undefined || typeof v === 'number' ? v : fail(site, `${receiver}.${name}: argument ${i + 1} must be a number, got ${describe(v)}`);
  };
  switch (name) {
    case 'map':
      return arr.map((v, i) => cb(0)(v, i));
    case 'forEach':
      arr.forEach((v, i) => cb(0)(v, i));
      return undefined;
    case 'filter':
      return arr.filter((v, i) => truthy(cb(0)(v, i)));
    case 'every':
      return arr.every((v, i) => truthy(cb(0)(v, i)));
    case 'some':
      return arr.some((v, i) => truthy(cb(0)(v, i)));
    case 'find':
      return arr.find((v, i) => truthy(cb(0)(v, i)));
    case 'findIndex':
      return arr.findIndex((v, i) => truthy(cb(0)(v, i)));
    case 'reduce': {
      const f = cb(0);
      if (args.length >= 2) return arr.reduce((acc: SVal, v, i) => f(acc, v, i), args[1]);
      if (arr.length === 0) return fail(site, `${receiver}.reduce of an empty array with no initial value`);
      return arr.reduce((acc, v, i) => f(acc, v, i));
    }
    case 'at':
      return arr.at(num(0) ?? 0);
    case 'slice':
      return arr.slice(num(0), num(1));
    case 'concat':
      return arr.concat(...args.map((x) => (Array.isArray(x) ? x : [x])));
    case 'includes':
      return arr.includes(args[0]);
    case 'indexOf':
      return arr.indexOf(args[0]);
    case 'push':
      return arr.push(...args);
    case 'pop':
      return arr.pop();
    case 'reverse':
      return arr.reverse();
    case 'fill':
      return arr.fill(args[0], num(1), num(2));
    case 'entries':
      return arr.map((v, i) => [i, v]);
    case 'keys':
      return arr.map((_, i) => i);
    case 'values':
      return [...arr];
    case 'join':
      return arr.map((v) => String(toStatic(v, (bad) => notStatic(`${receiver}.join`, site, bad)))).join(args[0] === undefined ? ',' : String(args[0]));
  }
  return fail(site, `${receiver}.${name}() is not supported on arrays in model code (supported: map, forEach, filter, reduce, every, some, find, findIndex, at, slice, concat, includes, indexOf, push, pop, reverse, fill, entries, keys, values, join)`);
}

/** A method of a compile-time string, number or boolean (`s.toUpperCase()`, `n.toFixed(2)`). */
export function callPrimitiveMethod(v: string | number | boolean, name: string, args: readonly SVal[], site: Node, receiver: string): SVal {
  const f: unknown = Reflect.get(Object(v), name);
  if (typeof f !== 'function') return fail(site, `${receiver}.${name} is not a method of ${describe(v)}`);
  const js = args.map((a) => toStatic(a, (bad) => notStatic(`${receiver}.${name}`, site, bad)));
  return fromStatic(Reflect.apply(f, v, js));
}

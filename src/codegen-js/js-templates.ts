import type { OpName } from '../ir/ops/index.js';
import { NOT_ELEMENTWISE, notElementwise } from './not-elementwise.js';
import { erf, sigmoid } from '../ir/ops/elementwise.js';
import type { DType } from '../ir/types.js';

/** JS source for one elementwise op, given its operands' source and the result dtype. */
export type JsTemplate = (args: readonly string[], dtype: DType) => string;

const call = (fn: string): JsTemplate => ([a]) => `${fn}(${a})`;
const cmp = (op: string): JsTemplate => ([a, b]) => `(${a} ${op} ${b} ? 1 : 0)`;
const arith = (op: string): JsTemplate => ([a, b], dtype) => (dtype === 'f32' ? `(${a} ${op} ${b})` : `((${a} ${op} ${b}) | 0)`);

/** Helpers the generated code calls (passed in as `h`). */
export const jsHelpers = {
  erf,
  sigmoid,
  max2: (a: number, b: number): number => (a !== a || b !== b ? NaN : a > b ? a : b),
  min2: (a: number, b: number): number => (a !== a || b !== b ? NaN : a < b ? a : b),
};

/** One template per elementwise op; other ops say why they have none (checked by tsc). */
export const jsTemplates = {
  ...notElementwise,
  neg: ([a], d) => (d === 'f32' ? `(-${a})` : `((-${a}) | 0)`),
  abs: call('Math.abs'),
  sign: call('Math.sign'),
  exp: call('Math.exp'),
  log: call('Math.log'),
  log1p: call('Math.log1p'),
  expm1: call('Math.expm1'),
  sqrt: call('Math.sqrt'),
  rsqrt: ([a]) => `(1 / Math.sqrt(${a}))`,
  reciprocal: ([a]) => `(1 / ${a})`,
  sin: call('Math.sin'),
  cos: call('Math.cos'),
  tanh: call('Math.tanh'),
  sigmoid: call('h.sigmoid'),
  erf: call('h.erf'),
  floor: call('Math.floor'),
  logical_not: ([a]) => `(${a} === 0 ? 1 : 0)`,
  add: arith('+'),
  sub: arith('-'),
  mul: ([a, b], d) => (d === 'f32' ? `(${a} * ${b})` : `Math.imul(${a}, ${b})`),
  div: ([a, b], d) => (d === 'f32' ? `(${a} / ${b})` : `Math.trunc(${a} / ${b})`),
  pow: ([a, b]) => `Math.pow(${a}, ${b})`,
  maximum: ([a, b]) => `h.max2(${a}, ${b})`,
  minimum: ([a, b]) => `h.min2(${a}, ${b})`,
  eq: cmp('==='),
  ne: cmp('!=='),
  lt: cmp('<'),
  le: cmp('<='),
  gt: cmp('>'),
  ge: cmp('>='),
  logical_and: ([a, b]) => `(${a} !== 0 && ${b} !== 0 ? 1 : 0)`,
  logical_or: ([a, b]) => `(${a} !== 0 || ${b} !== 0 ? 1 : 0)`,
  where: ([c, a, b]) => `(${c} !== 0 ? ${a} : ${b})`,
} satisfies Record<OpName, JsTemplate | typeof NOT_ELEMENTWISE>;

export function jsTemplate(op: OpName): JsTemplate {
  const t: JsTemplate | typeof NOT_ELEMENTWISE = jsTemplates[op];
  if (typeof t === 'string') throw new Error(`codegen-js: ${op} is ${t}`);
  return t;
}

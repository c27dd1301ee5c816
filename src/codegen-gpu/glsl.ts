/**
 * GLSL ES 1.00 building blocks for kiln's gpu.js kernels: number literals, integer index
 * arithmetic, and the helper functions generated kernels call (`k_*`), each written so that
 * NaN, ±Infinity and float32 rounding match the CPU backends.
 *
 * NOTE: every kernel is a gpu.js kernel whose arguments are named x0, x1, ... (input
 * textures) and kz (a float uniform that is always 0). gpu.js declares an argument `a` as
 * the uniforms `user_a`, `user_aSize`, `user_aDim`; the generated GLSL reads them directly.
 */
import type { IExpr } from '../ir/index-expr.js';

/** The GLSL name of input `i`'s sampler and its loader function. */
export const inputUniform = (i: number): string => `user_x${i}`;
export const loader = (i: number): string => `k_ld${i}`;

/**
 * A run-time 0. Shader compilers fold constant expressions with their own rules (ANGLE turns
 * 1.0/0.0 into 3.4e38 and log(0.0) into 0.0), so constants are made opaque by adding it.
 */
export const OPAQUE_ZERO = 'user_kz';

/** A float literal that the compiler cannot fold (NaN and infinities built at run time). */
export function floatLit(v: number): string {
  if (Number.isNaN(v)) return 'k_nan()';
  if (v === Infinity) return 'k_inf()';
  if (v === -Infinity) return '(-k_inf())';
  if (Object.is(v, -0)) return `(-${OPAQUE_ZERO})`;
  return `(${plainFloat(v)} + ${OPAQUE_ZERO})`;
}

/** A finite float literal in GLSL syntax (always with a '.' or an exponent). */
export function plainFloat(v: number): string {
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** GLSL int source for an index expression over loop variables `i0, i1, ...`. */
export function intExpr(e: IExpr): string {
  switch (e.t) {
    case 'aff': {
      const parts = [...e.terms]
        .sort((x, y) => x[0] - y[0])
        .map(([v, c]) => (c === 1 ? `i${v}` : `${c} * i${v}`));
      if (e.c !== 0 || parts.length === 0) parts.push(String(e.c));
      return parts.length === 1 ? parts[0]! : `(${parts.join(' + ')})`;
    }
    case 'sum':
      return `(${e.parts.map(intExpr).join(' + ')})`;
    case 'mul':
      return `(${intExpr(e.a)} * ${e.d})`;
    // NOTE: operands of div/mod are non-negative wherever the value is used, so truncating
    // integer division is floor division.
    case 'div':
      return `(${intExpr(e.a)} / ${e.d})`;
    case 'mod':
      return `k_imod(${intExpr(e.a)}, ${e.d})`;
  }
}

/**
 * Statements declaring `int <name(v)>` for loop variables 0..n-1 from a row-major linear index
 * `lin` over `extents` (dims of extent 1 are 0).
 */
export function delinearize(lin: string, extents: readonly number[], name: (v: number) => string, tmp = 'r_'): string[] {
  const lines: string[] = [];
  const live = extents.map((e, v) => (e === 1 ? -1 : v)).filter((v) => v >= 0);
  if (live.length === 0) return extents.map((_, v) => `int ${name(v)} = 0;`);
  lines.push(`int ${tmp} = ${lin};`);
  for (let j = live.length - 1; j >= 0; j--) {
    const v = live[j]!;
    const e = extents[v]!;
    if (j === 0) lines.push(`int ${name(v)} = ${tmp};`);
    else lines.push(`int ${name(v)} = k_imod(${tmp}, ${e});`, `${tmp} = ${tmp} / ${e};`);
  }
  extents.forEach((e, v) => e === 1 && lines.push(`int ${name(v)} = 0;`));
  return lines;
}

// ---- loops ----------------------------------------------------------------------------------

/**
 * The most loop iterations one output element may run. NOTE: software GL (Mesa llvmpipe) stops
 * a shader's loops after 65535 iterations in all, per invocation, without a word; longer work
 * is split into partial results (CHUNK iterations each) that a second kernel combines.
 */
export const LOOP_BUDGET = 49152;
export const CHUNK = 16384;

/** How many partial results a loop of `iterations` needs per output element (1: none). */
export function partsFor(iterations: number): number {
  return iterations <= LOOP_BUDGET ? 1 : Math.ceil(iterations / CHUNK);
}

/**
 * The first lines of a kernel split into `parts`: its element t computes part `c_` of output
 * element t / parts, and the rest of the kernel reads `t` as that output element.
 */
export function splitPrefix(parts: number): string[] {
  return parts === 1 ? [] : [`int c_ = k_imod(t, ${parts});`, `t = t / ${parts};`];
}

/** Wraps each block of a blocked loop (partial sums). */
export interface PerBlock {
  readonly before: string;
  readonly after: string;
}

/** Sums in blocks of this many terms, then sums the blocks: float32 error grows with √n, not n. */
export const SUM_BLOCK = 256;

/** A blocked sum: the loop body adds to `part`, each block's `part` is added to `acc`. */
export const PARTIAL: PerBlock = { before: 'float part = 0.0;', after: 'acc += part;' };

/**
 * `for (int v = 0; v < n; v++) { body }`; with `block`, run as blocks of that many iterations,
 * `perBlock` around each.
 */
export function forRange(v: string, n: number, body: readonly string[], block = Infinity, perBlock?: PerBlock): string[] {
  const pad = (ls: readonly string[], k: number): string[] => ls.map((l) => ' '.repeat(k) + l);
  if (n <= block) {
    const loop = [`for (int ${v} = 0; ${v} < ${n}; ${v}++) {`, ...pad(body, 2), '}'];
    return perBlock ? [perBlock.before, ...loop, perBlock.after] : loop;
  }
  return [
    `for (int ${v}_b = 0; ${v}_b < ${Math.ceil(n / block)}; ${v}_b++) {`,
    ...(perBlock ? [`  ${perBlock.before}`] : []),
    `  for (int ${v}_j = 0; ${v}_j < ${block}; ${v}_j++) {`,
    `    int ${v} = ${v}_b * ${block} + ${v}_j;`,
    `    if (${v} >= ${n}) break;`,
    ...pad(body, 4),
    '  }',
    ...(perBlock ? [`  ${perBlock.after}`] : []),
    '}',
  ];
}

/** `for v in [0, n)`, or, in a kernel split into `parts`, v over part c_'s chunk of it. */
export function partLoop(v: string, n: number, parts: number, body: readonly string[], block?: number, perBlock?: PerBlock): string[] {
  if (parts === 1) return forRange(v, n, body, block, perBlock);
  const chunk = [`int ${v} = c_ * ${CHUNK} + ${v}_q;`, `if (${v} >= ${n}) break;`, ...body];
  return forRange(`${v}_q`, CHUNK, chunk, block, perBlock);
}

export type ReduceOp = 'sum' | 'prod' | 'max' | 'min';

/** The start value of a reduction. */
export const REDUCE_INIT: Record<ReduceOp, string> = { sum: '0.0', prod: '1.0', max: '(-k_inf())', min: 'k_inf()' };

/** Combines `y` into `acc` as the CPU kernels do (max/min: the first NaN wins). */
export const REDUCE_STEP: Record<ReduceOp, string> = {
  sum: 'acc += y;',
  prod: 'acc *= y;',
  max: 'if (y > acc || y != y) acc = acc != acc ? acc : y;',
  min: 'if (y < acc || y != y) acc = acc != acc ? acc : y;',
};

// ---- helpers ------------------------------------------------------------------------------

/** Helper functions by name; a kernel gets the ones its source calls (and theirs). */
const HELPERS: Record<string, string> = {
  k_imod: 'int k_imod(int a, int d) { return a - (a / d) * d; }',
  k_nan: `float k_nan() { return ${OPAQUE_ZERO} / ${OPAQUE_ZERO}; }`,
  k_inf: `float k_inf() { return 1.0 / ${OPAQUE_ZERO}; }`,
  k_isnan: 'bool k_isnan(float x) { return x != x; }',
  k_trunc: 'float k_trunc(float x) { return x >= 0.0 ? floor(x) : ceil(x); }',
  k_iround: 'float k_iround(float x) { return x >= 0.0 ? floor(x + 0.5) : -floor(0.5 - x); }',
  k_sign: 'float k_sign(float x) { return k_isnan(x) ? x : sign(x); }',
  k_log: `float k_log(float x) {
  if (x < 0.0) return k_nan();
  if (x == 0.0) return -k_inf();
  return log(x);
}`,
  k_sqrt: 'float k_sqrt(float x) { return x < 0.0 ? k_nan() : sqrt(x); }',
  k_exp: `float k_exp(float x) {
  if (x > 88.72284) return k_inf();
  if (x < -104.0) return 0.0;
  return exp(x);
}`,
  // Taylor series near 0, where exp(x) - 1 would cancel.
  k_expm1: `float k_expm1(float x) {
  if (abs(x) < 0.01) return x * (1.0 + x * (0.5 + x * (0.16666666666666666 + x * (0.041666666666666664 + x * 0.008333333333333333))));
  return k_exp(x) - 1.0;
}`,
  k_log1p: `float k_log1p(float x) {
  if (abs(x) < 0.01) return x * (1.0 - x * (0.5 - x * (0.3333333333333333 - x * (0.25 - x * 0.2))));
  return k_log(1.0 + x);
}`,
  k_tanh: `float k_tanh(float x) {
  if (abs(x) > 9.0) return sign(x);
  float e = k_expm1(2.0 * x);
  return e / (e + 2.0);
}`,
  // Split by sign so exp never overflows into inf/inf (as the reference does).
  k_sigmoid: `float k_sigmoid(float x) {
  if (x >= 0.0) return 1.0 / (1.0 + k_exp(-x));
  float e = k_exp(x);
  return e / (1.0 + e);
}`,
  // The reference's erf (ir/ops/elementwise.ts): Taylor series near 0, a fitted erfc elsewhere.
  k_erf: `float k_erf(float x) {
  if (k_isnan(x)) return x;
  float z = abs(x);
  if (z < 0.5) {
    float term = x;
    float sum = x;
    float x2 = x * x;
${Array.from({ length: 11 }, (_, i) => `    term *= -x2 / ${i + 1}.0;\n    sum += term / ${2 * i + 3}.0;`).join('\n')}
    return 1.1283791670955126 * sum;
  }
  float t = 1.0 / (1.0 + 0.5 * z);
  float poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  float erfc = t * k_exp(poly);
  return x >= 0.0 ? 1.0 - erfc : erfc - 1.0;
}`,
  k_max: 'float k_max(float a, float b) { return k_isnan(a) || k_isnan(b) ? k_nan() : max(a, b); }',
  k_min: 'float k_min(float a, float b) { return k_isnan(a) || k_isnan(b) ? k_nan() : min(a, b); }',
  // Integer division truncating toward zero; the quotient is checked because GPU division
  // may be a reciprocal multiply (6/3 = 1.9999999).
  k_idiv: `float k_idiv(float a, float b) {
  float q = floor(a / b + 0.5);
  if (q * b == a) return q;
  return k_trunc(a / b);
}`,
  // C's pow as PyTorch uses it: integral exponents by repeated squaring (exact for small
  // integers), negative bases only with integral exponents, and the IEEE special cases.
  // NOTE: helpers have no loops (unrolled here) so only kernels' own loops count against
  // LOOP_BUDGET.
  k_pow: `float k_pow(float x, float y) {
  if (y == 0.0 || x == 1.0) return 1.0;
  if (k_isnan(x) || k_isnan(y)) return k_nan();
  float ax = abs(x);
  float ay = abs(y);
  if (ay == k_inf()) {
    if (ax == 1.0) return 1.0;
    return (ax > 1.0) == (y > 0.0) ? k_inf() : 0.0;
  }
  bool integral = floor(y) == y;
  if (integral && ay <= 64.0) {
    float r = 1.0;
    float b = x;
    float n = ay;
    float h;
${'    h = floor(n * 0.5);\n    if (n > 2.0 * h) r *= b;\n    n = h;\n    b *= b;\n'.repeat(7)}    return y < 0.0 ? 1.0 / r : r;
  }
  bool odd = integral && mod(y, 2.0) == 1.0;
  float r;
  if (ax == k_inf()) r = y > 0.0 ? k_inf() : 0.0;
  else if (x < 0.0 && !integral) return k_nan();
  else if (ax == 0.0) return y > 0.0 ? 0.0 : k_inf();
  else r = exp2(y * log2(ax));
  return x < 0.0 && odd ? -r : r;
}`,
};

/** The helper definitions `source` needs, dependencies first. */
export function helpersFor(source: string): string {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const def = HELPERS[name];
    if (def === undefined) return;
    for (const dep of calledHelpers(def)) if (dep !== name) visit(dep);
    out.push(def);
  };
  for (const name of calledHelpers(source)) visit(name);
  return out.join('\n');
}

function calledHelpers(source: string): string[] {
  return [...new Set([...source.matchAll(/\b(k_[a-z0-9_]+)\s*\(/g)].map((m) => m[1]!))];
}

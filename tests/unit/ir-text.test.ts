import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { IRParseError, IRVerifyError } from '../../src/ir/errors.js';
import type { Attrs, Node } from '../../src/ir/graph.js';
import { freshId, Graph, Value } from '../../src/ir/graph.js';
import type { OpName } from '../../src/ir/ops/index.js';
import { parseGraph, parseModule } from '../../src/ir/parser.js';
import { formatNumber, printGraph, printModule } from '../../src/ir/printer.js';
import type { DType, TensorType } from '../../src/ir/types.js';
import { tensorType } from '../../src/ir/types.js';
import { verifyGraph } from '../../src/ir/verifier.js';

const t = (dtype: DType, ...shape: number[]): TensorType => tensorType(dtype, shape);
const f32 = (...shape: number[]): TensorType => t('f32', ...shape);

/** print → parse → print gives the same text, and the parsed graph verifies. */
function expectRoundTrip(g: Graph): string {
  const text = printGraph(g);
  const back = parseGraph(text);
  expect(printGraph(back)).toBe(text);
  verifyGraph(back);
  return text;
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  return expect.fail('expected an error, nothing was thrown');
}

describe('printer', () => {
  it('prints the canonical form', () => {
    const b = new GraphBuilder('mlp');
    const x = b.param('x', f32(32, 784));
    const w1 = b.param('w1', f32(784, 128));
    const b1 = b.param('b1', f32(128));
    const h = b.emit('add', [b.emit('matmul', [x, w1], {}), b1], {});
    const zero = b.emit('const', [], { value: 0.5, shape: [], dtype: 'f32' });
    const r = b.emit('maximum', [h, zero], {});
    const s = b.emit('sum', [r], { axes: [0, 1] });
    b.loc = { file: 'model.ts', line: 12, col: 7 };
    b.emit('pad', [h], { value: -Infinity, pads: [0, 0, 1, 1] });
    const g = b.build([r, s]);
    expect(printGraph(g)).toBe(
      [
        'func @mlp(%x: f32[32,784], %w1: f32[784,128], %b1: f32[128]) -> (f32[32,128], f32[1,1]) {',
        '  %0 = matmul %x, %w1 : f32[32,128]',
        '  %1 = add %0, %b1 : f32[32,128]',
        '  %2 = const {dtype="f32", shape=[], value=0.5} : f32[]',
        '  %3 = maximum %1, %2 : f32[32,128]',
        '  %4 = sum %3 {axes=[0,1]} : f32[1,1]',
        '  %5 = pad %1 {pads=[0,0,1,1], value=-inf} : f32[32,130] loc("model.ts":12:7)',
        '  return %3, %4',
        '}',
        '',
      ].join('\n'),
    );
    expectRoundTrip(g);
    expect(parseGraph(printGraph(g)).nodes[5]!.loc).toEqual({ file: 'model.ts', line: 12, col: 7 });
  });

  it('falls back to %arg<i> for unnamed, repeated or non-identifier parameter names', () => {
    const p = (name?: string): Value => new Value(freshId(), f32(1), null, name);
    const params = [p('x'), p(), p('x'), p('1x'), p('a b'), p(''), p('arg1'), p('fc1.weight')];
    const g = new Graph('names', params, [], [params[1]!]);
    const text = expectRoundTrip(g);
    expect(text.split('\n')[0]).toBe(
      'func @names(%x: f32[1], %arg1_: f32[1], %arg2: f32[1], %arg3: f32[1], %arg4: f32[1], %arg5: f32[1], ' +
        '%arg1: f32[1], %fc1.weight: f32[1]) -> (f32[1]) {',
    );
    expect(text).toContain('  return %arg1_\n');
  });

  it('quotes a graph name that is not an identifier', () => {
    const g = new Graph('my model/v2', [], [], []);
    expect(expectRoundTrip(g)).toBe('func @"my model/v2"() -> () {\n  return\n}\n');
  });

  it('prints a module as funcs separated by a blank line', () => {
    const a = new Graph('a', [], [], []);
    const b = new Graph('b', [], [], []);
    const text = printModule([a, b]);
    expect(text).toBe('func @a() -> () {\n  return\n}\n\nfunc @b() -> () {\n  return\n}\n');
    expect(printModule(parseModule(text))).toBe(text);
  });

  it.each([
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [NaN, 'nan'],
    [-0, '-0'],
    [0, '0'],
    [0.1 + 0.2, '0.30000000000000004'],
    [1e21, '1e+21'],
    [5e-324, '5e-324'],
    [-1.5e-10, '-1.5e-10'],
  ])('formats the number %s as %s', (n, s) => {
    expect(formatNumber(n)).toBe(s);
  });

  it('round-trips every double exactly through attribute text', () => {
    const bits = new DataView(new ArrayBuffer(8));
    let seed = 12345;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const values: number[] = [-0, 0, NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE, Number.EPSILON];
    for (let i = 0; i < 500; i++) {
      bits.setUint32(0, next());
      bits.setUint32(4, next());
      values.push(bits.getFloat64(0));
    }
    const b = new GraphBuilder('doubles');
    const x = b.param('x', f32(2));
    b.emit('neg', [x], { values });
    const back = parseGraph(printGraph(b.build([])));
    const got = back.nodes[0]!.attrs['values'] as readonly number[];
    expect(got.length).toBe(values.length);
    values.forEach((v, i) => expect(Object.is(got[i], v), `value ${i}: ${v} came back as ${got[i]}`).toBe(true));
  });
});

/**
 * One small use of every primitive, built with the checking builder.
 * NOTE: typed against OpName, so an op added to the registry without a sample fails tsc.
 */
const samples = {
  const: (b) => b.emit('const', [], { dtype: 'f32', shape: [2, 3], value: -2.5 }),
  iota: (b) => b.emit('iota', [], { axis: 1, dtype: 'i32', shape: [2, 3] }),
  neg: unary('neg'),
  abs: unary('abs'),
  sign: unary('sign'),
  exp: unary('exp'),
  log: unary('log'),
  log1p: unary('log1p'),
  expm1: unary('expm1'),
  sqrt: unary('sqrt'),
  rsqrt: unary('rsqrt'),
  reciprocal: unary('reciprocal'),
  sin: unary('sin'),
  cos: unary('cos'),
  tanh: unary('tanh'),
  sigmoid: unary('sigmoid'),
  erf: unary('erf'),
  floor: unary('floor'),
  logical_not: (b) => b.emit('logical_not', [b.param('c', t('bool', 3))], {}),
  add: binary('add'),
  sub: binary('sub'),
  mul: binary('mul'),
  div: binary('div'),
  pow: binary('pow'),
  maximum: binary('maximum'),
  minimum: binary('minimum'),
  eq: binary('eq'),
  ne: binary('ne'),
  lt: binary('lt'),
  le: binary('le'),
  gt: binary('gt'),
  ge: binary('ge'),
  logical_and: (b) => b.emit('logical_and', [b.param('c', t('bool', 2, 1)), b.param('d', t('bool', 3))], {}),
  logical_or: (b) => b.emit('logical_or', [b.param('c', t('bool', 2, 1)), b.param('d', t('bool', 3))], {}),
  where: (b) => b.emit('where', [b.param('c', t('bool', 2, 1)), b.param('x', f32(3)), b.param('y', f32())], {}),
  cast: (b) => b.emit('cast', [b.param('x', f32(4))], { dtype: 'i32' }),
  sum: (b) => b.emit('sum', [b.param('x', f32(2, 3, 4))], { axes: [0, -1] }),
  prod: (b) => b.emit('prod', [b.param('x', f32(2, 3))], { axes: [1] }),
  max: (b) => b.emit('max', [b.param('x', t('i32', 2, 3))], { axes: [0] }),
  min: (b) => b.emit('min', [b.param('x', f32(2, 3))], { axes: [0, 1] }),
  argmax: (b) => b.emit('argmax', [b.param('x', f32(2, 3))], { axis: 1 }),
  argmin: (b) => b.emit('argmin', [b.param('x', f32(2, 3))], { axis: -2 }),
  cumsum: (b) => b.emit('cumsum', [b.param('x', f32(2, 3))], { axis: 0 }),
  reshape: (b) => b.emit('reshape', [b.param('x', f32(2, 3))], { shape: [3, 1, 2] }),
  permute: (b) => b.emit('permute', [b.param('x', f32(2, 3, 4))], { perm: [2, 0, 1] }),
  expand: (b) => b.emit('expand', [b.param('x', f32(3, 1))], { shape: [2, 3, 4] }),
  slice: (b) => b.emit('slice', [b.param('x', f32(5, 4))], { starts: [1, 0], ends: [5, 4], steps: [2, 3] }),
  unslice: (b) => b.emit('unslice', [b.param('x', f32(2, 2))], { shape: [5, 4], starts: [1, 0], ends: [5, 4], steps: [2, 3] }),
  pad: (b) => b.emit('pad', [b.param('x', f32(2, 3))], { pads: [1, 0, 0, 2], value: NaN }),
  flip: (b) => b.emit('flip', [b.param('x', f32(2, 3))], { axes: [-1] }),
  concat: (b) => b.emit('concat', [b.param('x', f32(2, 3)), b.param('y', f32(2, 1)), b.param('z', f32(2, 2))], { axis: 1 }),
  gather: (b) => b.emit('gather', [b.param('x', f32(3, 4)), b.param('i', t('i32', 2, 4))], { axis: 0 }),
  scatter_add: (b) =>
    b.emit('scatter_add', [b.param('x', f32(3, 4)), b.param('i', t('i32', 2, 4)), b.param('s', f32(2, 4))], { axis: 0 }),
  matmul: (b) => b.emit('matmul', [b.param('a', f32(5, 2, 3)), b.param('w', f32(3, 4))], {}),
  unfold: (b) =>
    b.emit('unfold', [b.param('x', f32(1, 2, 5, 5))], { kernel: [3, 3], stride: [2, 1], padding: [1, 0], dilation: [1, 2] }),
  fold: (b) =>
    b.emit('fold', [b.param('x', f32(1, 18, 9))], { kernel: [3, 3], stride: [1, 1], padding: [0, 0], dilation: [1, 1], outputSize: [5, 5] }),
} satisfies Record<OpName, (b: GraphBuilder) => Value>;

function unary(op: OpName): (b: GraphBuilder) => Value {
  return (b) => b.emit(op, [b.param('x', f32(2, 3))], {});
}
function binary(op: OpName): (b: GraphBuilder) => Value {
  return (b) => b.emit(op, [b.param('x', f32(2, 1)), b.param('y', f32(3))], {});
}

describe('print → parse → print', () => {
  it.each(Object.entries(samples))('round-trips %s', (op, sample) => {
    const b = new GraphBuilder(op);
    const out = sample(b);
    const g = b.build([out]);
    verifyGraph(g);
    const back = parseGraph(expectRoundTrip(g));
    expect(back.nodes.map((n) => n.op)).toEqual(g.nodes.map((n) => n.op));
    expect(back.outputs.map((v) => v.type)).toEqual(g.outputs.map((v) => v.type));
    expect(back.params.map((v) => v.name)).toEqual(g.params.map((v) => v.name));
  });

  it('round-trips one graph holding every sample, with shared values and locations', () => {
    const b = new GraphBuilder('everything');
    const outs: Value[] = [];
    Object.values(samples).forEach((sample, i) => {
      b.loc = i % 3 === 0 ? { file: `src/layer-${i}.ts`, line: i + 1, col: 2 * i + 1 } : undefined;
      outs.push(sample(b));
    });
    const last = outs[outs.length - 1]!;
    outs.push(b.emit('add', [last, last], {}));
    const text = expectRoundTrip(b.build(outs));
    expect(text).toContain('loc("src/layer-0.ts":1:1)');
  });

  it('parses non-canonical text (comments, spacing, named results) into canonical form', () => {
    const text = `
      // a comment before the func
      func   @f ( %x : f32[2, 3] ,%y:f32[3] )->(f32[2,3]) {   // trailing comment
        %h = add %x,%y    :   f32[ 2 , 3 ]
        %out = pad %h { value = nan , pads = [ 0 , 0 , 0 , 0 ] } : f32[2,3] loc( "m.ts" : 3 : 4 )
        return %out
      }`;
    expect(printGraph(parseGraph(text))).toBe(
      [
        'func @f(%x: f32[2,3], %y: f32[3]) -> (f32[2,3]) {',
        '  %0 = add %x, %y : f32[2,3]',
        '  %1 = pad %0 {pads=[0,0,0,0], value=nan} : f32[2,3] loc("m.ts":3:4)',
        '  return %1',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('keeps an attribute named __proto__ as an attribute', () => {
    const g = parseGraph('func @f(%x: f32[3]) -> (f32[3]) {\n  %0 = neg %x {__proto__=[1]} : f32[3]\n  return %0\n}\n');
    expect(Object.keys(g.nodes[0]!.attrs)).toEqual(['__proto__']);
    expectRoundTrip(g);
  });

  it('handles a large graph', () => {
    const b = new GraphBuilder('big');
    let v = b.param('x', f32(4, 4));
    for (let i = 0; i < 5_000; i++) v = b.emit(i % 2 ? 'neg' : 'sum', [v], i % 2 ? {} : { axes: [0] });
    const text = expectRoundTrip(b.build([v]));
    expect(text.split('\n').length).toBe(5_004);
  });

  it('keeps declared types as written, for the verifier to check', () => {
    const g = parseGraph('func @f(%x: f32[3]) -> (f32[3]) {\n  %0 = neg %x : i32[7]\n  return %0\n}\n');
    expect(g.nodes[0]!.out.type).toEqual(t('i32', 7));
    expect(() => verifyGraph(g)).toThrow(/type mismatch: neg of f32\[3\] gives f32\[3\], declared i32\[7\]/);
  });
});

describe('parse errors', () => {
  const func = (body: string): string => `func @f(%x: f32[3]) -> (f32[3]) {\n${body}\n  return %0\n}\n`;
  it.each([
    ['unknown op', func('  %0 = relu %x : f32[3]'), "<ir>:2:8: unknown op 'relu', got 'relu'"],
    ['undefined value', func('  %0 = neg %nope : f32[3]'), '<ir>:2:12: use of undefined value %nope'],
    [
      'forward reference',
      func('  %0 = add %1, %x : f32[3]\n  %1 = neg %x : f32[3]'),
      '<ir>:2:12: %1 is used before its definition at 3:3',
    ],
    ['redefinition', func('  %0 = neg %x : f32[3]\n  %0 = neg %x : f32[3]'), '<ir>:3:3: redefinition of %0 (first defined at 2:3)'],
    ['missing comma', func('  %0 = add %x %x : f32[3]'), "<ir>:2:15: expected ':' before the result type, got '%x'"],
    ['bad dtype', func('  %0 = neg %x : f16[3]'), "<ir>:2:17: unknown dtype (expected f32, i32, bool), got 'f16'"],
    ['bad dim', func('  %0 = neg %x : f32[1.5]'), "<ir>:2:21: expected a dimension (a non-negative integer), got '1.5'"],
    ['bad attr value', func('  %0 = neg %x {a=b} : f32[3]'), "<ir>:2:18: expected an attribute value (number, string, true, false, null, inf, nan or [..]), got 'b'"],
    ['bad character', func('  %0 = neg %x ; f32[3]'), "<ir>:2:15: unexpected character ';'"],
    ['unterminated string', func('  %0 = neg %x {a="x} : f32[3]'), '<ir>:2:18: unterminated string'],
    ['end of input', 'func @f(%x: f32[3]) -> (f32[3]) {\n  return %x\n', "<ir>:3:1: expected '}' to close the function body, got end of input"],
    ['not a func', 'fn @f() -> () {}', "<ir>:1:1: expected 'func', got 'fn'"],
    ['numeric parameter', 'func @f(%0: f32[3]) -> () {\n  return\n}', "<ir>:1:9: expected a parameter name that starts with a letter or _, got '%0'"],
  ])('%s', (_name, text, message) => {
    const e = thrown(() => parseModule(text));
    expect(e).toBeInstanceOf(IRParseError);
    expect(e.message).toBe(message);
  });

  it('names the file when given one', () => {
    expect(() => parseModule(func('  %0 = relu %x : f32[3]'), 'model.kir')).toThrow(/^model\.kir:2:8: unknown op 'relu'/);
  });

  it('parseGraph wants exactly one func', () => {
    const one = 'func @a() -> () {\n  return\n}\n';
    expect(() => parseGraph(one + one)).toThrow(new IRParseError('<ir>: expected exactly one func, got 2'));
    expect(() => parseGraph('// nothing here\n')).toThrow(new IRParseError('<ir>: expected exactly one func, got 0'));
  });
});

describe('verifier', () => {
  /** x → %0 = neg x → %1 = exp %0 → %2 = add %1, y, returning %2. */
  function chain(): Graph {
    const b = new GraphBuilder('f');
    const x = b.param('x', f32(3));
    const y = b.param('y', f32(3));
    const e = b.emit('exp', [b.emit('neg', [x], {})], {});
    return b.build([b.emit('add', [e, y], {})]);
  }
  const verifyMessage = (g: Graph): string => {
    const e = thrown(() => verifyGraph(g));
    expect(e).toBeInstanceOf(IRVerifyError);
    return e.message;
  };
  const withNodes = (g: Graph, nodes: readonly Node[], outputs = g.outputs): Graph => new Graph(g.name, g.params, nodes, outputs);
  /** A node with its result linked back to it, as the builder makes them (no rules checked). */
  const linked = (op: OpName, inputs: readonly Value[], attrs: Attrs, type: TensorType): Node =>
    new GraphBuilder('scratch').push(op, inputs, attrs, type).node!;

  it('accepts a valid graph', () => {
    expect(() => verifyGraph(chain())).not.toThrow();
  });

  it('prints the IR around the fault, marks the line and says what is wrong', () => {
    const g = parseGraph(
      'func @f(%x: f32[3], %y: f32[3]) -> (f32[4]) {\n  %0 = neg %x : f32[3]\n  %1 = add %0, %y : f32[4]\n  return %1\n}\n',
    );
    expect(verifyMessage(g)).toBe(
      [
        '@f: type mismatch: add of f32[3], f32[3] gives f32[3], declared f32[4]',
        '   1 | func @f(%x: f32[3], %y: f32[3]) -> (f32[4]) {',
        '   2 |   %0 = neg %x : f32[3]',
        '>  3 |   %1 = add %0, %y : f32[4]',
        '     |   error: type mismatch: add of f32[3], f32[3] gives f32[3], declared f32[4]',
        '   4 |   return %1',
        '   5 | }',
      ].join('\n'),
    );
  });

  it('shows only a few lines of context in a long graph', () => {
    const body = Array.from({ length: 40 }, (_, i) => `  %${i} = neg %${i === 0 ? 'x' : i - 1} : f32[${i === 20 ? 9 : 2}]`);
    const g = parseGraph(`func @long(%x: f32[2]) -> (f32[2]) {\n${body.join('\n')}\n  return %39\n}\n`);
    const message = verifyMessage(g);
    const lines = message.split('\n');
    expect(lines[0]).toBe('@long: type mismatch: neg of f32[2] gives f32[2], declared f32[9]');
    const shown = lines.flatMap((l) => /^[> ] +(\d+) \|/.exec(l)?.[1] ?? []).map(Number);
    expect(shown).toEqual([19, 20, 21, 22, 23, 24, 25]);
    expect(message).toContain('>  22 |   %20 = neg %19 : f32[9]');
  });

  it('rejects a use before the definition', () => {
    const g = chain();
    const [n0, n1, n2] = g.nodes as [Node, Node, Node];
    expect(verifyMessage(withNodes(g, [n1, n0, n2]))).toMatch(/^@f: operand 0 \(%1\) is used before its definition on line 3\n/);
  });

  it('rejects a value defined in another graph', () => {
    const g = chain();
    const other = chain();
    const [n0, n1, n2] = g.nodes as [Node, Node, Node];
    const stray = other.params[0]!;
    const message = verifyMessage(withNodes(g, [n0, linked('exp', [stray], {}, f32(3)), n2]));
    expect(message).toMatch(new RegExp(`^@f: operand 0 \\(%\\?v${stray.id}\\) is not defined in @f\\n`));
    expect(message).toContain(`>  3 |   %1 = exp %?v${stray.id} : f32[3]`);
  });

  it('rejects a value assigned twice', () => {
    const g = chain();
    const [n0, n1, n2] = g.nodes as [Node, Node, Node];
    expect(verifyMessage(withNodes(g, [n0, n1, n1, n2]))).toMatch(/^@f: %1 is assigned twice \(first on line 3\)\n/);
    const asParam: Node = { ...n0, out: g.params[1]! };
    expect(verifyMessage(withNodes(g, [asParam, n1, n2]))).toMatch(/^@f: %y is assigned twice \(first as a parameter\)/);
  });

  it('rejects a parameter that is a node result or appears twice', () => {
    const g = chain();
    const [n0] = g.nodes as [Node];
    expect(verifyMessage(new Graph('f', [g.params[0]!, n0.out], g.nodes, g.outputs))).toMatch(/^@f: parameter %arg1 is the result of a neg node/);
    expect(verifyMessage(new Graph('f', [g.params[0]!, g.params[0]!], g.nodes, g.outputs))).toMatch(/^@f: parameter %x appears twice/);
  });

  it('rejects outputs that are not defined', () => {
    const g = chain();
    const stray = chain().outputs[0]!;
    const message = verifyMessage(withNodes(g, g.nodes, [g.outputs[0]!, stray]));
    expect(message).toMatch(new RegExp(`^@f: return: result 1 \\(%\\?v${stray.id}\\) is not defined in @f`));
    expect(message).toContain(`>  5 |   return %2, %?v${stray.id}`);
  });

  it('reports the error of the op rules, with arity', () => {
    const g = chain();
    const [n0, n1, n2] = g.nodes as [Node, Node, Node];
    expect(verifyMessage(withNodes(g, [n0, n1, linked('add', [n1.out], {}, f32(3))]))).toMatch(/^@f: add: expected 2 inputs, got 1\n/);
    const badAttrs: Attrs = { axes: [5] };
    expect(verifyMessage(withNodes(g, [n0, linked('sum', [n0.out], badAttrs, f32(3)), n2]))).toMatch(
      /^@f: sum: dimension out of range \(expected to be in range of \[-1, 0\], but got 5\)\n/,
    );
  });

  it('rejects unknown ops and attributes that are not plain JSON', () => {
    const g = chain();
    const [n0, n1, n2] = g.nodes as [Node, Node, Node];
    // NOTE: only a hand-built graph can hold an unknown op.
    const unknown = linked('relu' as OpName, [n0.out], {}, f32(3));
    expect(verifyMessage(withNodes(g, [n0, unknown, n2]))).toMatch(/^@f: unknown op 'relu'\n/);
    const odd = linked('exp', [n0.out], JSON.parse('{"when": {"hour": 1}}') as Attrs, f32(3));
    const message = verifyMessage(withNodes(g, [n0, odd, n2]));
    expect(message).toMatch(/^@f: exp: attribute 'when' is not plain JSON/);
    expect(message).toContain('%1 = exp %0 {when=<invalid object>} : f32[3]');
  });

  it('checks a parsed graph against the result types its signature declares', () => {
    const text = (sig: string): string => `func @f(%x: f32[3]) -> (${sig}) {\n  %0 = neg %x : f32[3]\n  return %0\n}\n`;
    expect(() => verifyGraph(parseGraph(text('f32[3]')))).not.toThrow();
    expect(verifyMessage(parseGraph(text('f32[3], f32[3]')))).toMatch(
      /^@f: return: @f declares 2 results \(f32\[3\], f32\[3\]\) but returns 1 \(f32\[3\]\)\n(.*\n)*>  3 \|   return %0\n/,
    );
    expect(verifyMessage(parseGraph(text('bool[3]')))).toMatch(/^@f: return: result 0 is f32\[3\], declared bool\[3\]/);
  });
});

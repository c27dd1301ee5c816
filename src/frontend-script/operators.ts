/**
 * Operators in model code: on compile-time values they compute (JavaScript semantics); on
 * tensors they are diagnostics naming the tensor method to write instead (no operator
 * overloading in JavaScript: `x + y` would concatenate strings at run time).
 */
import { type BinaryExpression, type Node, Node as N, SyntaxKind } from 'ts-morph';
import { Value } from '../ir/graph.js';
import { fail, textOf } from './diagnostics.js';
import type { Frame, Interpreter } from './interpreter.js';
import { describe, type SVal, truthy } from './values.js';

const OPERATOR_METHOD: Partial<Record<string, string>> = {
  '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '**': 'pow', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge',
  '===': 'eq', '==': 'eq', '!==': 'ne', '!=': 'ne', '&': 'logicalAnd', '|': 'logicalOr',
};

/** `-x`, `!x`, `~x`, `i++`, `--i`. */
export function evalUnary(it: Interpreter, e: Node, frame: Frame): SVal {
  if (!N.isPrefixUnaryExpression(e) && !N.isPostfixUnaryExpression(e)) return undefined;
  const op = e.getOperatorToken();
  const operand = e.getOperand();
  if (op === SyntaxKind.PlusPlusToken || op === SyntaxKind.MinusMinusToken) {
    const old = it.eval(operand, frame);
    if (typeof old !== 'number') return operatorError(op === SyntaxKind.PlusPlusToken ? '++' : '--', e, old);
    const next = op === SyntaxKind.PlusPlusToken ? old + 1 : old - 1;
    it.assignTo(operand, next, frame);
    return N.isPrefixUnaryExpression(e) ? next : old;
  }
  const v = it.eval(operand, frame);
  const text = { [SyntaxKind.MinusToken]: '-', [SyntaxKind.PlusToken]: '+', [SyntaxKind.ExclamationToken]: '!', [SyntaxKind.TildeToken]: '~' }[op] ?? '?';
  if (v instanceof Value) {
    if (text === '!') return fail(e, `! on a tensor is data-dependent: use logicalNot(${textOf(operand)}) for an elementwise not`);
    return fail(e, `unary ${text} on a tensor is not supported (JavaScript has no operator overloading): write ${text === '-' ? `${textOf(operand)}.neg()` : textOf(operand)}`);
  }
  if (text === '!') return !truthy(v);
  if (typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'string' && v !== null && v !== undefined) return operatorError(text, e, v);
  const n = v as number;
  return text === '-' ? -n : text === '+' ? +n : ~n;
}

/** Binary operators, assignments (`=`, `+=`, `??=`, ...), short-circuiting logic and the comma. */
export function evalBinary(it: Interpreter, e: BinaryExpression, frame: Frame): SVal {
  const kind = e.getOperatorToken().getKind();
  const op = e.getOperatorToken().getText();
  if (kind === SyntaxKind.EqualsToken) {
    const v = it.eval(e.getRight(), frame);
    it.assignTo(e.getLeft(), v, frame);
    return v;
  }
  if (kind === SyntaxKind.CommaToken) {
    it.eval(e.getLeft(), frame);
    return it.eval(e.getRight(), frame);
  }
  if (op === '&&' || op === '||' || op === '??' || op === '&&=' || op === '||=' || op === '??=') {
    const l = it.eval(e.getLeft(), frame);
    const base = op.replace('=', '');
    if (l instanceof Value && base !== '??') {
      return fail(e.getOperatorToken(), `${base} on a tensor is data-dependent: use ${base === '&&' ? 'logicalAnd(a, b)' : 'logicalOr(a, b)'} for elementwise logic, or test compile-time values`);
    }
    const short = base === '&&' ? !truthy(l) : base === '||' ? truthy(l) : l !== null && l !== undefined;
    if (short) return l;
    const r = it.eval(e.getRight(), frame);
    if (op.endsWith('=')) it.assignTo(e.getLeft(), r, frame);
    return r;
  }
  if (op.endsWith('=') && !['==', '===', '!=', '!==', '<=', '>='].includes(op)) {
    const l = it.eval(e.getLeft(), frame);
    const r = it.eval(e.getRight(), frame);
    if (l instanceof Value || r instanceof Value) {
      const m = OPERATOR_METHOD[op.slice(0, -1)];
      return fail(
        e.getOperatorToken(),
        `operator ${op} on tensors is not supported (JavaScript has no operator overloading): write ${textOf(e.getLeft())} = ${textOf(e.getLeft())}.${m ?? 'add'}(${textOf(e.getRight())})`,
      );
    }
    const v = binaryOp(it, op.slice(0, -1), l, r, e);
    it.assignTo(e.getLeft(), v, frame);
    return v;
  }
  const l = it.eval(e.getLeft(), frame);
  const r = it.eval(e.getRight(), frame);
  return binaryOp(it, op, l, r, e);
}

function binaryOp(it: Interpreter, op: string, l: SVal, r: SVal, e: BinaryExpression): SVal {
  if (l instanceof Value || r instanceof Value) {
    if (op === '+' && (typeof l === 'string' || typeof r === 'string')) return it.stringOf(l instanceof Value ? l : r, e);
    return operatorError(op, e, l, r);
  }
  if (op === '===' || op === '!==' || op === '==' || op === '!=') {
    const same = op.length === 3 ? l === r : l == r;
    return op.startsWith('=') ? same : !same;
  }
  if (op === 'in') return fail(e.getOperatorToken(), "the 'in' operator is not supported in model code: test the value (x !== undefined)");
  const bad = [l, r].find((v) => typeof v === 'object' && v !== null);
  if (bad !== undefined) return operatorError(op, e, bad);
  const [a, b] = [l as number, r as number];
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return a / b;
    case '%': return a % b;
    case '**': return a ** b;
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    case '>=': return a >= b;
    case '&': return a & b;
    case '|': return a | b;
    case '^': return a ^ b;
    case '<<': return a << b;
    case '>>': return a >> b;
    case '>>>': return a >>> b;
  }
  return fail(e.getOperatorToken(), `operator ${op} is not supported in model code`);
}

function operatorError(op: string, e: Node, ...operands: SVal[]): never {
  const site = N.isBinaryExpression(e) ? e.getOperatorToken() : e;
  if (!operands.some((v) => v instanceof Value)) return fail(site, `operator ${op} on ${operands.map(describe).join(' and ')} is not supported in model code`);
  const m = OPERATOR_METHOD[op];
  const hint = N.isBinaryExpression(e) && m ? `write ${textOf(e.getLeft())}.${m}(${textOf(e.getRight())})` : m ? `use the tensor method ${m}` : 'use tensor methods (add, sub, mul, div, pow, ...)';
  return fail(site, `operator ${op} on tensors is not supported (JavaScript has no operator overloading): ${hint}`);
}

import { GraphBuilder } from './builder.js';
import { IRParseError } from './errors.js';
import type { Attrs, AttrValue, Graph, SourceLoc, Value } from './graph.js';
import type { OpName } from './ops/index.js';
import { isOpName } from './ops/index.js';
import { IDENT } from './printer.js';
import type { DType, TensorType } from './types.js';
import { DTYPES, tensorType } from './types.js';
import { declareResults } from './verifier.js';

/**
 * Reads the text form written by `printGraph`. The parser checks syntax and names only;
 * types are taken as declared (through `GraphBuilder.push`) so that `verifyGraph`, not the
 * parser, reports a node whose type breaks its op's rules. `//` starts a comment.
 *
 * ```ts
 * const g = parseGraph('func @f(%x: f32[3]) -> (f32[3]) {\n  %0 = neg %x : f32[3]\n  return %0\n}\n');
 * ```
 */
export function parseModule(text: string, file?: string): Graph[] {
  const p = new Parser(tokenize(text, file), file);
  const funcs: FuncSyntax[] = [];
  while (p.peek().kind !== 'eof') funcs.push(p.func());
  return funcs.map((f) => buildGraph(f, file));
}

/** Parses text that holds exactly one `func`. */
export function parseGraph(text: string, file?: string): Graph {
  const gs = parseModule(text, file);
  if (gs.length !== 1) {
    throw new IRParseError(`${file ?? '<ir>'}: expected exactly one func, got ${gs.length}`);
  }
  return gs[0]!;
}

// ---- tokens ----

type TokKind = 'ident' | 'value' | 'symbol' | 'number' | 'string' | 'punct' | 'eof';

interface Token {
  readonly kind: TokKind;
  /** The source text (for punctuation, the character; for `-> `, '->'). */
  readonly text: string;
  readonly line: number;
  readonly col: number;
  /** Decoded payload: the name of `%x` / `@f`, the string of "..", the number of 1.5. */
  readonly str?: string;
  readonly num?: number;
}

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const NAME_CHARS = /[A-Za-z0-9_.]*/y;
const IDENT_START = /[A-Za-z_]/;
const PUNCT = new Set(['(', ')', '[', ']', '{', '}', ',', ':', '=']);

function where(file: string | undefined, line: number, col: number): string {
  return `${file ?? '<ir>'}:${line}:${col}`;
}

function tokenize(text: string, file: string | undefined): Token[] {
  const toks: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const fail = (msg: string, at = i): never => {
    throw new IRParseError(`${where(file, line, at - lineStart + 1)}: ${msg}`);
  };
  const readName = (from: number): string => {
    NAME_CHARS.lastIndex = from;
    NAME_CHARS.exec(text);
    return text.slice(from, NAME_CHARS.lastIndex);
  };
  const readString = (from: number): { str: string; end: number } => {
    let j = from + 1;
    while (j < text.length && text[j] !== '"' && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
    if (text[j] !== '"') fail('unterminated string', from);
    try {
      return { str: JSON.parse(text.slice(from, j + 1)) as string, end: j + 1 };
    } catch {
      return fail(`invalid string ${text.slice(from, j + 1)}`, from);
    }
  };
  const push = (kind: TokKind, end: number, extra: { str?: string; num?: number } = {}): void => {
    toks.push({ kind, text: text.slice(i, end), line, col: i - lineStart + 1, ...extra });
    i = end;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (PUNCT.has(c)) {
      push('punct', i + 1);
    } else if (c === '-' && text[i + 1] === '>') {
      push('punct', i + 2);
    } else if (c === '%' || c === '@') {
      if (c === '@' && text[i + 1] === '"') {
        const s = readString(i + 1);
        push('symbol', s.end, { str: s.str });
      } else {
        const name = readName(i + 1);
        if (name === '') fail(`expected a name after '${c}'`);
        push(c === '%' ? 'value' : 'symbol', i + 1 + name.length, { str: name });
      }
    } else if (c === '"') {
      const s = readString(i);
      push('string', s.end, { str: s.str });
    } else if (c === '-' && text.startsWith('inf', i + 1) && !/[A-Za-z0-9_.]/.test(text[i + 4] ?? '')) {
      push('number', i + 4, { num: -Infinity });
    } else if (/[-0-9]/.test(c)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) fail(`unexpected character '${c}'`);
      push('number', i + m![0].length, { num: Number(m![0]) });
    } else if (IDENT_START.test(c)) {
      push('ident', i + readName(i).length);
    } else {
      fail(`unexpected character '${c}'`);
    }
  }
  toks.push({ kind: 'eof', text: '', line, col: i - lineStart + 1 });
  return toks;
}

// ---- syntax ----

interface StmtSyntax {
  readonly result: Token;
  readonly op: Token;
  readonly operands: readonly Token[];
  readonly attrs: Attrs;
  readonly type: TensorType;
  readonly loc?: SourceLoc;
}

interface FuncSyntax {
  readonly name: string;
  readonly params: readonly { readonly tok: Token; readonly type: TensorType }[];
  readonly results: readonly TensorType[];
  readonly stmts: readonly StmtSyntax[];
  readonly returns: readonly Token[];
}

function describeToken(t: Token): string {
  return t.kind === 'eof' ? 'end of input' : `'${t.text}'`;
}

class Parser {
  private pos = 0;
  constructor(
    private readonly toks: readonly Token[],
    private readonly file: string | undefined,
  ) {}

  peek(): Token {
    return this.toks[this.pos]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  fail(msg: string, t: Token = this.peek()): never {
    throw new IRParseError(`${where(this.file, t.line, t.col)}: ${msg}, got ${describeToken(t)}`);
  }

  private isPunct(p: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === p;
  }

  private eat(p: string): boolean {
    if (!this.isPunct(p)) return false;
    this.pos++;
    return true;
  }

  private expect(p: string, context: string): Token {
    if (!this.isPunct(p)) this.fail(`expected '${p}' ${context}`);
    return this.next();
  }

  private expectKind(kind: TokKind, what: string): Token {
    if (this.peek().kind !== kind) this.fail(`expected ${what}`);
    return this.next();
  }

  private keyword(word: string): boolean {
    const t = this.peek();
    return t.kind === 'ident' && t.text === word;
  }

  /** `p (',' p)*` up to the closing punctuation `close` (consumed). */
  private list<T>(close: string, item: () => T, context: string): T[] {
    const items: T[] = [];
    if (this.eat(close)) return items;
    do items.push(item());
    while (this.eat(','));
    this.expect(close, context);
    return items;
  }

  func(): FuncSyntax {
    if (!this.keyword('func')) this.fail("expected 'func'");
    this.next();
    const name = this.expectKind('symbol', 'a function name like @f').str!;
    this.expect('(', 'to open the parameter list');
    const params = this.list(')', () => this.param(), "or ',' in the parameter list");
    this.expect('->', 'before the result types');
    this.expect('(', 'to open the result types');
    const results = this.list(')', () => this.type(), "or ',' in the result types");
    this.expect('{', 'to open the function body');
    const stmts: StmtSyntax[] = [];
    while (!this.keyword('return')) {
      if (this.peek().kind !== 'value') this.fail("expected a statement '%name = op ...' or 'return'");
      stmts.push(this.stmt());
    }
    this.next();
    const returns: Token[] = [];
    if (this.peek().kind === 'value') {
      do returns.push(this.expectKind('value', 'a value like %0 after \',\''));
      while (this.eat(','));
    }
    this.expect('}', 'to close the function body');
    return { name, params, results, stmts, returns };
  }

  private param(): { tok: Token; type: TensorType } {
    const tok = this.expectKind('value', 'a parameter like %x');
    if (!IDENT.test(tok.str!)) this.fail('expected a parameter name that starts with a letter or _', tok);
    this.expect(':', 'after the parameter name');
    return { tok, type: this.type() };
  }

  private stmt(): StmtSyntax {
    const result = this.next();
    this.expect('=', 'after the result name');
    const op = this.expectKind('ident', 'an op name');
    if (!isOpName(op.text)) this.fail(`unknown op '${op.text}'`, op);
    const operands: Token[] = [];
    if (this.peek().kind === 'value') {
      do operands.push(this.expectKind('value', "an operand like %0 after ','"));
      while (this.eat(','));
    }
    const attrs = this.isPunct('{') ? this.attrs() : {};
    this.expect(':', 'before the result type');
    const type = this.type();
    const stmt: { -readonly [K in keyof StmtSyntax]: StmtSyntax[K] } = { result, op, operands, attrs, type };
    if (this.keyword('loc')) stmt.loc = this.loc();
    return stmt;
  }

  private type(): TensorType {
    const t = this.expectKind('ident', 'a type like f32[2,3]');
    if (!(DTYPES as readonly string[]).includes(t.text)) this.fail(`unknown dtype (expected ${DTYPES.join(', ')})`, t);
    this.expect('[', 'to open the shape');
    const shape = this.list(']', () => this.dim(), "or ',' in the shape");
    return tensorType(t.text as DType, shape);
  }

  private dim(): number {
    const t = this.peek();
    if (t.kind !== 'number' || !/^\d+$/.test(t.text)) this.fail('expected a dimension (a non-negative integer)');
    this.next();
    return t.num!;
  }

  private attrs(): Attrs {
    this.expect('{', 'to open the attributes');
    const attrs = new Map<string, AttrValue>();
    this.list(
      '}',
      () => {
        const k = this.peek();
        if (k.kind !== 'ident' && k.kind !== 'string') this.fail('expected an attribute name');
        this.next();
        const key = k.kind === 'string' ? k.str! : k.text;
        if (attrs.has(key)) this.fail(`duplicate attribute '${key}'`, k);
        this.expect('=', 'after the attribute name');
        attrs.set(key, this.attrValue());
      },
      "or ',' in the attributes",
    );
    // NOTE: fromEntries defines own properties, so even a key like "__proto__" stays an attribute.
    return Object.fromEntries(attrs);
  }

  private attrValue(): AttrValue {
    const t = this.peek();
    if (t.kind === 'number' || t.kind === 'string') {
      this.next();
      return t.kind === 'number' ? t.num! : t.str!;
    }
    if (t.kind === 'ident') {
      const words: Record<string, AttrValue> = { inf: Infinity, nan: NaN, true: true, false: false, null: null };
      if (Object.hasOwn(words, t.text)) {
        this.next();
        return words[t.text]!;
      }
    }
    if (this.eat('[')) return this.list(']', () => this.attrValue(), "or ',' in the list");
    return this.fail('expected an attribute value (number, string, true, false, null, inf, nan or [..])');
  }

  private loc(): SourceLoc {
    this.next();
    this.expect('(', "after 'loc'");
    const file = this.expectKind('string', 'a quoted file name').str!;
    this.expect(':', 'after the file name');
    const line = this.dim();
    this.expect(':', 'after the line');
    const col = this.dim();
    this.expect(')', 'to close loc(...)');
    return { file, line, col };
  }
}

// ---- names → values ----

function buildGraph(f: FuncSyntax, file: string | undefined): Graph {
  const fail = (msg: string, t: Token): never => {
    throw new IRParseError(`${where(file, t.line, t.col)}: ${msg}`);
  };
  // Every definition, so that a forward reference can say where its value is defined.
  const defs = new Map<string, Token>();
  for (const t of [...f.params.map((p) => p.tok), ...f.stmts.map((s) => s.result)]) {
    const first = defs.get(t.str!);
    if (first) fail(`redefinition of %${t.str} (first defined at ${first.line}:${first.col})`, t);
    defs.set(t.str!, t);
  }
  const b = new GraphBuilder(f.name);
  const scope = new Map<string, Value>();
  const resolve = (t: Token): Value => {
    const v = scope.get(t.str!);
    if (v) return v;
    const def = defs.get(t.str!);
    return def
      ? fail(`%${t.str} is used before its definition at ${def.line}:${def.col}`, t)
      : fail(`use of undefined value %${t.str}`, t);
  };
  for (const p of f.params) scope.set(p.tok.str!, b.param(p.tok.str!, p.type));
  for (const s of f.stmts) {
    const inputs = s.operands.map(resolve);
    scope.set(s.result.str!, b.push(s.op.text as OpName, inputs, s.attrs, s.type, s.loc));
  }
  const g = b.build(f.returns.map(resolve));
  declareResults(g, f.results);
  return g;
}

/**
 * The script compiler's core: it runs a model file's code at compile time over
 * compile-time values (`values.ts`), so that numbers, shapes, `if` and `for` are resolved
 * while building the graph, and every tensor op becomes IR through `Ops<Value>` with the
 * `file:line:col` of the call that wrote it. Nothing of the model file is executed by Node.
 */
import {
  type ArrayLiteralExpression,
  type CallExpression,
  type Expression,
  type ForOfStatement,
  type ForStatement,
  type NewExpression,
  type Node,
  Node as N,
  type ObjectLiteralExpression,
  type ParameterDeclaration,
  type Statement,
  SyntaxKind,
} from 'ts-morph';
import { Tensor } from '../frontend-eager/index.js';
import type { GraphBuilder } from '../ir/builder.js';
import { Value } from '../ir/graph.js';
import type { Ops } from '../ir/lang/index.js';
import { Module } from '../stdlib-nn/module.js';
import { callArrayMethod, callBuiltin, callPrimitiveMethod, GLOBALS, iterate, toStatic } from './builtins.js';
import { atNode, fail, locOf, ScriptCompileError, textOf } from './diagnostics.js';
import { callKilnForward, isKilnModuleClass, KILN, kilnExport } from './library.js';
import { lintFunction } from './lint.js';
import { Modules } from './modules.js';
import { evalBinary, evalUnary } from './operators.js';
import { boundNames, declarationKind, type ModelFile } from './source.js';
import { callTensorMethod, suggestion, tensorProperty } from './tensor-methods.js';
import { ClassRef, describe, Func, type FunctionLike, hasTensor, Lib, Obj, Scope, type SVal, truthy } from './values.js';

/** Constructors and field initializers run in `build` mode (real layers are created); forward code in `forward` mode. */
export type Mode = 'build' | 'forward';

/** Where code runs: its scope, `this`, the mode, and the class a method belongs to (for `super`). */
export interface Frame {
  readonly scope: Scope;
  readonly self: SVal;
  readonly mode: Mode;
  readonly home?: ClassRef | undefined;
  /** Inside a constructor body: what `super(...)` must do. */
  readonly ctor?: { readonly cls: ClassRef; readonly afterSuper: () => void; called: boolean } | undefined;
}

type Completion = { kind: 'normal' } | { kind: 'return'; value: SVal } | { kind: 'break' } | { kind: 'continue' };
const NORMAL: Completion = { kind: 'normal' };

/** Loops are unrolled; a loop that runs longer than this is a mistake (or not a compile-time loop). */
export const MAX_UNROLL = 10_000;

function newNotSupported(name: string): string {
  return `new ${name}(...) is not supported in model code: model code can create kiln layers and Module subclasses of model files (in the constructor), and tensors with zeros, ones, full or tensor of literal numbers; use arrays and object literals for plain data`;
}

export class Interpreter {
  /** The graph values of the model's parameters and buffers. */
  readonly params = new Map<Tensor, Value>();
  readonly modules = new Modules(this);
  private readonly active: { decl: FunctionLike; self: SVal }[] = [];
  private readonly linted = new WeakSet<Node>();

  constructor(
    readonly b: GraphBuilder,
    readonly o: Ops<Value>,
    /** The value of `this.training` in forward code. */
    readonly training: boolean,
  ) {}

  // ---- functions ----

  /** Rejects unsupported syntax in a function (once), reporting every instance together. */
  lint(node: Node): void {
    if (this.linted.has(node)) return;
    this.linted.add(node);
    const found = lintFunction(node);
    if (found.length) throw new ScriptCompileError(found);
  }

  /** Runs a model-file function with `args` (inlining it into the graph in forward mode). */
  callFunction(fn: Func, args: readonly SVal[], site: Node, mode: Mode): SVal {
    this.lint(fn.decl);
    if (this.active.some((a) => a.decl === fn.decl && a.self === fn.self)) {
      return fail(site, `recursive call to ${fn.name}() is not supported in model code: calls are inlined at compile time; write the repetition as a for loop with compile-time bounds`);
    }
    if (this.active.length > 200) return fail(site, `calls nested more than 200 deep at ${fn.name}()`);
    this.active.push({ decl: fn.decl, self: fn.self });
    try {
      const frame: Frame = { scope: fn.env.child(), self: fn.self, mode, home: fn.home };
      this.bindParameters(fn.decl.getParameters(), args, frame);
      const body = fn.decl.getBody();
      if (!body) return fail(fn.decl, `${fn.name} has no body`);
      if (N.isBlock(body)) {
        const c = this.execStatements(body.getStatements(), frame);
        return c.kind === 'return' ? c.value : undefined;
      }
      return this.eval(body as Expression, frame);
    } finally {
      this.active.pop();
    }
  }

  /**
   * Binds a function's parameters to `args` (defaults fill in missing ones). With `required`
   * (a class name), a parameter with neither an argument nor a default is an error.
   */
  bindParameters(params: readonly ParameterDeclaration[], args: readonly SVal[], frame: Frame, required?: string): void {
    params.forEach((p, i) => {
      if (p.isRestParameter()) {
        this.bindPattern(p.getNameNode(), args.slice(i), frame, true);
        return;
      }
      let v = args[i];
      const init = p.getInitializer();
      if (v === undefined && init) v = this.eval(init, frame);
      if (v === undefined && !init && !p.hasQuestionToken() && required) {
        fail(p, `constructor parameter '${p.getName()}' of ${required} has no value: give it a default (${p.getName()} = ...), or pass it (new ${required}(...), or the 'args' compile option for the model class)`);
      }
      this.bindPattern(p.getNameNode(), v, frame, true);
    });
  }

  // ---- statements ----

  execStatements(stmts: readonly Statement[], frame: Frame): Completion {
    for (const s of stmts) {
      if (N.isFunctionDeclaration(s) && s.getName()) frame.scope.declare(s.getName()!, new Func(s, frame.scope, undefined, s.getName()!), false);
    }
    for (const s of stmts) {
      const c = this.exec(s, frame);
      if (c.kind !== 'normal') return c;
    }
    return NORMAL;
  }

  private exec(s: Statement, frame: Frame): Completion {
    if (N.isVariableStatement(s)) {
      const mutable = declarationKind(s.getDeclarationList().getFlags()) !== 'const';
      for (const d of s.getDeclarations()) {
        const init = d.getInitializer();
        this.bindPattern(d.getNameNode(), init ? this.eval(init, frame) : undefined, frame, mutable);
      }
      return NORMAL;
    }
    if (N.isExpressionStatement(s)) {
      this.eval(s.getExpression(), frame);
      return NORMAL;
    }
    if (N.isReturnStatement(s)) {
      const e = s.getExpression();
      return { kind: 'return', value: e ? this.eval(e, frame) : undefined };
    }
    if (N.isIfStatement(s)) {
      const cond = this.eval(s.getExpression(), frame);
      if (cond instanceof Value) {
        return fail(
          s.getExpression(),
          `if on a tensor value (data-dependent control flow) is not supported: the branch would depend on values known only at run time; compute both sides and select with where(cond, a, b), or branch on compile-time values (x.shape, hyperparameters, this.training)`,
        );
      }
      const next = truthy(cond) ? s.getThenStatement() : s.getElseStatement();
      return next ? this.exec(next, { ...frame, scope: frame.scope.child() }) : NORMAL;
    }
    if (N.isBlock(s)) return this.execStatements(s.getStatements(), { ...frame, scope: frame.scope.child() });
    if (N.isForStatement(s)) return this.execFor(s, frame);
    if (N.isForOfStatement(s)) return this.execForOf(s, frame);
    if (N.isBreakStatement(s) || N.isContinueStatement(s)) {
      if (s.getLabel()) return fail(s, 'labeled break/continue is not supported in model code');
      return { kind: N.isBreakStatement(s) ? 'break' : 'continue' };
    }
    if (N.isThrowStatement(s)) {
      const v = this.eval(s.getExpression(), frame);
      const msg = v instanceof Obj ? `${String(v.props.get('name'))}: ${String(v.props.get('message'))}` : describe(v);
      return fail(s, `the model code threw at compile time: ${msg} (throw is only allowed as a compile-time check on shapes and hyperparameters)`);
    }
    if (N.isEmptyStatement(s) || N.isFunctionDeclaration(s) || N.isTypeAliasDeclaration(s) || N.isInterfaceDeclaration(s)) return NORMAL;
    this.lint(s);
    return fail(s, `${s.getKindName()} is not supported in model code`);
  }

  private execFor(s: ForStatement, outer: Frame): Completion {
    let frame: Frame = { ...outer, scope: outer.scope.child() };
    const init = s.getInitializer();
    if (init && N.isVariableDeclarationList(init)) {
      const mutable = declarationKind(init.getFlags()) !== 'const';
      for (const d of init.getDeclarations()) {
        const e = d.getInitializer();
        this.bindPattern(d.getNameNode(), e ? this.eval(e, frame) : undefined, frame, mutable);
      }
    } else if (init) this.eval(init, frame);
    const cond = s.getCondition();
    const incr = s.getIncrementor();
    // NOTE: each iteration gets its own copy of the loop variables, so closures capture that iteration's values.
    const next = (): Frame => (frame = { ...frame, scope: frame.scope.copy() });
    next();
    for (let n = 0; ; n++) {
      if (cond) {
        const c = this.eval(cond, frame);
        if (c instanceof Value) {
          return fail(
            cond,
            'for loop condition depends on a tensor value (a data-dependent bound): loops are unrolled at compile time, so bounds must be compile-time numbers such as x.shape[0] or a hyperparameter',
          );
        }
        if (!truthy(c)) break;
      }
      if (n >= MAX_UNROLL) {
        return fail(s, `for loop runs more than ${MAX_UNROLL} iterations at compile time: loops are unrolled into the graph, so bounds must be small compile-time numbers`);
      }
      const c = this.exec(s.getStatement(), { ...frame, scope: frame.scope.child() });
      if (c.kind === 'return') return c;
      if (c.kind === 'break') break;
      next();
      if (incr) this.eval(incr, frame);
    }
    return NORMAL;
  }

  private execForOf(s: ForOfStatement, frame: Frame): Completion {
    const src = this.eval(s.getExpression(), frame);
    if (src instanceof Value) {
      return fail(
        s.getExpression(),
        `for-of over a tensor iterates its values at run time, which model code cannot do: loop over indices with compile-time bounds (for (let i = 0; i < x.shape[0]; i++)) and take slices (x.narrow(0, i, 1))`,
      );
    }
    const items = iterate(src);
    if (!items) return fail(s.getExpression(), `for-of over ${describe(src)} is not supported: iterate an array, a string, or a ModuleList / Sequential`);
    const init = s.getInitializer();
    for (const item of items) {
      const body: Frame = { ...frame, scope: frame.scope.child() };
      if (N.isVariableDeclarationList(init)) {
        const mutable = declarationKind(init.getFlags()) !== 'const';
        for (const d of init.getDeclarations()) this.bindPattern(d.getNameNode(), item, body, mutable);
      } else this.assignTo(init, item, body);
      const c = this.exec(s.getStatement(), body);
      if (c.kind === 'return') return c;
      if (c.kind === 'break') break;
    }
    return NORMAL;
  }

  /** Declares the names of a binding (identifier, `[a, b]`, `{ a, b }`) in `frame`'s scope. */
  bindPattern(name: Node, v: SVal, frame: Frame, mutable: boolean): void {
    if (N.isIdentifier(name)) {
      frame.scope.declare(name.getText(), v, mutable);
      return;
    }
    if (N.isArrayBindingPattern(name)) {
      const items = this.destructurable(v, name);
      name.getElements().forEach((e, i) => {
        if (!N.isBindingElement(e)) return;
        let x: SVal = e.getDotDotDotToken() ? items.slice(i) : items[i];
        const init = e.getInitializer();
        if (x === undefined && init) x = this.eval(init, frame);
        this.bindPattern(e.getNameNode(), x, frame, mutable);
      });
      return;
    }
    if (N.isObjectBindingPattern(name)) {
      const taken: string[] = [];
      for (const e of name.getElements()) {
        if (e.getDotDotDotToken()) {
          if (!(v instanceof Obj)) fail(e, `rest in object destructuring needs an object literal, got ${describe(v)}`);
          this.bindPattern(e.getNameNode(), new Obj(new Map([...v.props].filter(([k]) => !taken.includes(k)))), frame, mutable);
          continue;
        }
        const key = e.getPropertyNameNode()?.getText() ?? e.getName();
        taken.push(key);
        let x = this.getProperty(v, key, e, frame, textOf(name));
        const init = e.getInitializer();
        if (x === undefined && init) x = this.eval(init, frame);
        this.bindPattern(e.getNameNode(), x, frame, mutable);
      }
      return;
    }
    fail(name, `${name.getKindName()} is not supported as a binding in model code`);
  }

  private destructurable(v: SVal, site: Node): SVal[] {
    if (v instanceof Value) {
      return fail(site, `destructuring a tensor (const [a, b] = x) iterates its values at run time: destructure its shape (const [n, c] = x.shape) or take slices (x.narrow(0, i, 1))`);
    }
    return iterate(v) ?? fail(site, `cannot destructure ${describe(v)} as an array`);
  }

  // ---- expressions ----

  eval(e: Node, frame: Frame): SVal {
    switch (e.getKind()) {
      case SyntaxKind.NumericLiteral:
        return Number(e.getText().replace(/_/g, ''));
      case SyntaxKind.TrueKeyword:
        return true;
      case SyntaxKind.FalseKeyword:
        return false;
      case SyntaxKind.NullKeyword:
        return null;
      case SyntaxKind.ThisKeyword:
        return frame.self;
      case SyntaxKind.Identifier:
        return this.lookup(e.getText(), e, frame);
    }
    if (N.isStringLiteral(e) || N.isNoSubstitutionTemplateLiteral(e)) return e.getLiteralValue();
    if (N.isTemplateExpression(e)) {
      let s = e.getHead().getLiteralText();
      for (const span of e.getTemplateSpans()) {
        const v = this.eval(span.getExpression(), frame);
        s += this.stringOf(v, span.getExpression()) + span.getLiteral().getLiteralText();
      }
      return s;
    }
    if (N.isParenthesizedExpression(e) || N.isAsExpression(e) || N.isTypeAssertion(e) || N.isNonNullExpression(e) || N.isSatisfiesExpression(e)) {
      return this.eval(e.getExpression(), frame);
    }
    if (N.isArrayLiteralExpression(e)) return this.evalArray(e, frame);
    if (N.isObjectLiteralExpression(e)) return this.evalObject(e, frame);
    if (N.isPrefixUnaryExpression(e) || N.isPostfixUnaryExpression(e)) return evalUnary(this, e, frame);
    if (N.isBinaryExpression(e)) return evalBinary(this, e, frame);
    if (N.isConditionalExpression(e)) {
      const c = this.eval(e.getCondition(), frame);
      if (c instanceof Value) {
        return fail(e.getCondition(), 'a conditional expression (?:) on a tensor value is data-dependent control flow: select elementwise with where(cond, a, b)');
      }
      return this.eval(truthy(c) ? e.getWhenTrue() : e.getWhenFalse(), frame);
    }
    if (N.isCallExpression(e)) return this.evalCall(e, frame);
    if (N.isNewExpression(e)) return this.evalNew(e, frame);
    if (N.isPropertyAccessExpression(e)) {
      const obj = this.eval(e.getExpression(), frame);
      if (e.hasQuestionDotToken()) {
        if (obj instanceof Value) return this.optionalChainOnTensor(e);
        if (obj === null || obj === undefined) return undefined;
      }
      return this.getProperty(obj, e.getName(), e.getNameNode(), frame, textOf(e.getExpression()));
    }
    if (N.isElementAccessExpression(e)) {
      const obj = this.eval(e.getExpression(), frame);
      if (e.hasQuestionDotToken() && obj instanceof Value) return this.optionalChainOnTensor(e);
      const arg = e.getArgumentExpression();
      if (!arg) return fail(e, 'missing index');
      return this.getElement(obj, this.eval(arg, frame), e, frame);
    }
    if (N.isArrowFunction(e) || N.isFunctionExpression(e)) {
      const parent = e.getParent();
      const name = N.isVariableDeclaration(parent) ? parent.getName() : ((N.isFunctionExpression(e) ? e.getName() : undefined) ?? 'anonymous function');
      return N.isArrowFunction(e) ? new Func(e, frame.scope, frame.self, name, frame.home) : new Func(e, frame.scope, undefined, name);
    }
    if (N.isTypeOfExpression(e)) {
      const v = this.eval(e.getExpression(), frame);
      return v instanceof Func || v instanceof ClassRef || (v instanceof Lib && typeof v.value === 'function') ? 'function' : typeof v;
    }
    if (N.isVoidExpression(e)) {
      this.eval(e.getExpression(), frame);
      return undefined;
    }
    this.lint(e);
    return fail(e, `${e.getKindName()} is not supported in model code`);
  }

  private optionalChainOnTensor(e: Node): never {
    return fail(e, `optional chaining (?.) on a tensor is not supported: a tensor in compiled code is never null or undefined, so write ${textOf(e).replace('?.', '.')}`);
  }

  /** A value inside a template literal or string concatenation. */
  stringOf(v: SVal, site: Node): string {
    if (hasTensor(v)) {
      return fail(site, `string operations on tensors are not supported: a tensor's values are not known when compiling; use its shape or dtype (\${x.shape}, \${x.dtype})`);
    }
    return String(toStatic(v, (bad) => fail(site, `cannot convert ${describe(bad)} to a string in model code`)));
  }

  private evalArray(e: ArrayLiteralExpression, frame: Frame): SVal[] {
    const out: SVal[] = [];
    for (const el of e.getElements()) {
      if (N.isSpreadElement(el)) out.push(...this.spread(el.getExpression(), frame));
      else if (N.isOmittedExpression(el)) out.push(undefined);
      else out.push(this.eval(el, frame));
    }
    return out;
  }

  private spread(e: Expression, frame: Frame): SVal[] {
    const v = this.eval(e, frame);
    if (v instanceof Value) {
      return fail(e, `spreading a tensor (...${textOf(e)}) iterates its values at run time: pass the tensor itself, or spread its shape (...${textOf(e)}.shape)`);
    }
    return iterate(v) ?? fail(e, `cannot spread ${describe(v)}`);
  }

  private evalObject(e: ObjectLiteralExpression, frame: Frame): Obj {
    const obj = new Obj();
    for (const p of e.getProperties()) {
      if (N.isPropertyAssignment(p)) {
        const nameNode = p.getNameNode();
        const key = N.isComputedPropertyName(nameNode) ? String(this.eval(nameNode.getExpression(), frame)) : N.isStringLiteral(nameNode) ? nameNode.getLiteralValue() : nameNode.getText();
        obj.props.set(key, this.eval(p.getInitializerOrThrow(), frame));
      } else if (N.isShorthandPropertyAssignment(p)) {
        obj.props.set(p.getName(), this.lookup(p.getName(), p.getNameNode(), frame));
      } else if (N.isSpreadAssignment(p)) {
        const v = this.eval(p.getExpression(), frame);
        if (!(v instanceof Obj)) fail(p, `object spread needs an object literal, got ${describe(v)}`);
        for (const [k, x] of v.props) obj.props.set(k, x);
      } else if (N.isMethodDeclaration(p)) {
        obj.props.set(p.getName(), new Func(p, frame.scope, obj, p.getName()));
      } else fail(p, `${p.getKindName()} in object literals is not supported in model code`);
    }
    return obj;
  }

  /** `target = v` for a variable, a field, an array element or a destructuring pattern. */
  assignTo(target: Node, v: SVal, frame: Frame): void {
    if (N.isParenthesizedExpression(target) || N.isNonNullExpression(target) || N.isAsExpression(target)) {
      this.assignTo(target.getExpression(), v, frame);
      return;
    }
    if (N.isIdentifier(target)) {
      const name = target.getText();
      const b = frame.scope.find(name);
      if (!b) return fail(target, `cannot assign '${name}': only local variables (let) can be reassigned in model code`);
      if (!b.mutable) return fail(target, `cannot assign to the constant '${name}'`);
      b.value = v;
      return;
    }
    if (N.isArrayLiteralExpression(target)) {
      const items = this.destructurable(v, target);
      target.getElements().forEach((el, i) => this.assignTo(el, items[i], frame));
      return;
    }
    if (N.isPropertyAccessExpression(target) || N.isElementAccessExpression(target)) {
      const obj = this.eval(target.getExpression(), frame);
      const keyNode = N.isPropertyAccessExpression(target) ? undefined : target.getArgumentExpression();
      const key = keyNode ? this.eval(keyNode, frame) : (target as Node & { getName(): string }).getName();
      if (obj instanceof Module) {
        if (frame.mode === 'forward') {
          return fail(
            target,
            `${textOf(target)} = ... changes module state in forward, which a compiled graph cannot do: keep the value in a local variable (const ${typeof key === 'string' ? key : 'v'} = ...), or set the field in the constructor`,
          );
        }
        this.modules.setField(obj, String(key), v, target);
        return;
      }
      if (obj instanceof Value) {
        return fail(target, `assigning to ${textOf(target)} changes a tensor in place, which model code cannot do: build a new tensor (where, cat, pad) and rebind the variable`);
      }
      if (obj instanceof Obj) {
        obj.props.set(String(key), v);
        return;
      }
      if (Array.isArray(obj) && typeof key === 'number') {
        obj[key] = v;
        return;
      }
      return fail(target, `cannot assign to ${textOf(target)} (${describe(obj)}) in model code`);
    }
    fail(target, `${target.getKindName()} cannot be assigned to in model code`);
  }

  // ---- names ----

  lookup(name: string, node: Node, frame: Frame): SVal {
    const b = frame.scope.find(name);
    const v = b ? b.value : name === 'undefined' ? undefined : this.topLevel(frame.scope.file, name, node);
    // A tensor made while constructing (a top-level constant) is usable once registered as a buffer.
    return frame.mode === 'forward' && v instanceof Tensor ? this.paramValue(v, node) : v;
  }

  /** A top-level name of `file`: an import, a function, a class or a constant (evaluated once). */
  topLevel(file: ModelFile, name: string, node: Node): SVal {
    if (file.values.has(name)) return file.values.get(name);
    const d = file.top.get(name);
    if (!d) return this.global(name, node);
    let v: SVal;
    if (d.kind === 'function') v = new Func(d.decl, file.root, undefined, name);
    else if (d.kind === 'class') v = new ClassRef(d.decl, file);
    else if (d.kind === 'import') v = this.importValue(file, name, d.spec, d.imported, node);
    else {
      const frame: Frame = { scope: file.root.child(), self: undefined, mode: 'build' };
      const init = d.decl.getInitializer();
      this.lint(d.decl);
      this.bindPattern(d.decl.getNameNode(), init ? this.eval(init, frame) : undefined, frame, false);
      for (const n of boundNames(d.decl.getNameNode())) file.values.set(n, frame.scope.find(n)?.value);
      v = frame.scope.find(name)?.value;
    }
    file.values.set(name, v);
    return v;
  }

  private importValue(file: ModelFile, local: string, spec: string, imported: string, node: Node): SVal {
    const target = file.loader.resolveImport(file, spec, node);
    if (target.kind === 'foreign') {
      return fail(node, `'${local}' is imported from '${spec}': model code can only use kiln, and functions and classes of model files (relative imports of .ts files)`);
    }
    if (target.kind === 'kiln') {
      if (imported === '*') return new Lib(local, KILN, 'kiln');
      if (imported === 'default') return fail(node, `kiln has no default export: import { nn, F, ... } from 'kiln'`);
      return kilnExport(imported) ?? fail(node, `kiln has no export '${imported}'${suggestion(imported, Object.keys(KILN))}`);
    }
    if (imported === '*' || imported === 'default') return fail(node, `import the names of a model file (import { Block } from '${spec}'), not its ${imported === '*' ? 'namespace' : 'default export'}`);
    if (!target.file.top.has(imported)) return fail(node, `'${imported}' is not declared at the top level of ${target.file.display}`);
    return this.topLevel(target.file, imported, node);
  }

  private global(name: string, node: Node): SVal {
    if (Object.hasOwn(GLOBALS, name)) {
      const v = GLOBALS[name];
      return typeof v === 'number' ? v : new Lib(name, v, 'builtin');
    }
    if (name === 'console') return fail(node, 'console is not supported in model code: model code is compiled, not run; remove it');
    const parent = node.getParent();
    if (N.isNewExpression(parent) && parent.getExpression() === node) return fail(parent, newNotSupported(name));
    const isCall = N.isCallExpression(parent) && parent.getExpression() === node;
    return fail(
      node,
      isCall
        ? `call to unknown function ${name}(): model code can call kiln's functions, and functions declared in this file or imported from model files`
        : `unknown name '${name}': declare it, or import it from kiln or a model file`,
    );
  }

  // ---- calls ----

  /** Runs `body` with the call site as the location of the nodes it emits; library errors get that location. */
  private at<R>(site: Node, body: () => R): R {
    const saved = this.b.loc;
    this.b.loc = locOf(site);
    try {
      return body();
    } catch (e) {
      throw atNode(site, e);
    } finally {
      this.b.loc = saved;
    }
  }

  evalArgs(args: readonly Node[], frame: Frame): SVal[] {
    return args.flatMap((a) => (N.isSpreadElement(a) ? this.spread(a.getExpression(), frame) : [this.eval(a, frame)]));
  }

  private evalCall(e: CallExpression, frame: Frame): SVal {
    const callee = e.getExpression();
    if (callee.getKind() === SyntaxKind.SuperKeyword) return this.at(e, () => this.modules.superCall(this.evalArgs(e.getArguments(), frame), e, frame));
    if (N.isPropertyAccessExpression(callee)) {
      const site = callee.getNameNode();
      if (callee.getExpression().getKind() === SyntaxKind.SuperKeyword) {
        const args = this.evalArgs(e.getArguments(), frame);
        return this.at(site, () => this.modules.callSuperMethod(callee.getName(), args, site, frame));
      }
      const obj = this.eval(callee.getExpression(), frame);
      if (callee.hasQuestionDotToken()) {
        if (obj instanceof Value) return this.optionalChainOnTensor(callee);
        if (obj === null || obj === undefined) return undefined;
      }
      const args = this.evalArgs(e.getArguments(), frame);
      return this.at(site, () => this.callMethod(obj, callee.getName(), args, site, frame, textOf(callee.getExpression())));
    }
    const fn = this.eval(callee, frame);
    if (e.hasQuestionDotToken() && (fn === null || fn === undefined)) return undefined;
    const args = this.evalArgs(e.getArguments(), frame);
    return this.at(callee, () => this.callValue(fn, args, callee, frame, textOf(callee)));
  }

  /** Calls a callable value: a model-file function, something of kiln's, or a built-in. */
  callValue(fn: SVal, args: readonly SVal[], site: Node, frame: Frame, text: string): SVal {
    if (fn instanceof Func) return this.callFunction(fn, args, site, frame.mode);
    if (fn instanceof Lib) {
      if (fn.origin === 'builtin') return callBuiltin(fn, args, site, (f, xs) => this.callValue(f, xs, site, frame, 'callback'));
      if (isKilnModuleClass(fn.value)) return fail(site, `${fn.path} is a class: create it with new ${fn.path}(...) in the constructor`);
      if (frame.mode === 'forward') return callKilnForward(this.o, fn, args, site);
      if (typeof fn.value !== 'function') return fail(site, `${fn.path} is not a function`);
      return this.fromReal(Reflect.apply(fn.value, undefined, args.map((a) => this.toReal(a, site))), site, frame.mode);
    }
    if (fn instanceof ClassRef) return fail(site, `class ${fn.name} must be created with new ${fn.name}(...)`);
    if (fn instanceof Module) return fail(site, `modules are not callable in kiln: write ${text}.forward(...) or ${text}.call(...)`);
    return fail(site, `${text} is not a function (it is ${describe(fn)})`);
  }

  /** `obj.name(...args)`. */
  callMethod(obj: SVal, name: string, args: readonly SVal[], site: Node, frame: Frame, receiver: string): SVal {
    if (obj instanceof Value) return callTensorMethod(this.o, obj, name, args, site, receiver);
    if (obj instanceof Module) return this.modules.callMember(obj, name, args, site, frame, receiver);
    if (Array.isArray(obj)) return callArrayMethod(obj, name, args, site, receiver, (f, xs) => this.callValue(f, xs, site, frame, 'callback'));
    if (obj instanceof Obj) {
      const f = obj.props.get(name);
      if (f instanceof Func || f instanceof Lib) return this.callValue(f, args, site, frame, `${receiver}.${name}`);
      return fail(site, `${receiver}.${name} is not a function (it is ${describe(f)})`);
    }
    if (obj instanceof Lib) return this.callValue(this.libMember(obj, name, site), args, site, frame, `${receiver}.${name}`);
    if (obj instanceof Tensor) {
      const f: unknown = Reflect.get(obj, name);
      if (typeof f !== 'function') return fail(site, `${receiver}.${name} is not a tensor method`);
      return this.fromReal(Reflect.apply(f, obj, args.map((a) => this.toReal(a, site))), site, frame.mode);
    }
    if (typeof obj === 'string' || typeof obj === 'number' || typeof obj === 'boolean') return callPrimitiveMethod(obj, name, args, site, receiver);
    if (obj === null || obj === undefined) return fail(site, `cannot call ${receiver}.${name}(): ${receiver} is ${String(obj)}`);
    return fail(site, `${receiver}.${name}(...) is not supported in model code (${receiver} is ${describe(obj)})`);
  }

  private evalNew(e: NewExpression, frame: Frame): SVal {
    const ctor = this.eval(e.getExpression(), frame);
    const args = this.evalArgs(e.getArguments(), frame);
    const name = textOf(e.getExpression());
    return this.at(e, () => {
      const isModule = ctor instanceof ClassRef || (ctor instanceof Lib && isKilnModuleClass(ctor.value));
      if (isModule && frame.mode === 'forward') {
        return fail(e, `creating the module ${name} in forward is not supported: create submodules in the constructor (this.layer = new ${name}(...)) and call them in forward`);
      }
      if (ctor instanceof ClassRef) return this.modules.instantiate(ctor, args, e);
      if (ctor instanceof Lib && typeof ctor.value === 'function') {
        if (ctor.origin === 'builtin' && (ctor.value === Error || ctor.value.prototype instanceof Error)) {
          return new Obj(new Map<string, SVal>([['name', ctor.path], ['message', args[0] === undefined ? '' : this.stringOf(args[0], e)]]));
        }
        if (ctor.origin === 'kiln' && frame.mode === 'build') {
          return this.fromReal(Reflect.construct(ctor.value, args.map((a) => this.toReal(a, e))), e, frame.mode);
        }
      }
      return fail(e, newNotSupported(name));
    });
  }

  // ---- properties ----

  getProperty(obj: SVal, name: string, site: Node, frame: Frame, receiver: string): SVal {
    if (obj instanceof Value) return tensorProperty(obj, name, site, receiver);
    if (obj instanceof Module) return this.modules.getMember(obj, name, site, frame, receiver);
    if (Array.isArray(obj)) {
      if (name === 'length') return obj.length;
      return fail(site, `${receiver}.${name}: ${typeof Reflect.get([], name) === 'function' ? `${name} is a method: call it` : `arrays have no property '${name}'`}`);
    }
    if (obj instanceof Obj) {
      const v = obj.props.get(name);
      return v instanceof Tensor && frame.mode === 'forward' ? this.paramValue(v, site) : v;
    }
    if (obj instanceof Lib) return this.libMember(obj, name, site);
    if (typeof obj === 'string') {
      if (name === 'length') return obj.length;
      return fail(site, `${receiver}.${name}: strings have no property '${name}' in model code`);
    }
    if (obj instanceof Tensor) return this.fromReal(Reflect.get(obj, name), site, frame.mode);
    if (obj === null || obj === undefined) return fail(site, `cannot read ${receiver}.${name}: ${receiver} is ${String(obj)}`);
    if (obj instanceof ClassRef) return fail(site, `static class members (${receiver}.${name}) are not supported in model code: use a top-level const`);
    return fail(site, `${receiver}.${name} is not supported in model code (${receiver} is ${describe(obj)})`);
  }

  private getElement(obj: SVal, key: SVal, e: Node, frame: Frame): SVal {
    const receiver = N.isElementAccessExpression(e) ? textOf(e.getExpression()) : 'x';
    if (obj instanceof Value || key instanceof Value) {
      return fail(e, `indexing a tensor with [] is not supported in model code: use ${receiver}.narrow(dim, start, length), ${receiver}.slice(dim, start, end) or ${receiver}.indexSelect(dim, index)`);
    }
    if (Array.isArray(obj) || typeof obj === 'string') {
      if (typeof key === 'number') return obj[key];
      if (key === 'length') return obj.length;
      return fail(e, `${receiver}[${describe(key)}]: arrays are indexed by numbers`);
    }
    if (obj instanceof Obj) return obj.props.get(String(key));
    if (obj instanceof Module) {
      if (typeof key === 'number') return fail(e, `${receiver}[${key}]: kiln's containers are not indexed with []: use ${receiver}.at(${key})`);
      return this.modules.getMember(obj, String(key), e, frame, receiver);
    }
    if (obj instanceof Lib && typeof key === 'string') return this.libMember(obj, key, e);
    return fail(e, `cannot index ${describe(obj)} in model code`);
  }

  /** `lib.name`: a member of kiln or of a built-in, as a value. */
  private libMember(lib: Lib, name: string, site: Node): SVal {
    const holder = lib.value;
    const v: unknown = holder !== null && (typeof holder === 'object' || typeof holder === 'function') ? Reflect.get(holder, name) : undefined;
    if (v === undefined) {
      const keys = holder !== null && typeof holder === 'object' ? Object.keys(holder) : [];
      return fail(site, `${lib.path}.${name} does not exist${suggestion(name, keys)}`);
    }
    if (typeof v === 'function' || (typeof v === 'object' && v !== null)) return new Lib(`${lib.path}.${name}`, v, lib.origin);
    return this.fromReal(v, site, 'build');
  }

  // ---- between compile-time values and real objects (library code run while constructing) ----

  /** The graph value of a parameter or buffer of the model. */
  paramValue(t: Tensor, site: Node): Value {
    const parent = site.getParent();
    const what = N.isPropertyAccessExpression(parent) && parent.getNameNode() === site ? parent : site;
    return (
      this.params.get(t) ??
      fail(
        site,
        `${textOf(what)} is a tensor that is neither a parameter nor a buffer of the model (${t.type.dtype}[${t.shape.join(',')}]): register it in the constructor (this.registerBuffer('name', t) or this.registerParameter('name', t)) so that it becomes a graph input`,
      )
    );
  }

  /** A value from library code (a layer's field, a factory's result) as a compile-time value. */
  fromReal(v: unknown, site: Node, mode: Mode): SVal {
    if (v instanceof Tensor) return mode === 'forward' ? this.paramValue(v, site) : v;
    if (v === null || v === undefined || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
    if (Array.isArray(v)) return v.map((x) => this.fromReal(x, site, mode));
    if (v instanceof Module || v instanceof Value || v instanceof Obj || v instanceof Func || v instanceof ClassRef || v instanceof Lib) return v;
    if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      return new Obj(new Map(Object.entries(v).map(([k, x]) => [k, this.fromReal(x, site, mode)])));
    }
    return new Lib(typeof v === 'function' ? v.name || 'function' : (v.constructor?.name ?? 'object'), v, 'kiln');
  }

  /** A compile-time value passed to library code (constructors, factories, nn.init). */
  toReal(v: SVal, site: Node): unknown {
    if (v instanceof Value) return fail(site, `a tensor computed in model code cannot be passed to library code here (${describe(v)})`);
    if (v instanceof Func || v instanceof ClassRef) return fail(site, `${describe(v)} cannot be passed to library code: library code cannot call back into model code`);
    if (v instanceof Lib) return v.value;
    if (Array.isArray(v)) return v.map((x) => this.toReal(x, site));
    if (v instanceof Obj) return Object.fromEntries([...v.props].map(([k, x]) => [k, this.toReal(x, site)]));
    return v;
  }
}

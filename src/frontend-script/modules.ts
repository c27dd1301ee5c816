/**
 * Model classes at compile time. `new Net(...)` in a model file creates a stand-in: a real
 * `nn.Module` named `Net` whose fields are set by interpreting Net's constructor and field
 * initializers, with the real kiln layers (`new nn.Linear(64, 128)`) in them. So parameter
 * names, registration order and initialization are exactly the library's, and forward code
 * reads layer settings (`conv.stride`) from the layers themselves.
 */
import type { ClassDeclaration, GetAccessorDeclaration, MethodDeclaration, Node } from 'ts-morph';
import { Node as N } from 'ts-morph';
import { Value } from '../ir/graph.js';
import { nn } from '../stdlib-nn/index.js';
import { Module } from '../stdlib-nn/module.js';
import { fail } from './diagnostics.js';
import type { Frame, Interpreter } from './interpreter.js';
import { isKilnModuleClass, type LayerCtx, layerRule, SUPPORTED_LAYERS } from './library.js';
import { ClassRef, describe, Func, Lib, type SVal } from './values.js';

/** Module methods forward code may call: they only read the module tree. */
const READ_ONLY = new Set(['at', 'children', 'modules', 'parameters', 'buffers', 'namedChildren', 'namedParameters', 'namedBuffers', 'namedModules']);

type Member = { member: MethodDeclaration | GetAccessorDeclaration; cls: ClassRef };

export class Modules {
  /** The model class each stand-in was made from. */
  private readonly classes = new WeakMap<Module, ClassRef>();
  private readonly standIns = new Map<ClassDeclaration, new () => Module>();
  private readonly parents = new Map<ClassDeclaration, ClassRef | Lib | undefined>();

  constructor(private readonly it: Interpreter) {}

  /** What `cls` extends: another model class, something of kiln's, or nothing. */
  parentOf(cls: ClassRef): ClassRef | Lib | undefined {
    if (this.parents.has(cls.decl)) return this.parents.get(cls.decl);
    const h = cls.decl.getExtends();
    let p: ClassRef | Lib | undefined;
    if (h) {
      const v = this.it.eval(h.getExpression(), { scope: cls.file.root, self: undefined, mode: 'build' });
      if (!(v instanceof ClassRef) && !(v instanceof Lib)) return fail(h, `${cls.name} extends ${describe(v)}: model classes extend nn.Module`);
      p = v;
    }
    this.parents.set(cls.decl, p);
    return p;
  }

  /** Whether `cls` extends nn.Module, directly or through classes of model files. */
  isModuleClass(cls: ClassRef): boolean {
    const p = this.parentOf(cls);
    if (p === undefined) return false;
    if (p instanceof ClassRef) return this.isModuleClass(p);
    if (p.value === Module) return true;
    if (isKilnModuleClass(p.value)) {
      return fail(
        cls.decl.getExtends()!,
        `extending the library layer ${p.path} is not supported in model code: extend nn.Module and hold the layer in a field (this.inner = new ${p.path}(...))`,
      );
    }
    return false;
  }

  /** `new Cls(...args)` while constructing: a stand-in module with Cls's fields. */
  instantiate(cls: ClassRef, args: readonly SVal[], site: Node): Module {
    if (!this.isModuleClass(cls)) {
      return fail(site, `${cls.name} does not extend nn.Module: model code can create Module subclasses and kiln layers; use object literals for plain data`);
    }
    const self = new (this.standInClass(cls))();
    this.classes.set(self, cls);
    this.construct(cls, self, args, site);
    return self;
  }

  /** A subclass of Module named like the model class, so that messages and reprs name it. */
  private standInClass(cls: ClassRef): new () => Module {
    let C = this.standIns.get(cls.decl);
    if (!C) {
      const name = cls.name;
      C = { [name]: class extends Module {} }[name]!;
      this.standIns.set(cls.decl, C);
    }
    return C;
  }

  /** Runs `cls`'s constructor on `self`; `super(...)` runs the parent's, then the fields initialize. */
  private construct(cls: ClassRef, self: Module, args: readonly SVal[], site: Node): void {
    const ctor = cls.decl.getConstructors().find((c) => c.hasBody());
    const parent = this.parentOf(cls);
    if (!ctor) {
      if (parent instanceof ClassRef) this.construct(parent, self, args, site);
      this.initFields(cls, self);
      return;
    }
    this.it.lint(ctor);
    const frame: Frame = {
      scope: cls.file.root.child(),
      self,
      mode: 'build',
      home: cls,
      ctor: {
        cls,
        called: false,
        afterSuper: () => {
          this.initFields(cls, self);
          for (const p of ctor.getParameters()) {
            if (p.isParameterProperty()) Reflect.set(self, p.getName(), frame.scope.find(p.getName())?.value);
          }
        },
      },
    };
    this.it.bindParameters(ctor.getParameters(), args, frame, cls.name);
    const body = ctor.getBody();
    if (body && N.isBlock(body)) this.it.execStatements(body.getStatements(), frame);
    if (!frame.ctor!.called) frame.ctor!.afterSuper();
  }

  /** Field initializers in declaration order (a field without one is defined as undefined, as in JS). */
  private initFields(cls: ClassRef, self: Module): void {
    const frame: Frame = { scope: cls.file.root.child(), self, mode: 'build', home: cls };
    for (const m of cls.decl.getProperties()) {
      if (m.isStatic() || m.hasDeclareKeyword() || m.isAbstract()) continue;
      const nameNode = m.getNameNode();
      if (N.isPrivateIdentifier(nameNode)) fail(nameNode, `private #fields are not supported in model code: use a regular field (private ${nameNode.getText().slice(1)} = ...)`);
      if (N.isComputedPropertyName(nameNode)) fail(nameNode, 'computed field names are not supported in model code');
      const init = m.getInitializer();
      if (init) {
        this.it.lint(m);
        Reflect.set(self, m.getName(), this.it.eval(init, frame));
      } else if (!Object.hasOwn(self, m.getName())) Reflect.set(self, m.getName(), undefined);
    }
  }

  /** `super(...)` inside a constructor. */
  superCall(args: readonly SVal[], site: Node, frame: Frame): SVal {
    const st = frame.ctor;
    if (!st) return fail(site, 'super(...) can only be called in a constructor');
    const p = this.parentOf(st.cls);
    if (p instanceof ClassRef) this.construct(p, frame.self as Module, args, site);
    st.called = true;
    st.afterSuper();
    return undefined;
  }

  /** `super.name(...)` inside a method. */
  callSuperMethod(name: string, args: readonly SVal[], site: Node, frame: Frame): SVal {
    const p = frame.home ? this.parentOf(frame.home) : undefined;
    const found = p instanceof ClassRef ? this.member(p, name) : undefined;
    if (!found || !N.isMethodDeclaration(found.member)) {
      return fail(site, `super.${name}() is not supported here: only methods of model classes can be called through super`);
    }
    return this.it.callFunction(this.bind(found, frame.self, name), args, site, frame.mode);
  }

  private bind(found: Member, self: SVal, name: string): Func {
    return new Func(found.member, found.cls.file.root, self, `${found.cls.name}.${name}`, found.cls);
  }

  /** A method or getter of `cls` or its model-class parents. */
  member(cls: ClassRef, name: string): Member | undefined {
    for (let c: ClassRef | undefined = cls; c; ) {
      for (const m of c.decl.getMembers()) {
        if ((N.isMethodDeclaration(m) || N.isGetAccessorDeclaration(m)) && !m.isStatic() && m.getName() === name && m.hasBody()) return { member: m, cls: c };
      }
      const p = this.parentOf(c);
      c = p instanceof ClassRef ? p : undefined;
    }
    return undefined;
  }

  /** `this.x = v` while constructing. */
  setField(m: Module, name: string, v: SVal, site: Node): void {
    if (!this.classes.has(m)) fail(site, `setting fields of the library layer ${m.moduleName()} is not supported in model code: pass settings to its constructor`);
    Reflect.set(m, name, v);
  }

  /** `m.name`: a getter or method of the model class, a field, or a library layer's property. */
  getMember(m: Module, name: string, site: Node, frame: Frame, receiver: string): SVal {
    if (name === 'training') return frame.mode === 'forward' ? this.it.training : m.training;
    const cls = this.classes.get(m);
    if (cls) {
      const found = this.member(cls, name);
      if (found && N.isGetAccessorDeclaration(found.member)) return this.it.callFunction(this.bind(found, m, name), [], site, frame.mode);
      if (found) return this.bind(found, m, name);
      if (Object.hasOwn(m, name)) {
        const v: unknown = Reflect.get(m, name);
        // NOTE: while constructing, arrays stay shared so that this.sizes.push(...) changes the field
        return frame.mode === 'build' && Array.isArray(v) ? (v as SVal[]) : this.it.fromReal(v, site, frame.mode);
      }
    }
    const v: unknown = Reflect.get(m, name);
    if (typeof v === 'function') return fail(site, `${receiver}.${name} is a method of ${m.moduleName()}: call it (${receiver}.${name}(...))`);
    if (v === undefined && !(name in m)) {
      return fail(site, `${receiver}.${name} is not defined on ${m.moduleName()}${cls ? ': declare it as a field, or assign it in the constructor' : ''}`);
    }
    return this.it.fromReal(v, site, frame.mode);
  }

  /** `m.name(...args)`: forward/call, a method of the model class, or a Module method. */
  callMember(m: Module, name: string, args: readonly SVal[], site: Node, frame: Frame, receiver: string): SVal {
    if (name === 'forward' || name === 'call') return this.callModule(m, args, site, frame, receiver);
    const cls = this.classes.get(m);
    if (cls) {
      const found = this.member(cls, name);
      if (found && N.isMethodDeclaration(found.member)) return this.it.callFunction(this.bind(found, m, name), args, site, frame.mode);
      if (Object.hasOwn(m, name)) return this.it.callValue(this.getMember(m, name, site, frame, receiver), args, site, frame, `${receiver}.${name}`);
    }
    const f: unknown = Reflect.get(m, name);
    if (typeof f !== 'function') return fail(site, `${receiver}.${name}() is not a method of ${m.moduleName()}`);
    if (frame.mode === 'forward' && !READ_ONLY.has(name)) {
      return fail(site, `${receiver}.${name}() changes the module, which forward code cannot do: call it in the constructor`);
    }
    return this.it.fromReal(Reflect.apply(f, m, args.map((a) => this.it.toReal(a, site))), site, frame.mode);
  }

  /** Runs a module's forward on `args`: a model class inline, a library layer by its lowering. */
  callModule(m: Module, args: readonly SVal[], site: Node, frame: Frame, receiver = m.moduleName()): SVal {
    if (frame.mode === 'build') {
      return fail(site, `running ${receiver} while constructing is not supported: create layers in the constructor and call them in forward`);
    }
    const cls = this.classes.get(m);
    if (cls) {
      const found = this.member(cls, 'forward');
      if (!found || !N.isMethodDeclaration(found.member)) return fail(site, `${cls.name} has no forward method`);
      return this.it.callFunction(this.bind(found, m, 'forward'), args, site, 'forward');
    }
    if (m instanceof nn.Sequential) {
      let x: SVal[] = [...args];
      for (const child of m) x = [this.callModule(child, x, site, frame)];
      return x[0];
    }
    if (m instanceof nn.ModuleList) {
      return fail(site, `ModuleList has no forward: iterate over it in forward (for (const layer of ${receiver}) x = layer.forward(x))`);
    }
    const r = layerRule(m);
    if (!r) return fail(site, `${m.moduleName()} is not supported in compiled model code (supported layers: ${SUPPORTED_LAYERS.join(', ')})`);
    const xs = args.filter((a): a is Value => a instanceof Value);
    if (args.length !== r.rule.arity || xs.length !== args.length) {
      return fail(site, `${r.name}.forward takes ${r.rule.arity} tensor argument${r.rule.arity === 1 ? '' : 's'}, got ${args.map(describe).join(', ') || 'none'}`);
    }
    const ctx: LayerCtx = {
      o: this.it.o,
      training: this.it.training,
      p: (t) => (t === null ? null : this.it.paramValue(t, site)),
      fail: (message) => fail(site, message),
    };
    return r.rule.lower(ctx, m, xs);
  }
}

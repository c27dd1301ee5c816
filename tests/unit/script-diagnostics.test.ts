/**
 * Every unsupported construct of model code is a diagnostic with the exact `file:line:col`,
 * the construct, and what to write instead: one test per kind, checking message and location.
 */
import { describe, expect, it } from 'vitest';
import { compileModelSource, type CompileOptions, parseInputSpec, ScriptCompileError } from '../../src/frontend-script/index.js';

const HEAD = `import { nn, F, ones, randn, tensor, type Tensor } from 'kiln';\n`;

/** A model file whose forward is `body` (x: f32[2,4]); `members` go into the class, `extra` before it. */
function net(body: string, members = '', extra = ''): string {
  return `${HEAD}${extra}
export class Net extends nn.Module {
  fc = new nn.Linear(4, 4);${members}
  override forward(x: Tensor): Tensor {
${body}
  }
}
`;
}

/** `model.ts:line:col` of the `nth` occurrence of `needle` in `src`. */
function locOf(src: string, needle: string, nth = 0): string {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = src.indexOf(needle, at + 1);
  if (at < 0) throw new Error(`'${needle}' does not occur in the source`);
  const lines = src.slice(0, at).split('\n');
  return `model.ts:${lines.length}:${lines.at(-1)!.length + 1}`;
}

interface Case {
  /** The construct. */
  kind: string;
  src: string;
  /** Where the diagnostic points: the first (or nth) occurrence of this text. */
  at: string;
  nth?: number;
  /** The message, or its beginning. */
  message: string;
  opts?: Partial<CompileOptions>;
}

const cases: Case[] = [
  {
    kind: 'while loop',
    src: net('    while (x.ndim < 3) x = x.unsqueeze(0);\n    return x;'),
    at: 'while',
    message: 'while loops are not supported in model code: use a for loop with compile-time bounds (for (let i = 0; i < 4; i++))',
  },
  {
    kind: 'do-while loop',
    src: net('    do { x = x.relu(); } while (x.ndim > 5);\n    return x;'),
    at: 'do {',
    message: 'do-while loops are not supported in model code: use a for loop with compile-time bounds',
  },
  {
    kind: 'for loop with a data-dependent bound',
    src: net('    for (let i = 0; x.sum().gt(i); i++) x = x.relu();\n    return x;'),
    at: 'x.sum().gt(i)',
    message: 'for loop condition depends on a tensor value (a data-dependent bound): loops are unrolled at compile time, so bounds must be compile-time numbers such as x.shape[0] or a hyperparameter',
  },
  {
    kind: 'for loop that does not finish at compile time',
    src: net('    let n = 0;\n    for (let i = 0; i >= 0; i++) n += 1;\n    return x.mul(n);'),
    at: 'for (',
    message: 'for loop runs more than 10000 iterations at compile time: loops are unrolled into the graph, so bounds must be small compile-time numbers',
  },
  {
    kind: 'for-of over a tensor',
    src: net('    const rows: Tensor[] = [];\n    for (const row of x as unknown as Tensor[]) rows.push(row);\n    return x;'),
    at: 'x as unknown as Tensor[]',
    message: 'for-of over a tensor iterates its values at run time, which model code cannot do: loop over indices with compile-time bounds (for (let i = 0; i < x.shape[0]; i++)) and take slices (x.narrow(0, i, 1))',
  },
  {
    kind: 'for-in loop',
    src: net('    for (const k in this) x = x.relu();\n    return x;'),
    at: 'for (const k',
    message: 'for-in loops are not supported in model code: iterate an array with for-of, or use Object.keys(obj) / a counted for loop',
  },
  {
    kind: 'if on a tensor value',
    src: net('    if (x.sum().gt(0)) return x;\n    return x.neg();'),
    at: 'x.sum().gt(0)',
    message: 'if on a tensor value (data-dependent control flow) is not supported: the branch would depend on values known only at run time; compute both sides and select with where(cond, a, b)',
  },
  {
    kind: 'conditional expression on a tensor value',
    src: net('    return x.max().gt(1) ? x : x.neg();'),
    at: 'x.max().gt(1)',
    message: 'a conditional expression (?:) on a tensor value is data-dependent control flow: select elementwise with where(cond, a, b)',
  },
  {
    kind: 'logical operator on tensors',
    src: net('    const both = x.gt(0) && x.lt(1);\n    return x.where(both, 0);'),
    at: '&&',
    message: '&& on a tensor is data-dependent: use logicalAnd(a, b) for elementwise logic, or test compile-time values',
  },
  {
    kind: 'reading values (.item())',
    src: net('    const s = x.sum().item();\n    return x.mul(s as number);'),
    at: 'item()',
    message: "x.sum().item() reads the tensor's values, which do not exist when the model is compiled: keep the computation in tensor ops",
  },
  {
    kind: 'reading values (.toArray())',
    src: net('    const rows = x.toArray();\n    return x;'),
    at: 'toArray',
    message: "x.toArray() reads the tensor's values, which do not exist when the model is compiled",
  },
  {
    kind: 'console.log',
    src: net('    console.log(x.shape);\n    return x;'),
    at: 'console',
    message: 'console.log is not supported in model code: model code is compiled, not run, so it would print nothing at run time; remove it',
  },
  {
    kind: 'try/catch',
    src: net('    try {\n      return x.relu();\n    } catch {\n      return x;\n    }'),
    at: 'try',
    message: 'try/catch is not supported in model code: a failing op is a compile error, so there is nothing to catch at run time; remove the try block',
  },
  {
    kind: 'throw reached at compile time',
    src: net("    if (x.shape[1] !== 5) throw new Error('expected 5 features');\n    return x;"),
    at: 'throw',
    message: 'the model code threw at compile time: Error: expected 5 features (throw is only allowed as a compile-time check on shapes and hyperparameters)',
  },
  {
    kind: 'async function and await',
    src: net('    return x;', '', 'async function load(t: Tensor): Promise<Tensor> {\n  return await t;\n}\n').replace('    return x;', '    void load(x);\n    return x;'),
    at: 'async function',
    message: 'async functions are not supported in model code: model code is synchronous; remove async (and await)',
  },
  {
    kind: 'generator function and yield',
    src: net('    for (const k of sizes()) x = x.mul(k);\n    return x;', '', 'function* sizes() {\n  yield 1;\n}\n'),
    at: 'function*',
    message: 'generator functions are not supported in model code: return a tensor or an array of tensors instead of yielding',
  },
  {
    kind: 'switch',
    src: net('    switch (x.ndim) {\n      case 2:\n        return x;\n      default:\n        return x.flatten(1);\n    }'),
    at: 'switch',
    message: 'switch statements are not supported in model code: use if / else if on compile-time values',
  },
  {
    kind: 'recursion',
    src: net('    return deep(x, 3);', '', 'function deep(t: Tensor, n: number): Tensor {\n  return n === 0 ? t : deep(t.relu(), n - 1);\n}\n'),
    at: 'deep(t.relu()',
    message: 'recursive call to deep() is not supported in model code: calls are inlined at compile time; write the repetition as a for loop with compile-time bounds',
  },
  {
    kind: 'in-place tensor op',
    src: net('    x.add_(1);\n    return x;'),
    at: 'add_',
    message: 'in-place op x.add_() is not supported in model code: write the out-of-place form and rebind (x = x.add(...))',
  },
  {
    kind: 'mutation of module state in forward',
    src: net('    this.last = x;\n    return x;', '\n  last: Tensor | null = null;'),
    at: 'this.last =',
    message: 'this.last = ... changes module state in forward, which a compiled graph cannot do: keep the value in a local variable (const last = ...), or set the field in the constructor',
  },
  {
    kind: 'creating a layer in forward',
    src: net('    const head = new nn.Linear(4, 2);\n    return head.forward(x);'),
    at: 'new nn.Linear(4, 2)',
    message: 'creating the module nn.Linear in forward is not supported: create submodules in the constructor (this.layer = new nn.Linear(...)) and call them in forward',
  },
  {
    kind: 'new of a non-layer class',
    src: net('    const seen = new Map<string, Tensor>();\n    return x;'),
    at: 'new Map',
    message: 'new Map(...) is not supported in model code: model code can create kiln layers and Module subclasses of model files (in the constructor), and tensors with zeros, ones, full or tensor of literal numbers; use arrays and object literals for plain data',
  },
  {
    kind: 'call to an unknown function',
    src: net('    return softmaxx(x);'),
    at: 'softmaxx',
    message: 'call to unknown function softmaxx(): model code can call kiln\'s functions, and functions declared in this file or imported from model files',
  },
  {
    kind: 'unknown tensor method',
    src: net('    return x.log_softmax(-1);'),
    at: 'log_softmax',
    message: "unknown tensor method x.log_softmax() (did you mean 'logSoftmax'?)",
  },
  {
    kind: 'function from another package',
    src: `import { readFileSync } from 'node:fs';\n${net("    const w = readFileSync('w.bin');\n    return x;")}`,
    at: 'readFileSync(',
    message: "'readFileSync' is imported from 'node:fs': model code can only use kiln, and functions and classes of model files (relative imports of .ts files)",
  },
  {
    kind: 'kiln function that is not model code',
    src: net('    return x.add(randn([2, 4]));'),
    at: 'randn',
    nth: 1,
    message: 'randn(...): random tensors are not supported in model code (a compiled graph has no random source): pass the noise in as a model input',
  },
  {
    kind: 'arithmetic operator on tensors',
    src: net('    const y = this.fc.forward(x);\n    return (x as unknown as number) + (y as unknown as number) as unknown as Tensor;'),
    at: '+ (y',
    message: 'operator + on tensors is not supported (JavaScript has no operator overloading): write (x as unknown as number).add((y as unknown as number))',
  },
  {
    kind: 'compound assignment on a tensor',
    src: net('    let h = x as unknown as number;\n    h *= 2;\n    return h as unknown as Tensor;'),
    at: '*=',
    message: 'operator *= on tensors is not supported (JavaScript has no operator overloading): write h = h.mul(2)',
  },
  {
    kind: 'string operation on a tensor',
    src: net('    const label = `x = ${x}`;\n    return x;'),
    at: 'x}',
    message: "string operations on tensors are not supported: a tensor's values are not known when compiling; use its shape or dtype (${x.shape}, ${x.dtype})",
  },
  {
    kind: 'spread of a tensor',
    src: net('    const parts = [...(x as unknown as number[])];\n    return x;'),
    at: '(x as unknown',
    message: 'spreading a tensor (...(x as unknown as number[])) iterates its values at run time: pass the tensor itself, or spread its shape',
  },
  {
    kind: 'optional chaining on a tensor',
    src: net('    return x?.relu();'),
    at: 'x?.relu',
    message: 'optional chaining (?.) on a tensor is not supported: a tensor in compiled code is never null or undefined, so write x.relu',
  },
  {
    kind: "cast to 'any'",
    src: net('    return (x as any).relu();'),
    at: 'x as any',
    message: "casts to 'any' are not supported in model code: they hide what a value is; use the tensor, layer or number type (x as Tensor)",
  },
  {
    kind: 'delete',
    src: net('    const cfg: { p?: number } = { p: 1 };\n    delete cfg.p;\n    return x;'),
    at: 'delete',
    message: 'delete is not supported in model code: build a new object or array instead of removing properties',
  },
  {
    kind: 'tensor() from run-time data',
    src: net('    return tensor([x.sum(), 1] as unknown as number[]);'),
    at: 'tensor([',
    message: 'tensor: in model code tensor() takes literal numbers (compile-time values), got a tensor f32[]: to combine tensors use stack([...]) or cat([...]); run-time data must come in as a model input',
  },
  {
    kind: 'Math on a tensor',
    src: net('    const s = Math.sqrt(x as unknown as number);\n    return x;'),
    at: 'sqrt(',
    message: 'Math.sqrt works on compile-time numbers, but got a tensor f32[2,4] (its values are not known when compiling): use the tensor op (x.sqrt(...))',
  },
  {
    kind: 'indexing a tensor with []',
    src: net('    return (x as unknown as Tensor[])[0]!;'),
    at: '(x as unknown as Tensor[])[0]',
    message: 'indexing a tensor with [] is not supported in model code: use (x as unknown as Tensor[]).narrow(dim, start, length)',
  },
  {
    kind: 'indexing a ModuleList with []',
    src: net('    return (this.layers as unknown as nn.Linear[])[0]!.forward(x);', '\n  layers = new nn.ModuleList([new nn.Linear(4, 4)]);'),
    at: '(this.layers as unknown as nn.Linear[])[0]',
    message: "(this.layers as unknown as nn.Linear[])[0]: kiln's containers are not indexed with []: use (this.layers as unknown as nn.Linear[]).at(0)",
  },
  {
    kind: 'Dropout in training mode',
    src: net('    return this.drop.forward(x);', '\n  drop = new nn.Dropout(0.25);'),
    at: 'forward(x);',
    nth: 0,
    message: 'Dropout(p=0.25) in training mode needs random numbers, which a compiled model graph does not have: compile in eval mode (training: false), where dropout is the identity',
    opts: { training: true },
  },
  {
    kind: 'unregistered tensor field',
    src: net('    return x.mul(this.mask);', '\n  mask = ones([2, 4]);'),
    at: 'mask);',
    message: "this.mask is a tensor that is neither a parameter nor a buffer of the model (f32[2,4]): register it in the constructor (this.registerBuffer('name', t) or this.registerParameter('name', t)) so that it becomes a graph input",
  },
  {
    kind: 'unregistered top-level tensor',
    src: net('    return x.mul(MASK);', '', 'const MASK = ones([2, 4]).tril();\n'),
    at: 'MASK);',
    message: "MASK is a tensor that is neither a parameter nor a buffer of the model (f32[2,4]): register it in the constructor",
  },
  {
    kind: 'var declaration',
    src: net('    var y = x.relu();\n    return y;'),
    at: 'var y',
    message: 'var declarations are not supported in model code: use const or let',
  },
  {
    kind: 'detach',
    src: net('    return x.detach();'),
    at: 'detach',
    message: "x.detach() stops gradients, which a compiled forward graph cannot express: remove it, or detach the model's output outside the model",
  },
  {
    kind: 'destructuring a tensor',
    src: net('    const [a, b] = x as unknown as Tensor[];\n    return a!;'),
    at: '[a, b]',
    message: 'destructuring a tensor (const [a, b] = x) iterates its values at run time: destructure its shape (const [n, c] = x.shape) or take slices (x.narrow(0, i, 1))',
  },
  {
    kind: 'constructor parameter without a value',
    src: net('    return this.fc.forward(x);', '\n  constructor(readonly hidden: number) {\n    super();\n  }'),
    at: 'readonly hidden',
    message: "constructor parameter 'hidden' of Net has no value: give it a default (hidden = ...), or pass it (new Net(...), or the 'args' compile option for the model class)",
  },
  {
    kind: 'forward returning a non-tensor',
    src: net('    return x.shape[0] as unknown as Tensor;'),
    at: 'forward(x: Tensor)',
    message: 'Net.forward must return a tensor or an array of tensors, got the number 2',
  },
  {
    kind: 'subclassing a library layer',
    src: `${HEAD}export class Wide extends nn.Linear {\n  constructor() {\n    super(4, 8);\n  }\n}\n`,
    at: 'nn.Linear',
    message: 'extending the library layer nn.Linear is not supported in model code: extend nn.Module and hold the layer in a field (this.inner = new nn.Linear(...))',
  },
  {
    kind: 'instanceof',
    src: net('    if (x instanceof Array) return x;\n    return x.relu();'),
    at: 'x instanceof',
    message: 'instanceof is not supported in model code: test compile-time values (shapes, hyperparameters) instead',
  },
  {
    kind: 'running a layer in the constructor',
    src: net('    return x;', '\n  probe = this.fc.forward(ones([1, 4]));'),
    at: 'forward(ones',
    message: 'running this.fc while constructing is not supported: create layers in the constructor and call them in forward',
  },
  {
    kind: 'calling a module like a function',
    src: net('    const fc = this.fc as unknown as (t: Tensor) => Tensor;\n    return fc(x);'),
    at: 'fc(x)',
    message: 'modules are not callable in kiln: write fc.forward(...) or fc.call(...)',
  },
  {
    kind: 'syntax error',
    src: net('    return x.relu(;'),
    at: ';',
    nth: 2,
    message: "syntax error: ')' expected.",
  },
];

describe('script compiler diagnostics', () => {
  it(`covers at least 20 kinds of unsupported constructs (${cases.length})`, () => {
    expect(new Set(cases.map((c) => c.kind)).size).toBeGreaterThanOrEqual(20);
  });

  for (const c of cases) {
    it(`${c.kind}: message and file:line:col`, () => {
      let error: unknown;
      try {
        compileModelSource(c.src, 'model.ts', { inputs: [parseInputSpec('x:f32[2,4]')], ...c.opts });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ScriptCompileError);
      const e = error as ScriptCompileError;
      const loc = locOf(c.src, c.at, c.nth);
      expect(`${e.loc}: ${e.message.slice(e.loc!.length + 2, e.loc!.length + 2 + c.message.length)}`).toBe(`${loc}: ${c.message}`);
      expect(e.message.startsWith(`${loc}: ${c.message}`)).toBe(true);
    });
  }
});

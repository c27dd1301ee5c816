/**
 * `kiln repl`: Node's REPL with kiln in scope, tensors printed as PyTorch prints them, and
 * `.ir <expr>` (or `ir(t)`) to see the graph a lazy tensor would run.
 */
import type { Command } from 'commander';
import { homedir } from 'node:os';
import { join } from 'node:path';
import repl from 'node:repl';
import { inspect } from 'node:util';
import * as kiln from '../src/index.js';
import { formatError } from './errors.js';
import { pendingIr } from './pending-ir.js';
import { kilnVersion } from './version.js';

/** What `ir(t)` returns: prints as the IR text in the REPL, `String(ir(t))` is the text. */
class IrText {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
  [inspect.custom](): string {
    return this.text.trimEnd();
  }
}

export function registerRepl(program: Command): void {
  program
    .command('repl')
    .description('an interactive session with kiln preloaded (all of its exports in scope, and `kiln`)')
    .addHelpText(
      'after',
      `
Example:
  $ kiln repl
  > const x = tensor([[1, 2], [3, 4]], { requiresGrad: true })
  > x.mul(x).sum()
  tensor(30., grad_fn=<SumBackward>)
  > .ir x.matmul(x).relu()        // the IR that computing it would run
  > ir(x.exp())                   // the same, as a function

Every export of kiln is in scope (tensor, nn, optim, data, F, ...) and so is
\`kiln\` itself; names that would hide a JavaScript global (Function) are only on
\`kiln\` (kiln.Function). \`ir\` is both the function above and kiln's ir namespace
(ir.printGraph, ir.parseGraph, ...). \`.help\` lists the REPL commands.`,
    )
    .action(() => startRepl());
}

/** Starts the REPL on stdin/stdout; resolves when it exits. */
export function startRepl(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Promise<void> {
  const terminal = Boolean((input as { isTTY?: boolean }).isTTY);
  const useColors = terminal && Boolean((output as { isTTY?: boolean }).isTTY);
  if (terminal) output.write(`kiln ${kilnVersion()} REPL (node ${process.version}). All of kiln is in scope; .ir <expr> shows a tensor's pending IR; .help for more.\n`);
  const server = repl.start({
    prompt: 'kiln> ',
    input,
    output,
    terminal,
    useColors,
    ignoreUndefined: true,
    writer: (v: unknown) => (v instanceof kiln.Tensor ? v.toString() : inspect(v, { colors: useColors, depth: 4 })),
  });
  const ctx = server.context as Record<string, unknown>;
  for (const [name, value] of Object.entries(kiln)) {
    // NOTE: kiln's autograd `Function` must not replace the global Function in user code.
    // (a vm context's builtins are not properties of its context object: ask the global).
    if (!(name in globalThis) && !(name in ctx)) ctx[name] = value;
  }
  ctx.kiln = kiln;
  // `ir(t)` shows a tensor's pending IR; it keeps the members of kiln's `ir` namespace
  // (ir.printGraph, ir.parseGraph, ...), which it replaces in scope.
  ctx.ir = Object.assign((t: unknown): IrText => new IrText(pendingIr(t)), kiln.ir);
  server.defineCommand('ir', {
    help: "Show the IR that computing a tensor would run: .ir <expression>",
    action(expr: string) {
      server.clearBufferedCommand();
      if (!expr.trim()) {
        output.write('usage: .ir <expression>, e.g. .ir x.matmul(w).relu()\n');
        server.displayPrompt();
        return;
      }
      server.eval(expr, server.context, 'repl', (err, value) => {
        try {
          if (err) throw err;
          output.write(pendingIr(value));
        } catch (e) {
          output.write(`${formatError('repl', e)}\n`);
        }
        server.displayPrompt();
      });
    },
  });
  if (terminal) {
    const history = process.env.KILN_REPL_HISTORY ?? join(homedir(), '.kiln_repl_history');
    server.setupHistory(history, () => {});
  }
  return new Promise((resolve) => server.on('exit', () => resolve()));
}

/**
 * Syntax that model code never supports, found before a function runs so that one
 * compilation reports all of it (the checks that need values happen while interpreting).
 */
import { type Node, Node as N, SyntaxKind } from 'ts-morph';
import { type Diagnostic, diagnostic } from './diagnostics.js';
import { declarationKind } from './source.js';

const LOOP_HINT = 'use a for loop with compile-time bounds (for (let i = 0; i < 4; i++))';

/** Statement and expression kinds rejected wherever they appear, with what to write instead. */
const REJECTED: Partial<Record<SyntaxKind, string>> = {
  [SyntaxKind.WhileStatement]: `while loops are not supported in model code: ${LOOP_HINT}`,
  [SyntaxKind.DoStatement]: `do-while loops are not supported in model code: ${LOOP_HINT}`,
  [SyntaxKind.ForInStatement]: 'for-in loops are not supported in model code: iterate an array with for-of, or use Object.keys(obj) / a counted for loop',
  [SyntaxKind.TryStatement]:
    'try/catch is not supported in model code: a failing op is a compile error, so there is nothing to catch at run time; remove the try block',
  [SyntaxKind.SwitchStatement]: 'switch statements are not supported in model code: use if / else if on compile-time values',
  [SyntaxKind.LabeledStatement]: 'labeled statements are not supported in model code: restructure the loop (break and continue without labels work)',
  [SyntaxKind.DebuggerStatement]: 'debugger statements are not supported in model code: remove it (model code is compiled, not run)',
  [SyntaxKind.WithStatement]: 'with statements are not supported in model code',
  [SyntaxKind.DeleteExpression]: 'delete is not supported in model code: build a new object or array instead of removing properties',
  [SyntaxKind.AwaitExpression]: 'await is not supported in model code: model code is synchronous; load data outside the model',
  [SyntaxKind.YieldExpression]: 'yield is not supported in model code: return a tensor (or an array of tensors)',
  [SyntaxKind.ClassExpression]: 'classes must be declared at the top level of a model file, not inside functions',
  [SyntaxKind.TaggedTemplateExpression]: 'tagged templates are not supported in model code',
};

/** Every diagnostic for syntax in `fn` (itself and everything nested in it), in source order. */
export function lintFunction(fn: Node): Diagnostic[] {
  const out: Diagnostic[] = [];
  const check = (n: Node): void => {
    const msg = REJECTED[n.getKind()];
    if (msg) {
      out.push(diagnostic(n, msg));
      return;
    }
    if (N.isFunctionLikeDeclaration(n) || N.isArrowFunction(n) || N.isFunctionExpression(n)) {
      if (N.isAsyncable(n) && n.isAsync()) {
        out.push(diagnostic(n, 'async functions are not supported in model code: model code is synchronous; remove async (and await)'));
      }
      if (N.isGeneratorable(n) && n.isGenerator()) {
        out.push(diagnostic(n, 'generator functions are not supported in model code: return a tensor or an array of tensors instead of yielding'));
      }
    } else if (N.isClassDeclaration(n)) {
      out.push(diagnostic(n, 'classes must be declared at the top level of a model file, not inside functions'));
    } else if (N.isVariableDeclarationList(n) && declarationKind(n.getFlags()) === 'var') {
      out.push(diagnostic(n, 'var declarations are not supported in model code: use const or let'));
    } else if ((N.isAsExpression(n) || N.isTypeAssertion(n)) && n.getTypeNode()?.getKind() === SyntaxKind.AnyKeyword) {
      out.push(diagnostic(n, "casts to 'any' are not supported in model code: they hide what a value is; use the tensor, layer or number type (x as Tensor)"));
    } else if (N.isPropertyAccessExpression(n) && n.getExpression().getText() === 'console') {
      out.push(
        diagnostic(
          n,
          `console.${n.getName()} is not supported in model code: model code is compiled, not run, so it would print nothing at run time; remove it (inspect shapes with kiln inspect, values in the REPL)`,
        ),
      );
      return;
    } else if (N.isBinaryExpression(n) && n.getOperatorToken().getKind() === SyntaxKind.InstanceOfKeyword) {
      out.push(diagnostic(n, 'instanceof is not supported in model code: test compile-time values (shapes, hyperparameters) instead'));
    }
    n.forEachChild(check);
  };
  check(fn);
  return out;
}

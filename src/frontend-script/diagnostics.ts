/**
 * Diagnostics of the script compiler: every unsupported construct is reported with the
 * `file:line:col` of the code that wrote it, what it is, and what to write instead.
 */
import type { Node, SourceFile } from 'ts-morph';
import { CompileError, KilnError } from '../ir/errors.js';
import { formatLoc, type SourceLoc } from '../ir/graph.js';

/** One problem in a model file. */
export interface Diagnostic {
  readonly loc: SourceLoc;
  readonly message: string;
}

/**
 * A failed compilation of a model file: one or more diagnostics, the first one also in
 * `loc` and at the head of the message (`model.ts:12:7: while loops are not supported ...`).
 * Further diagnostics follow on their own lines.
 *
 * ```ts
 * try { compileModelFile('model.ts', { inputs }); }
 * catch (e) { if (e instanceof ScriptCompileError) for (const d of e.diagnostics) report(d); }
 * ```
 */
export class ScriptCompileError extends CompileError {
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[], options?: { cause?: unknown }) {
    const [first, ...rest] = diagnostics;
    if (!first) throw new Error('ScriptCompileError: no diagnostics');
    super(first.message + rest.map((d) => `\n${formatLoc(d.loc)}: ${d.message}`).join(''), formatLoc(first.loc));
    this.diagnostics = diagnostics;
    if (options?.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false });
  }
}

/** How each source file is named in locations: the path as the user gave it, or relative to the cwd. */
const displayNames = new WeakMap<SourceFile, string>();

/** @internal Names `sf` in locations (the loader calls it for every file it reads). */
export function setDisplayName(sf: SourceFile, name: string): void {
  displayNames.set(sf, name);
}

/** The `file:line:col` (1-based) where `node` starts, leading trivia excluded. */
export function locOf(node: Node): SourceLoc {
  return locAt(node.getSourceFile(), node.getStart());
}

/** The `file:line:col` (1-based) of a position in `sf`. */
export function locAt(sf: SourceFile, pos: number): SourceLoc {
  const { line, column } = sf.getLineAndColumnAtPos(pos);
  return { file: displayNames.get(sf) ?? sf.getFilePath(), line, col: column };
}

export function diagnostic(node: Node, message: string): Diagnostic {
  return { loc: locOf(node), message };
}

/** Throws a one-diagnostic ScriptCompileError at `node`. */
export function fail(node: Node, message: string): never {
  throw new ScriptCompileError([diagnostic(node, message)]);
}

/**
 * Gives a library error (a ShapeError from an op, an ArgumentError from a layer's
 * constructor) the location of the call that raised it; script errors pass through.
 */
export function atNode(node: Node, e: unknown): unknown {
  if (e instanceof ScriptCompileError || !(e instanceof KilnError)) return e;
  return new ScriptCompileError([diagnostic(node, e.message)], { cause: e });
}

/** A short text of an expression for messages (`this.fc1`, `x.sum()`). */
export function textOf(node: Node): string {
  const t = node.getText().replace(/\s+/g, ' ');
  return t.length <= 40 ? t : `${t.slice(0, 37)}...`;
}

import { CompileError, KilnError } from '../src/ir/errors.js';
import { formatLoc, type SourceLoc } from '../src/ir/graph.js';

/** A command used wrongly or given something it cannot use (a missing file, a bad flag value). */
export class CliError extends KilnError {}

/** Whether to show stack traces (`KILN_DEBUG` set to anything but `0` or empty). */
export function debugEnabled(): boolean {
  const v = process.env.KILN_DEBUG;
  return v !== undefined && v !== '' && v !== '0';
}

/**
 * The text `kiln` prints for an error: kiln errors by their message (a CompileError as
 * `model.ts:12:7: error: ...`, as compilers do), others prefixed by their class; a stack
 * trace only with KILN_DEBUG.
 */
export function formatError(command: string, e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  let text: string;
  const diagnostics = (err as { diagnostics?: readonly { loc: SourceLoc; message: string }[] }).diagnostics;
  if (err instanceof CompileError && diagnostics?.length) {
    // One line per diagnostic, as compilers print them: `model.ts:12:7: error: ...`.
    text = diagnostics.map((d) => `${formatLoc(d.loc)}: error: ${d.message}`).join('\n');
  } else if (err instanceof CompileError && err.loc && err.message.startsWith(`${err.loc}: `)) {
    text = `${err.loc}: error: ${err.message.slice(err.loc.length + 2)}`;
  } else if (err instanceof KilnError) {
    text = `kiln ${command}: ${err.message}`;
  } else if ((err as NodeJS.ErrnoException).code && (err as NodeJS.ErrnoException).path) {
    const ex = err as NodeJS.ErrnoException;
    text = `kiln ${command}: ${ex.code === 'ENOENT' ? 'no such file or directory' : ex.code}: ${ex.path}`;
  } else {
    text = `kiln ${command}: ${err.name === 'Error' ? '' : `${err.name}: `}${err.message}`;
  }
  if (debugEnabled() && err.stack) text += `\n${err.stack}`;
  return text;
}

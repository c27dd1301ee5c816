/**
 * Reading model files with ts-morph: one Project per compilation (parsing only: no type
 * checker, no lib files), each file's top-level declarations indexed by name, and imports
 * sorted into kiln, other model files, and everything else.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ClassDeclaration,
  type FunctionDeclaration,
  type Node,
  NodeFlags,
  Project,
  type SourceFile,
  type VariableDeclaration,
  Node as N,
  ts,
} from 'ts-morph';
import { fail, locAt, ScriptCompileError, setDisplayName } from './diagnostics.js';
import { type SVal, Scope } from './values.js';

/** A name declared at the top level of a model file. */
export type TopDecl =
  | { kind: 'import'; spec: string; imported: string; node: Node }
  | { kind: 'function'; decl: FunctionDeclaration }
  | { kind: 'class'; decl: ClassDeclaration }
  | { kind: 'var'; decl: VariableDeclaration };

/** Where an import leads. */
export type ImportTarget = { kind: 'kiln' } | { kind: 'model'; file: ModelFile } | { kind: 'foreign' };

/** One parsed model file and its top-level names (evaluated lazily, once). */
export class ModelFile {
  readonly top = new Map<string, TopDecl>();
  /** Values of top-level names already evaluated. */
  readonly values = new Map<string, SVal>();
  readonly root: Scope;

  constructor(
    readonly sf: SourceFile,
    readonly display: string,
    readonly loader: Loader,
  ) {
    this.root = new Scope(null, this);
    for (const imp of sf.getImportDeclarations()) {
      if (imp.isTypeOnly()) continue;
      const spec = imp.getModuleSpecifierValue();
      const ns = imp.getNamespaceImport();
      if (ns) this.top.set(ns.getText(), { kind: 'import', spec, imported: '*', node: ns });
      const def = imp.getDefaultImport();
      if (def) this.top.set(def.getText(), { kind: 'import', spec, imported: 'default', node: def });
      for (const s of imp.getNamedImports()) {
        if (s.isTypeOnly()) continue;
        const local = s.getAliasNode()?.getText() ?? s.getName();
        this.top.set(local, { kind: 'import', spec, imported: s.getName(), node: s });
      }
    }
    for (const f of sf.getFunctions()) {
      const name = f.getName();
      if (name && f.hasBody()) this.top.set(name, { kind: 'function', decl: f });
    }
    for (const c of sf.getClasses()) {
      const name = c.getName();
      if (name) this.top.set(name, { kind: 'class', decl: c });
    }
    for (const v of sf.getVariableStatements()) {
      for (const d of v.getDeclarations()) {
        for (const name of boundNames(d.getNameNode())) this.top.set(name, { kind: 'var', decl: d });
      }
    }
  }

  /** The classes and exported functions declared in this file. */
  classes(): ClassDeclaration[] {
    return this.sf.getClasses();
  }
  exportedFunctions(): FunctionDeclaration[] {
    return this.sf.getFunctions().filter((f) => f.hasExportKeyword() && f.hasBody());
  }
}

/** The identifiers a binding name or pattern declares. */
export function boundNames(node: Node): string[] {
  if (N.isIdentifier(node)) return [node.getText()];
  if (N.isObjectBindingPattern(node) || N.isArrayBindingPattern(node)) {
    return node.getElements().flatMap((e) => (N.isBindingElement(e) ? boundNames(e.getNameNode()) : []));
  }
  return [];
}

/** Whether a variable statement's list is `const` / `let` / `var`. */
export function declarationKind(flags: NodeFlags): 'const' | 'let' | 'var' {
  if (flags & NodeFlags.Const) return 'const';
  if (flags & NodeFlags.Let) return 'let';
  return 'var';
}

/** kiln's own source folders: imports resolving inside them are imports of kiln. */
const KILN_ROOTS: string[] = (() => {
  const here = dirname(dirname(fileURLToPath(import.meta.url))); // <repo>/src or <repo>/dist/src
  const roots = [here];
  if (here.endsWith(`${sep}dist${sep}src`)) roots.push(join(here, '..', '..', 'src'));
  return roots.map((r) => resolve(r) + sep);
})();

/** Candidate files for a relative import (`./layers.js` is written for `./layers.ts`). */
function candidates(path: string): string[] {
  const ts = path.replace(/\.(m?)js$/, '.$1ts');
  return [ts, path, `${path}.ts`, join(path, 'index.ts')];
}

/** Loads model files into one ts-morph Project; names them for locations. */
export class Loader {
  readonly project = new Project({
    skipAddingFilesFromTsConfig: true,
    skipFileDependencyResolution: true,
    skipLoadingLibFiles: true,
    // NOTE: nothing here needs types; noResolve/noLib keep the (syntax-only) program small.
    compilerOptions: { allowJs: false, noResolve: true, noLib: true, types: [] },
  });
  private readonly files = new Map<string, ModelFile>();

  /** Reads the file at `path`; `display` names it in locations. */
  fromPath(path: string, display?: string): ModelFile {
    const abs = resolve(path);
    const known = this.files.get(abs);
    if (known) return known;
    const sf = this.project.addSourceFileAtPath(abs);
    return this.register(sf, abs, display ?? displayPath(abs));
  }

  /** A model file given as text; `fileName` names it (and anchors its relative imports). */
  fromSource(source: string, fileName: string): ModelFile {
    const abs = resolve(fileName);
    const sf = this.project.createSourceFile(abs, source, { overwrite: true });
    return this.register(sf, abs, fileName);
  }

  private register(sf: SourceFile, abs: string, display: string): ModelFile {
    setDisplayName(sf, display);
    const syntax = this.project.getProgram().getSyntacticDiagnostics(sf);
    if (syntax.length) {
      throw new ScriptCompileError(
        syntax.map((d) => ({ loc: locAt(sf, d.getStart() ?? 0), message: `syntax error: ${ts.flattenDiagnosticMessageText(d.compilerObject.messageText, ' ')}` })),
      );
    }
    const f = new ModelFile(sf, display, this);
    this.files.set(abs, f);
    return f;
  }

  /** Sorts an import: kiln itself, another model file (loaded), or anything else. */
  resolveImport(from: ModelFile, spec: string, node: Node): ImportTarget {
    if (spec === 'kiln' || spec.startsWith('kiln/')) return { kind: 'kiln' };
    if (!spec.startsWith('.') && !isAbsolute(spec)) return { kind: 'foreign' };
    const base = resolve(dirname(from.sf.getFilePath()), spec);
    if (KILN_ROOTS.some((r) => base.startsWith(r))) return { kind: 'kiln' };
    for (const c of candidates(base)) {
      if (this.files.has(c)) return { kind: 'model', file: this.files.get(c)! };
      if (existsSync(c) && c.endsWith('.ts')) return { kind: 'model', file: this.fromPath(c) };
    }
    return fail(node, `cannot find the model file '${spec}' imported here (looked for ${candidates(base).map((c) => displayPath(c)).join(', ')})`);
  }
}

/** A path relative to the cwd when it lies below it, else absolute. */
export function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

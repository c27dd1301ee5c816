/**
 * The on-disk kernel cache: compiled wasm modules by structural key, under
 * `$KILN_CACHE_DIR` (default `~/.cache/kiln`), so a second process skips binaryen entirely.
 * Failures to read or write are not errors: the cache is an optimization.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAtomic } from './fs.js';

/** Bump when generated code changes in a way the key does not capture. */
const VERSION = 'kiln-wasm-4';

/** The folders (next to this one) whose code decides what a graph compiles to. */
const COMPILER_DIRS = ['ir', 'passes', 'codegen-js', 'runtime'];

let fingerprint: string | undefined;

/**
 * A hash of the compiler's own code, so a changed compiler never reads modules an older one
 * wrote (a stale module runs the old kernels over the new buffer plan).
 */
function compilerFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  const h = createHash('sha256').update(VERSION);
  try {
    const src = dirname(dirname(fileURLToPath(import.meta.url)));
    for (const d of COMPILER_DIRS) {
      const dir = join(src, d);
      for (const f of readdirSync(dir, { recursive: true }).map(String).sort()) {
        if (f.endsWith('.js') || (f.endsWith('.ts') && !f.endsWith('.d.ts'))) h.update(f).update(readFileSync(join(dir, f)));
      }
    }
  } catch {
    // NOTE: no readable sources (a bundle): VERSION alone.
  }
  fingerprint = h.digest('hex').slice(0, 16);
  return fingerprint;
}

export function cacheDir(): string {
  return process.env.KILN_CACHE_DIR || join(homedir(), '.cache', 'kiln');
}

function fileFor(key: string): string {
  const h = createHash('sha256').update(compilerFingerprint()).update('\n').update(key).digest('hex');
  return join(cacheDir(), `${h.slice(0, 40)}.wasm`);
}

export function readCached(key: string): Uint8Array | null {
  if (process.env.KILN_CACHE === '0') return null;
  try {
    const f = fileFor(key);
    return existsSync(f) ? new Uint8Array(readFileSync(f)) : null;
  } catch {
    return null;
  }
}

export function writeCached(key: string, bytes: Uint8Array): void {
  if (process.env.KILN_CACHE === '0') return;
  try {
    writeAtomic(fileFor(key), bytes);
  } catch {
    // NOTE: a read-only or full disk only costs a recompile next time.
  }
}

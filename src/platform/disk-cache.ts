/**
 * The on-disk kernel cache: compiled wasm modules by structural key, under
 * `$KILN_CACHE_DIR` (default `~/.cache/kiln`), so a second process skips binaryen entirely.
 * Failures to read or write are not errors: the cache is an optimization.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeAtomic } from './fs.js';

/** Bump when generated code changes in a way the key does not capture. */
const VERSION = 'kiln-wasm-3';

export function cacheDir(): string {
  return process.env.KILN_CACHE_DIR || join(homedir(), '.cache', 'kiln');
}

function fileFor(key: string): string {
  const h = createHash('sha256').update(VERSION).update('\n').update(key).digest('hex');
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

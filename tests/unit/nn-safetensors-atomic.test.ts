/**
 * An interrupted save at the file-system level: the write to disk fails halfway (disk full),
 * and the old checkpoint must still be there, whole, with no temp file left behind.
 * NOTE: its own file, because it replaces node:fs's writeSync for the whole module graph.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { tensor, zeros } from '../../src/index.js';
import { loadFile, saveFile } from '../../src/stdlib-nn/index.js';

const failing = vi.hoisted(() => ({ on: false }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  // Writes half of what it is asked to, then fails as a full disk would.
  const writeSync = (fd: number, buf: Uint8Array, off?: number | null, len?: number | null): number => {
    const o = off ?? 0;
    const n = len ?? buf.length - o;
    if (!failing.on) return fs.writeSync(fd, buf, o, n);
    fs.writeSync(fd, buf, o, Math.floor(n / 2));
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  };
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

const dir = mkdtempSync(join(tmpdir(), 'kiln-nn-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('keeps the old checkpoint when the disk fills up halfway through a save', () => {
  const path = join(dir, 'model.safetensors');
  saveFile({ w: tensor([1, 2, 3]) }, path);
  const before = readFileSync(path);
  failing.on = true;
  try {
    expect(() => saveFile({ w: zeros([4096]), b: zeros([64]) }, path)).toThrow('ENOSPC: no space left on device');
  } finally {
    failing.on = false;
  }
  expect(readFileSync(path).equals(before)).toBe(true);
  expect(readdirSync(dir)).toEqual(['model.safetensors']);
  expect(loadFile(path)['w']!.toArray()).toEqual([1, 2, 3]);
});

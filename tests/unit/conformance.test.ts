/**
 * The public PyTorch conformance cases, one test per case and execution path, so the
 * suite fails on any regression (`npm run conformance` prints the same with details).
 */
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCases, type OpCase } from '../conformance/cases.js';
import { PATHS } from '../conformance/runner.js';

const cases = loadCases([join(resolve(import.meta.dirname, '..'), 'conformance/cases/ops')]);

describe.each(Object.entries(PATHS))('conformance (%s)', (_name, path) => {
  it.each(cases.map((c) => [c.json.name, c.json] as const))('%s', (_n, json) => {
    expect(path(json as unknown as OpCase)).toBeNull();
  });
});

/**
 * Without WebGL, selecting the gpu backend fails with an error naming the missing piece and
 * how to get it; it never falls back to the CPU. Each case runs in a child process (the
 * backend opens GL once per process) with the piece taken away.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const dist = (p: string): string => pathToFileURL(join(ROOT, 'dist', p)).href;

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/src/runtime/gpu.js'))) execFileSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, stdio: 'inherit' });
});

/** Runs an ES module body in a child without DISPLAY; returns its stdout and stderr. */
function child(body: string, env: Record<string, string> = {}): { stdout: string; stderr: string } {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'DISPLAY' && k !== 'KILN_BACKEND'));
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', body], { cwd: ROOT, encoding: 'utf8', env: { ...base, ...env } });
  return { stdout: r.stdout, stderr: r.stderr };
}

/** Selects the gpu backend and prints what was thrown (class: message). */
const SELECT = `
  import { registerBackend, setBackend, getBackend } from '${dist('src/runtime/backend.js')}';
  import { openGpuBackend } from '${dist('src/runtime/gpu.js')}';
  registerBackend('gpu', openGpuBackend);
  setBackend('js');
  for (let i = 0; i < 2; i++) {
    try { setBackend('gpu'); console.log('selected', getBackend().name); }
    catch (e) { console.log(e.name + ': ' + e.message); }
  }
  console.log('current', getBackend().name);
`;

/** Makes require('gl') fail as it does when the native build is missing. */
const BREAK_GL = `
  import { createRequire } from 'node:module';
  const Module = createRequire(import.meta.url)('module');
  const load = Module._load;
  Module._load = function (request, ...rest) {
    if (request === 'gl') throw new Error("Cannot find module '../build/Release/webgl.node'");
    return load.call(this, request, ...rest);
  };
`;

const GL_BUILT = spawnSync(process.execPath, ['-e', "require('gl')"], { cwd: ROOT }).status === 0;

describe('gpu backend without WebGL', () => {
  it.runIf(GL_BUILT)('without an X display: says so and suggests xvfb-run -a', () => {
    const { stdout, stderr } = child(SELECT);
    const msg =
      'GpuUnavailableError: gpu: backend unavailable: no X display: headless-gl needs an X server and DISPLAY is not set. ' +
      'Run under a virtual one: `xvfb-run -a <command>` (Debian/Ubuntu: `apt-get install -y xvfb`).';
    // The same error on every attempt, and the previous backend stays selected.
    expect(stdout.trim().split('\n')).toEqual([msg, msg, 'current js']);
    expect(stderr).not.toMatch(/falling back/i);
  });

  it('without the native gl build: says to install libxi-dev and rebuild gl', () => {
    const { stdout, stderr } = child(BREAK_GL + SELECT);
    const msg =
      "GpuUnavailableError: gpu: backend unavailable: the native 'gl' package (headless-gl) is not built " +
      "(Cannot find module '../build/Release/webgl.node'). It needs the X11 input headers at build time: " +
      '`apt-get install -y libxi-dev` (Debian/Ubuntu), then `npm rebuild gl`.';
    expect(stdout.trim().split('\n')).toEqual([msg, msg, 'current js']);
    expect(stderr).not.toMatch(/falling back/i);
  });

  it('KILN_BACKEND=gpu: the first tensor operation throws the same error instead of running on the CPU', () => {
    const body = `
      ${GL_BUILT ? '' : BREAK_GL}
      import { registerBackend } from '${dist('src/runtime/backend.js')}';
      import { openGpuBackend } from '${dist('src/runtime/gpu.js')}';
      registerBackend('gpu', openGpuBackend);
      const { tensor } = await import('${dist('src/index.js')}');
      try { console.log('ran', tensor([1, 2]).add(1).toArray()); }
      catch (e) { console.log(e.name + ': ' + e.message); }
    `;
    const { stdout } = child(body, { KILN_BACKEND: 'gpu' });
    const missing = GL_BUILT ? 'no X display: headless-gl needs an X server' : "the native 'gl' package (headless-gl) is not built";
    expect(stdout.trim().startsWith(`GpuUnavailableError: gpu: backend unavailable: ${missing}`), stdout).toBe(true);
  });
});

/**
 * The conformance runner: `npm run conformance -- [--path eager|compiled] DIR...`
 * Runs every PyTorch reference case under DIR through every execution path, prints each
 * failure with the case, the path and the first mismatch, and ends with `N passed, N failed`.
 */
import { availableBackendNames, backendNames, setBackend } from '../../src/runtime/backend.js';
import { prepareWasm } from '../../src/runtime/wasm.js';
import { type CaseFile, loadCases, type OpCase } from './cases.js';
import { PATHS } from './runner.js';
import { runTraining, type TrainCase } from './training.js';

async function main(argv: string[]): Promise<number> {
  const dirs: string[] = [];
  let paths = Object.keys(PATHS);
  let backends = availableBackendNames();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--path') paths = argv[++i]!.split(',');
    else if (a === '--backend') backends = argv[++i]!.split(',');
    else if (a === '-h' || a === '--help') {
      console.log('usage: npm run conformance -- [--path eager,compiled] [--backend NAME,...] DIR...');
      console.log(`backends: ${backendNames().join(', ')} (default: all that can run here: ${availableBackendNames().join(', ')}); paths: ${Object.keys(PATHS).join(', ')} (default: all)`);
      return 0;
    } else dirs.push(a);
  }
  for (const b of backends) {
    if (!backendNames().includes(b)) {
      console.error(`conformance: unknown backend '${b}' (available: ${backendNames().join(', ')})`);
      return 2;
    }
  }
  for (const p of paths) {
    if (!PATHS[p]) {
      console.error(`conformance: unknown path '${p}' (available: ${Object.keys(PATHS).join(', ')})`);
      return 2;
    }
  }
  if (dirs.length === 0) dirs.push('tests/conformance/cases');
  // The wasm backend loads binaryen asynchronously; wait so every case runs wasm kernels.
  if (backends.includes('wasm')) await prepareWasm();
  let cases: CaseFile[];
  try {
    cases = loadCases(dirs);
  } catch (e) {
    console.error(`conformance: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
  let passed = 0;
  let failed = 0;
  const combos = backends.flatMap((b) => paths.map((p) => [b, p] as const));
  const perPath = new Map(combos.map(([b, p]) => [`${b}/${p}`, 0]));
  const t0 = performance.now();
  for (const { path, json } of cases) {
    if (json.format === 'conformance/train-1') {
      let ok = true;
      for (const b of backends) {
        for (const p of ['eager', 'compiled'] as const) {
          setBackend(b);
          let err: string | null;
          try {
            err = runTraining(json as unknown as TrainCase, path, p);
          } catch (e) {
            err = `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
          }
          const key = `${b}/${p}`;
          if (err) {
            ok = false;
            console.log(`FAIL ${json.name} [${key}] (${path}): ${err}`);
          } else if (perPath.has(key)) perPath.set(key, perPath.get(key)! + 1);
        }
      }
      if (ok) passed++;
      else failed++;
      continue;
    }
    if (json.format !== 'conformance/op-1') {
      console.log(`FAIL ${json.name ?? path} (${path}): unknown format ${JSON.stringify(json.format)}`);
      failed++;
      continue;
    }
    let ok = true;
    for (const [b, p] of combos) {
      setBackend(b);
      let err: string | null;
      try {
        err = PATHS[p]!(json as unknown as OpCase);
      } catch (e) {
        err = `runner crashed: ${String(e)}`;
      }
      if (err) {
        ok = false;
        console.log(`FAIL ${json.name} [${b}/${p}] (${path}): ${err}`);
      } else perPath.set(`${b}/${p}`, perPath.get(`${b}/${p}`)! + 1);
    }
    if (ok) passed++;
    else failed++;
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`backend/path: ${[...perPath].map(([p, n]) => `${p} ${n}/${passed + failed}`).join(', ')}; ${secs}s`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));

/**
 * The fixed parts of a standalone ES module: the scalar helpers its kernels call, a base64
 * decoder, input checks and the command-line entry point. Plain JavaScript source, pasted
 * into every module by esm.ts.
 */
import { jsHelpers } from '../codegen-js/js-templates.js';

/**
 * The scalar helpers generated kernels call as `h.*`: codegen-js's `jsHelpers`, pasted in from
 * their own source so the module needs nothing else (and there is one definition of each).
 * NOTE: `erf` reads the module constant SQRT_PI_2, defined here too; tests/unit/export-esm.test.ts
 * checks these agree with jsHelpers, key for key and bit for bit.
 */
export const HELPERS_SOURCE = `const h = (() => {
  const SQRT_PI_2 = 2 / Math.sqrt(Math.PI);
  const erf = ${jsHelpers.erf.toString()};
  const sigmoid = ${jsHelpers.sigmoid.toString()};
  const max2 = ${jsHelpers.max2.toString()};
  const min2 = ${jsHelpers.min2.toString()};
  return { erf, sigmoid, max2, min2 };
})();`;

/** Base64 decoding and the input checks `run` uses. `MODEL` is the module's name. */
export const SUPPORT_SOURCE = `function decodeBase64(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const lookup = new Uint8Array(128);
  for (let i = 0; i < 64; i++) lookup[alphabet.charCodeAt(i)] = i;
  let n = s.length;
  while (n > 0 && s[n - 1] === '=') n--;
  const out = new Uint8Array((n * 3) >> 2);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < n; i++) {
    acc = ((acc << 6) | lookup[s.charCodeAt(i)]) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 255;
    }
  }
  return out;
}

const ARRAY = { f32: Float32Array, i32: Int32Array, bool: Uint8Array };

/** One input as the typed array the kernels read: typed arrays of the right kind pass through, arrays are converted. */
function input(inputs, spec) {
  const a = inputs[spec.name];
  if (a === undefined || a === null) throw new TypeError(\`\${MODEL}: missing input '\${spec.name}' (\${spec.dtype}[\${spec.shape}])\`);
  const Ctor = ARRAY[spec.dtype];
  const t = a instanceof Ctor ? a : Array.isArray(a) ? Ctor.from(a.flat(Infinity), Number) : Ctor.from(a);
  const n = spec.shape.reduce((x, y) => x * y, 1);
  if (t.length !== n) throw new RangeError(\`\${MODEL}: input '\${spec.name}' must have \${n} elements (\${spec.dtype}[\${spec.shape}]), got \${t.length}\`);
  return t;
}`;

/**
 * The command-line entry point: runs when the module is node's main script, reading the
 * inputs as JSON from the first argument, from `@file.json`, or from stdin.
 */
export const MAIN_SOURCE = `const USAGE = \`usage: node <module> '{"<input>": [...], ...}' | @inputs.json | - (stdin)
Runs \${MODEL} and prints {"<output>": {"dtype", "shape", "data"}, ...} as JSON
(NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity"; inputs may use them too).
Inputs: \${JSON.stringify(signature.inputs)}
\`;

async function main(proc, fs) {
  const arg = proc.argv[2];
  if (arg === '--help' || arg === '-h') {
    proc.stdout.write(USAGE);
    return;
  }
  if (arg === undefined && proc.stdin.isTTY) {
    proc.stderr.write(USAGE);
    proc.exitCode = 2;
    return;
  }
  const text = arg === undefined || arg === '-' ? fs.readFileSync(0, 'utf8') : arg.startsWith('@') ? fs.readFileSync(arg.slice(1), 'utf8') : arg;
  await load();
  const outputs = run(JSON.parse(text));
  const json = {};
  for (const o of signature.outputs) json[o.name] = { dtype: o.dtype, shape: o.shape, data: Array.from(outputs[o.name]) };
  // NOTE: NaN and ±Infinity print as the strings "NaN", "Infinity", "-Infinity" (JSON has no such numbers).
  proc.stdout.write(JSON.stringify(json, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) + '\\n');
}

{
  const proc = globalThis.process;
  if (proc?.versions?.node && proc.argv?.[1] && import.meta.url.startsWith('file:')) {
    // NOTE: specifiers in variables, so bundlers for the web leave these Node-only imports alone.
    const [urlModule, fsModule] = ['node:url', 'node:fs'];
    const { pathToFileURL } = await import(urlModule);
    const fs = await import(fsModule);
    let entry = '';
    try {
      entry = pathToFileURL(fs.realpathSync(proc.argv[1])).href;
    } catch {}
    if (entry === import.meta.url) {
      await main(proc, fs).catch((e) => {
        const message = String(e?.message ?? e);
        proc.stderr.write(\`\${message.startsWith(MODEL + ':') ? '' : MODEL + ': '}\${message}\\n\`);
        proc.exitCode = 1;
      });
    }
  }
}`;

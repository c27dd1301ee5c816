/**
 * The fixed parts of a standalone ES module: the scalar helpers its kernels call, a base64
 * decoder, input checks and the command-line entry point. Plain JavaScript source, pasted
 * into every module by esm.ts.
 */

/**
 * The scalar helpers generated kernels call as `h.*`: the same functions as codegen-js's
 * `jsHelpers`, written out so the module needs nothing else.
 * NOTE: tests/unit/export-esm.test.ts checks these agree with jsHelpers, key for key and bit for bit.
 */
export const HELPERS_SOURCE = `const h = (() => {
  const SQRT_PI_2 = 2 / Math.sqrt(Math.PI);
  function erf(x) {
    if (Number.isNaN(x)) return NaN;
    const z = Math.abs(x);
    if (z < 0.5) {
      let term = x;
      let sum = x;
      const x2 = x * x;
      for (let n = 1; n < 12; n++) {
        term *= -x2 / n;
        sum += term / (2 * n + 1);
      }
      return SQRT_PI_2 * sum;
    }
    const t = 1 / (1 + 0.5 * z);
    const poly =
      -z * z - 1.26551223 +
      t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
      t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    const erfc = t * Math.exp(poly);
    return x >= 0 ? 1 - erfc : erfc - 1;
  }
  function sigmoid(x) {
    if (x >= 0) return 1 / (1 + Math.exp(-x));
    const e = Math.exp(x);
    return e / (1 + e);
  }
  const max2 = (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b);
  const min2 = (a, b) => (a !== a || b !== b ? NaN : a < b ? a : b);
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

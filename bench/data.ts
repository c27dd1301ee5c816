/**
 * The peers' deterministic data, ported line for line from `../shared/bench/peers/bench_util.mjs`
 * (`rng` = mulberry32, `randn` = Box–Muller on it, `randLabels`), so that kiln sees exactly the
 * numbers TensorFlow.js and jax-js see. The arithmetic is the same float64 JS arithmetic rounded
 * once into a Float32Array, so the values are bit-identical (checked in tests/unit/bench-smoke.test.ts).
 *
 * Also the two layout helpers jaxjs.mjs uses to turn tfjs's NHWC/HWIO W4 weights into NCHW/OIHW
 * with the same numbers (so the initial W4 loss is the same in every peer).
 */

/** mulberry32: uniform numbers in [0, 1) from a 32-bit seed. */
export function rng(seed = 1234): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` standard normal samples times `scale` (one Box–Muller cosine per pair of uniforms). */
export function randn(n: number, seed = 1234, scale = 1): Float32Array {
  const u = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.max(u(), 1e-12);
    const b = u();
    out[i] = scale * Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * b);
  }
  return out;
}

/** `n` class labels in [0, classes). */
export function randLabels(n: number, classes = 10, seed = 99): Int32Array {
  const u = rng(seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(u() * classes);
  return out;
}

/** A conv kernel stored HWIO (tfjs) reordered to OIHW (PyTorch/kiln), same numbers. */
export function hwioToOihw(d: Float32Array, kh: number, kw: number, ci: number, co: number): Float32Array {
  const o = new Float32Array(d.length);
  for (let h = 0; h < kh; h++) {
    for (let w = 0; w < kw; w++) {
      for (let i = 0; i < ci; i++) {
        for (let c = 0; c < co; c++) o[((c * ci + i) * kh + h) * kw + w] = d[((h * kw + w) * ci + i) * co + c]!;
      }
    }
  }
  return o;
}

/**
 * The rows of a linear layer that follows an NHWC flatten ((h, w, c) order), reordered for an
 * NCHW flatten ((c, h, w) order), so the layer computes the same function.
 */
export function hwcRowsToChw(d: Float32Array, H: number, W: number, C: number, out: number): Float32Array {
  const o = new Float32Array(d.length);
  for (let h = 0; h < H; h++) {
    for (let w = 0; w < W; w++) {
      for (let c = 0; c < C; c++) {
        for (let j = 0; j < out; j++) o[((c * H + h) * W + w) * out + j] = d[((h * W + w) * C + c) * out + j]!;
      }
    }
  }
  return o;
}

import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import type { Attrs } from '../graph.js';
import type { NDArray } from '../ndarray.js';
import type { TensorType } from '../types.js';
import { formatType } from '../types.js';
import { defineOp, intsAttr } from './define.js';

/** The window geometry shared by unfold and fold (2-D, NCHW). */
export interface Window {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
}

function pair(op: string, attrs: Attrs, key: string, min: number): [number, number] {
  const v = intsAttr(op, attrs, key);
  if (v.length !== 2 || v.some((x) => x < min)) {
    throw new ArgumentError(`${op}: ${key} must be two integers >= ${min}, got ${JSON.stringify(v)}`);
  }
  return [v[0]!, v[1]!];
}

export function windowAttrs(op: string, attrs: Attrs): Window {
  return {
    kernel: pair(op, attrs, 'kernel', 1),
    stride: pair(op, attrs, 'stride', 1),
    padding: pair(op, attrs, 'padding', 0),
    dilation: pair(op, attrs, 'dilation', 1),
  };
}

/** Output spatial size of a window sweep; throws when the window does not fit. */
export function windowOut(op: string, x: TensorType, size: readonly number[], w: Window): [number, number] {
  const out = [0, 1].map((i) => {
    const span = w.dilation[i]! * (w.kernel[i]! - 1) + 1;
    return Math.floor((size[i]! + 2 * w.padding[i]! - span) / w.stride[i]!) + 1;
  });
  if (out[0]! < 1 || out[1]! < 1) {
    throw new ShapeError(`${op}: kernel ${JSON.stringify(w.kernel)} (dilation ${JSON.stringify(w.dilation)}) does not fit input ${formatType(x)} with padding ${JSON.stringify(w.padding)}`);
  }
  return [out[0]!, out[1]!];
}

/**
 * Walks every (n, c, ki, kj, oi, oj) of a window sweep, calling `visit(colIndex, imageIndex)`;
 * imageIndex is -1 for padding.
 */
function sweep(N: number, C: number, H: number, W: number, oh: number, ow: number, w: Window, visit: (col: number, img: number) => void): void {
  const [kh, kw] = w.kernel;
  let col = 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * H * W;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          for (let oi = 0; oi < oh; oi++) {
            const i = oi * w.stride[0] - w.padding[0] + ki * w.dilation[0];
            for (let oj = 0; oj < ow; oj++) {
              const j = oj * w.stride[1] - w.padding[1] + kj * w.dilation[1];
              visit(col++, i >= 0 && i < H && j >= 0 && j < W ? base + i * W + j : -1);
            }
          }
        }
      }
    }
  }
}

export const convOps = {
  /** im2col: [N,C,H,W] → [N, C*kh*kw, OH*OW], zero padding (torch.nn.functional.unfold). */
  unfold: defineOp({
    name: 'unfold',
    family: 'conv',
    arity: 1,
    shape: (inputs: readonly TensorType[], attrs: Attrs) => {
      const x = inputs[0]!;
      if (x.shape.length !== 4) throw new ShapeError(`unfold: expected a 4-D input [N,C,H,W], got ${formatType(x)}`);
      const w = windowAttrs('unfold', attrs);
      const [oh, ow] = windowOut('unfold', x, x.shape.slice(2), w);
      return [x.shape[0]!, x.shape[1]! * w.kernel[0] * w.kernel[1], oh * ow];
    },
    dtype: (inputs: readonly TensorType[]) => {
      if (inputs[0]!.dtype !== 'f32') throw new DTypeError(`unfold: expected f32, got ${formatType(inputs[0]!)}`);
      return 'f32';
    },
    eval: (inputs: readonly NDArray[], out: NDArray, attrs: Attrs) => {
      const x = inputs[0]!;
      const w = windowAttrs('unfold', attrs);
      const [N, C, H, W] = x.shape as [number, number, number, number];
      const [oh, ow] = windowOut('unfold', x, [H, W], w);
      sweep(N, C, H, W, oh, ow, w, (col, img) => {
        out.data[col] = img < 0 ? 0 : x.data[img]!;
      });
    },
  }),
  /** col2im, the adjoint of unfold: sums [N, C*kh*kw, L] windows back into [N,C,H,W]. */
  fold: defineOp({
    name: 'fold',
    family: 'conv',
    arity: 1,
    shape: (inputs: readonly TensorType[], attrs: Attrs) => {
      const x = inputs[0]!;
      const w = windowAttrs('fold', attrs);
      const size = pair('fold', attrs, 'outputSize', 1);
      const kk = w.kernel[0] * w.kernel[1];
      const [oh, ow] = windowOut('fold', x, size, w);
      if (x.shape.length !== 3 || x.shape[1]! % kk !== 0 || x.shape[2] !== oh * ow) {
        throw new ShapeError(`fold: input ${formatType(x)} does not match kernel ${JSON.stringify(w.kernel)} and output size ${JSON.stringify(size)}`);
      }
      return [x.shape[0]!, x.shape[1]! / kk, size[0], size[1]];
    },
    dtype: (inputs: readonly TensorType[]) => {
      if (inputs[0]!.dtype !== 'f32') throw new DTypeError(`fold: expected f32, got ${formatType(inputs[0]!)}`);
      return 'f32';
    },
    eval: (inputs: readonly NDArray[], out: NDArray, attrs: Attrs) => {
      const x = inputs[0]!;
      const w = windowAttrs('fold', attrs);
      const [N, C, H, W] = out.shape as [number, number, number, number];
      const [oh, ow] = windowOut('fold', x, [H, W], w);
      const acc = new Float64Array(out.data.length);
      sweep(N, C, H, W, oh, ow, w, (col, img) => {
        if (img >= 0) acc[img]! += x.data[col]!;
      });
      out.data.set(acc);
    },
  }),
};

/** Pooling layers over the vocabulary's `max_pool2d`, `avg_pool2d`, `adaptive_avg_pool2d`. */
import { F, type Tensor } from '../frontend-eager/index.js';
import type { Size2 } from '../ir/lang/index.js';
import { Module } from './module.js';
import { pyBool, pyIntOrTuple } from './py-repr.js';

/** Options of `MaxPool2d`. */
export interface MaxPool2dOptions {
  /** Default: the kernel size. */
  stride?: Size2 | null;
  /** Implicit -inf padding on both sides; default 0. */
  padding?: Size2;
  /** Default 1. */
  dilation?: Size2;
  /** Round the output size up instead of down; default false. */
  ceilMode?: boolean;
}

/**
 * The maximum over each window (`nn.MaxPool2d`) of [N, C, H, W] or [C, H, W] inputs.
 *
 * ```ts
 * new MaxPool2d(2).call(zeros([32, 4, 8, 8])).shape; // [32, 4, 4, 4]
 * ```
 */
export class MaxPool2d extends Module {
  readonly kernelSize: Size2;
  readonly stride: Size2;
  readonly padding: Size2;
  readonly dilation: Size2;
  readonly ceilMode: boolean;

  constructor(kernelSize: Size2, opts: MaxPool2dOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    this.ceilMode = opts.ceilMode ?? false;
  }

  override forward(input: Tensor): Tensor {
    return F.maxPool2d(input, this.kernelSize, this.stride, this.padding, this.dilation, this.ceilMode);
  }

  override extraRepr(): string {
    const r = pyIntOrTuple;
    return `kernel_size=${r(this.kernelSize)}, stride=${r(this.stride)}, padding=${r(this.padding)}, dilation=${r(this.dilation)}, ceil_mode=${pyBool(this.ceilMode)}`;
  }
}

/** Options of `AvgPool2d`. */
export interface AvgPool2dOptions {
  /** Default: the kernel size. */
  stride?: Size2 | null;
  /** Implicit zero padding on both sides; default 0. */
  padding?: Size2;
  /** Round the output size up instead of down; default false. */
  ceilMode?: boolean;
  /** Count the zero padding in the divisor; default true. */
  countIncludePad?: boolean;
  /** Divide every window sum by this instead. */
  divisorOverride?: number | null;
}

/**
 * The mean over each window (`nn.AvgPool2d`) of [N, C, H, W] or [C, H, W] inputs.
 *
 * ```ts
 * new AvgPool2d(2).call(ones([1, 1, 4, 4])).toArray(); // [[[[1, 1], [1, 1]]]]
 * ```
 */
export class AvgPool2d extends Module {
  readonly kernelSize: Size2;
  readonly stride: Size2;
  readonly padding: Size2;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;

  constructor(kernelSize: Size2, opts: AvgPool2dOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
    this.ceilMode = opts.ceilMode ?? false;
    this.countIncludePad = opts.countIncludePad ?? true;
    this.divisorOverride = opts.divisorOverride ?? null;
  }

  override forward(input: Tensor): Tensor {
    return F.avgPool2d(input, this.kernelSize, this.stride, this.padding, this.ceilMode, this.countIncludePad, this.divisorOverride);
  }

  override extraRepr(): string {
    const r = pyIntOrTuple;
    return `kernel_size=${r(this.kernelSize)}, stride=${r(this.stride)}, padding=${r(this.padding)}`;
  }
}

/**
 * Average pooling to a fixed output size, whatever the input size (`nn.AdaptiveAvgPool2d`);
 * `null` keeps that input dim.
 *
 * ```ts
 * new AdaptiveAvgPool2d(1).call(randn([8, 16, 7, 7])).shape; // [8, 16, 1, 1]
 * ```
 */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | readonly (number | null)[]) {
    super();
  }

  override forward(input: Tensor): Tensor {
    return F.adaptiveAvgPool2d(input, this.outputSize);
  }

  override extraRepr(): string {
    const o = this.outputSize;
    return `output_size=${typeof o === 'number' ? o : `(${o.map((v) => v ?? 'None').join(', ')})`}`;
  }
}

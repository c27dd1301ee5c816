/** Convolution layers: Conv1d and Conv2d over the vocabulary's `conv1d` / `conv2d`. */
import { ArgumentError } from '../ir/errors.js';
import { F, type Tensor, zeros } from '../frontend-eager/index.js';
import { checkSize, resetLinearLike } from './linear.js';
import { Module } from './module.js';
import { pyTuple } from './py-repr.js';

/** Options of `Conv1d` / `Conv2d` (PyTorch's defaults). */
export interface ConvOptions<S> {
  /** Default 1. */
  stride?: S;
  /** Numbers (zero padding on both sides), 'valid' (none) or 'same' (stride 1 only). Default 0. */
  padding?: S | 'valid' | 'same';
  /** Default 1. */
  dilation?: S;
  /** Default 1: in and out channels must both be divisible by it. */
  groups?: number;
  /** Default true. */
  bias?: boolean;
}

/** The shared part of Conv1d and Conv2d, `nd` spatial dims. */
abstract class ConvNd extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[] | 'valid' | 'same';
  readonly dilation: number[];
  readonly groups: number;

  constructor(op: string, nd: number, inChannels: number, outChannels: number, kernelSize: number | readonly number[], opts: ConvOptions<number | readonly number[]>) {
    super();
    const tuple = (name: string, v: number | readonly number[], min: number): number[] => {
      const out = typeof v === 'number' ? new Array<number>(nd).fill(v) : [...v];
      if (out.length !== nd || out.some((d) => !Number.isInteger(d) || d < min)) {
        throw new ArgumentError(`${op}: ${name} must be ${nd === 1 ? 'an integer' : `an integer or ${nd} integers`} >= ${min}, got ${JSON.stringify(v)}`);
      }
      return out;
    };
    this.inChannels = checkSize(op, 'in_channels', inChannels);
    this.outChannels = checkSize(op, 'out_channels', outChannels);
    this.groups = checkSize(op, 'groups', opts.groups ?? 1);
    if (inChannels % this.groups !== 0) throw new ArgumentError(`${op}: in_channels (${inChannels}) must be divisible by groups (${this.groups})`);
    if (outChannels % this.groups !== 0) throw new ArgumentError(`${op}: out_channels (${outChannels}) must be divisible by groups (${this.groups})`);
    this.kernelSize = tuple('kernel_size', kernelSize, 1);
    this.stride = tuple('stride', opts.stride ?? 1, 1);
    this.dilation = tuple('dilation', opts.dilation ?? 1, 1);
    const padding = opts.padding ?? 0;
    if (padding === 'same' || padding === 'valid') {
      if (padding === 'same' && this.stride.some((s) => s !== 1)) throw new ArgumentError(`${op}: padding='same' is not supported for strided convolutions`);
      this.padding = padding;
    } else this.padding = tuple('padding', padding, 0);
    this.registerParameter('weight', zeros([outChannels, inChannels / this.groups, ...this.kernelSize]));
    this.registerParameter('bias', opts.bias === false ? null : zeros([outChannels]));
    this.resetParameters();
  }

  get weight(): Tensor {
    return this.ownParameter('weight')!;
  }
  get bias(): Tensor | null {
    return this.ownParameter('bias');
  }

  /**
   * Re-draws the weight and bias with PyTorch's default initialization.
   *
   * ```ts
   * conv.resetParameters();
   * ```
   */
  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`;
    if (typeof this.padding === 'string') s += `, padding=${this.padding}`;
    else if (this.padding.some((p) => p !== 0)) s += `, padding=${pyTuple(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${pyTuple(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=False';
    return s;
  }
}

/**
 * 1-D convolution over [N, C, L] (or [C, L]) inputs (`nn.Conv1d`); weight
 * [outChannels, inChannels/groups, k], PyTorch's default initialization.
 *
 * ```ts
 * const conv = new Conv1d(1, 4, 3, { padding: 1 });
 * conv.call(randn([2, 1, 16])).shape; // [2, 4, 16]
 * ```
 */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly [number], opts: ConvOptions<number | readonly [number]> = {}) {
    super('Conv1d', 1, inChannels, outChannels, kernelSize, opts);
  }

  override forward(input: Tensor): Tensor {
    return F.conv1d(input, this.weight, this.bias, this.stride, this.padding, this.dilation, this.groups);
  }
}

/**
 * 2-D convolution over [N, C, H, W] (or [C, H, W]) inputs (`nn.Conv2d`); weight
 * [outChannels, inChannels/groups, kh, kw], PyTorch's default initialization.
 *
 * ```ts
 * const conv = new Conv2d(1, 4, 3, { padding: 1 });
 * conv.call(randn([32, 1, 8, 8])).shape; // [32, 4, 8, 8]
 * ```
 */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly [number, number], opts: ConvOptions<number | readonly [number, number]> = {}) {
    super('Conv2d', 2, inChannels, outChannels, kernelSize, opts);
  }

  override forward(input: Tensor): Tensor {
    return F.conv2d(input, this.weight, this.bias, this.stride, this.padding, this.dilation, this.groups);
  }
}

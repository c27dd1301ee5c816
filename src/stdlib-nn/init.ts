/**
 * `torch.nn.init`: in-place initializers (trailing underscore, as PyTorch) that fill a tensor
 * under `noGrad`, drawing from the default generator unless given one, in row-major order.
 */
import { ArgumentError, ShapeError } from '../ir/errors.js';
import { formatType, numel } from '../ir/types.js';
import { fromStorage, type Generator, noGrad, type Tensor } from '../frontend-eager/index.js';
import { defaultGenerator } from '../frontend-eager/random.js';

/** The nonlinearities `calculateGain` knows, by PyTorch's names. */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

/** Which fan the kaiming initializers scale by. */
export type FanMode = 'fan_in' | 'fan_out';

/** The random source of an initializer. */
export interface InitOptions {
  generator?: Generator;
}

/** Options of `kaimingUniform_` / `kaimingNormal_`. */
export interface KaimingOptions extends InitOptions {
  /** The negative slope of the rectifier after this layer (leaky_relu only; default 0). */
  a?: number;
  /** 'fan_in' (default) keeps the forward variance, 'fan_out' the backward one. */
  mode?: FanMode;
  /** Default 'leaky_relu' (with `a = 0` that is ReLU's gain). */
  nonlinearity?: Nonlinearity;
}

/**
 * The recommended gain for a nonlinearity (`torch.nn.init.calculate_gain`).
 *
 * ```ts
 * calculateGain('relu');              // Math.SQRT2
 * calculateGain('leaky_relu', 0.2);   // sqrt(2 / (1 + 0.2^2))
 * ```
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number | null): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv_transpose1d':
    case 'conv_transpose2d':
    case 'conv_transpose3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      if (typeof slope !== 'number' || Number.isNaN(slope)) throw new ArgumentError(`calculateGain: negative_slope ${String(slope)} is not a valid number`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new ArgumentError(`calculateGain: unsupported nonlinearity ${JSON.stringify(nonlinearity)}`);
  }
}

/**
 * `[fanIn, fanOut]` of a weight: dim 1 and dim 0 times the receptive field (the product of
 * the dims after the first two), as `torch.nn.init._calculate_fan_in_and_fan_out`.
 *
 * ```ts
 * calculateFanInAndFanOut(zeros([4, 2, 3, 3])); // [18, 36]
 * ```
 */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  const s = t.shape;
  if (s.length < 2) {
    throw new ShapeError(`calculateFanInAndFanOut: fan in and fan out can not be computed for tensor with fewer than 2 dimensions, got ${formatType(t.type)}`);
  }
  const receptive = numel(s.slice(2));
  return [s[1]! * receptive, s[0]! * receptive];
}

function fanOf(t: Tensor, mode: FanMode): number {
  if (mode !== 'fan_in' && mode !== 'fan_out') throw new ArgumentError(`kaiming: mode ${JSON.stringify(mode)} not supported, please use one of 'fan_in', 'fan_out'`);
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return mode === 'fan_in' ? fanIn : fanOut;
}

/** Fills `t` in place with `sample()` per element (row-major), without recording history. */
function fill(t: Tensor, op: string, sample: () => number): Tensor {
  if (t.dtype !== 'f32') throw new ArgumentError(`${op}: expected an f32 tensor, got ${formatType(t.type)}`);
  const data = new Float32Array(t.numel());
  for (let i = 0; i < data.length; i++) data[i] = sample();
  noGrad(() => t.copy_(fromStorage(data, t.shape)));
  return t;
}

/**
 * Fills `t` with samples of U(a, b).
 *
 * ```ts
 * uniform_(w, -0.1, 0.1);
 * ```
 */
export function uniform_(t: Tensor, a = 0, b = 1, opts: InitOptions = {}): Tensor {
  if (!(a <= b)) throw new ArgumentError(`uniform_: expects a <= b, got a=${a}, b=${b}`);
  const g = opts.generator ?? defaultGenerator;
  return fill(t, 'uniform_', () => a + (b - a) * g.random());
}

/**
 * Fills `t` with samples of N(mean, std^2).
 *
 * ```ts
 * normal_(embedding.weight, 0, 0.02);
 * ```
 */
export function normal_(t: Tensor, mean = 0, std = 1, opts: InitOptions = {}): Tensor {
  if (!(std >= 0)) throw new ArgumentError(`normal_: expects std >= 0.0, got ${std}`);
  const g = opts.generator ?? defaultGenerator;
  return fill(t, 'normal_', () => mean + std * g.normal());
}

/**
 * Fills `t` with `value`.
 *
 * ```ts
 * constant_(bias, 0.01);
 * ```
 */
export function constant_(t: Tensor, value: number): Tensor {
  noGrad(() => t.fill_(value));
  return t;
}

/**
 * Fills `t` with zeros.
 *
 * ```ts
 * zeros_(linear.bias!);
 * ```
 */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/**
 * Fills `t` with ones.
 *
 * ```ts
 * ones_(norm.weight!);
 * ```
 */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/**
 * Xavier/Glorot uniform: U(-a, a) with `a = gain * sqrt(6 / (fanIn + fanOut))`.
 *
 * ```ts
 * xavierUniform_(w, calculateGain('tanh'));
 * ```
 */
export function xavierUniform_(t: Tensor, gain = 1, opts: InitOptions = {}): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a, opts);
}

/**
 * Xavier/Glorot normal: N(0, std^2) with `std = gain * sqrt(2 / (fanIn + fanOut))`.
 *
 * ```ts
 * xavierNormal_(w);
 * ```
 */
export function xavierNormal_(t: Tensor, gain = 1, opts: InitOptions = {}): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), opts);
}

/**
 * Kaiming/He uniform: U(-b, b) with `b = gain * sqrt(3 / fan)`. PyTorch's default layer
 * initialization is `kaimingUniform_(w, { a: Math.sqrt(5) })`, i.e. b = 1/sqrt(fanIn).
 *
 * ```ts
 * kaimingUniform_(conv.weight, { mode: 'fan_out', nonlinearity: 'relu' });
 * ```
 */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  if (t.numel() === 0) return t;
  const fan = fanOf(t, opts.mode ?? 'fan_in');
  const gain = calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  const bound = Math.sqrt(3) * (gain / Math.sqrt(fan));
  return uniform_(t, -bound, bound, opts);
}

/**
 * Kaiming/He normal: N(0, std^2) with `std = gain / sqrt(fan)`.
 *
 * ```ts
 * kaimingNormal_(w, { mode: 'fan_out', nonlinearity: 'relu' });
 * ```
 */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  if (t.numel() === 0) return t;
  const fan = fanOf(t, opts.mode ?? 'fan_in');
  const gain = calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  return normal_(t, 0, gain / Math.sqrt(fan), opts);
}

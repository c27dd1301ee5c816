/** Activation layers: thin modules over the vocabulary's elementwise functions. */
import { ArgumentError } from '../ir/errors.js';
import { F, type Tensor } from '../frontend-eager/index.js';
import { Module } from './module.js';
import { pyFloat, pyStr } from './py-repr.js';

/**
 * `max(x, 0)` (`nn.ReLU`).
 *
 * ```ts
 * new ReLU().call(tensor([-1, 2])).toArray(); // [0, 2]
 * ```
 */
export class ReLU extends Module {
  override forward(input: Tensor): Tensor {
    return F.relu(input);
  }
}

/**
 * `tanh(x)` (`nn.Tanh`).
 *
 * ```ts
 * new Tanh().call(tensor([0])).toArray(); // [0]
 * ```
 */
export class Tanh extends Module {
  override forward(input: Tensor): Tensor {
    return F.tanh(input);
  }
}

/**
 * `1 / (1 + exp(-x))` (`nn.Sigmoid`).
 *
 * ```ts
 * new Sigmoid().call(tensor([0])).toArray(); // [0.5]
 * ```
 */
export class Sigmoid extends Module {
  override forward(input: Tensor): Tensor {
    return F.sigmoid(input);
  }
}

/**
 * `x * Φ(x)`, exact (erf) or with the tanh approximation (`nn.GELU`).
 *
 * ```ts
 * new GELU({ approximate: 'tanh' }).call(x);
 * ```
 */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';

  constructor(opts: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    this.approximate = opts.approximate ?? 'none';
    if (this.approximate !== 'none' && this.approximate !== 'tanh') {
      throw new ArgumentError(`GELU: approximate must be 'none' or 'tanh', got ${JSON.stringify(this.approximate)}`);
    }
  }

  override forward(input: Tensor): Tensor {
    return F.gelu(input, { approximate: this.approximate });
  }

  override extraRepr(): string {
    return `approximate=${pyStr(this.approximate)}`;
  }
}

/**
 * `x * sigmoid(x)` (`nn.SiLU`, a.k.a. swish).
 *
 * ```ts
 * new SiLU().call(x);
 * ```
 */
export class SiLU extends Module {
  override forward(input: Tensor): Tensor {
    return F.silu(input);
  }
}

/**
 * `x > 0 ? x : negativeSlope * x` (`nn.LeakyReLU`).
 *
 * ```ts
 * new LeakyReLU(0.2).call(tensor([-1, 1])).toArray(); // [-0.2, 1]
 * ```
 */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }

  override forward(input: Tensor): Tensor {
    return F.leakyRelu(input, this.negativeSlope);
  }

  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}`;
  }
}

/**
 * `x > 0 ? x : alpha * (exp(x) - 1)` (`nn.ELU`).
 *
 * ```ts
 * new ELU().call(x);
 * ```
 */
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }

  override forward(input: Tensor): Tensor {
    return F.elu(input, this.alpha);
  }

  override extraRepr(): string {
    return `alpha=${pyFloat(this.alpha)}`;
  }
}

/**
 * `log(1 + exp(beta * x)) / beta`, linear above `threshold` (`nn.Softplus`).
 *
 * ```ts
 * new Softplus(2).call(x);
 * ```
 */
export class Softplus extends Module {
  constructor(
    readonly beta = 1,
    readonly threshold = 20,
  ) {
    super();
  }

  override forward(input: Tensor): Tensor {
    return F.softplus(input, this.beta, this.threshold);
  }

  override extraRepr(): string {
    return `beta=${pyFloat(this.beta)}, threshold=${pyFloat(this.threshold)}`;
  }
}

/**
 * Softmax along `dim` (`nn.Softmax`).
 *
 * ```ts
 * new Softmax(1).call(logits); // rows sum to 1
 * ```
 */
export class Softmax extends Module {
  constructor(readonly dim: number) {
    super();
  }

  override forward(input: Tensor): Tensor {
    return F.softmax(input, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/**
 * Log-softmax along `dim` (`nn.LogSoftmax`), stable for large logits.
 *
 * ```ts
 * const logp = new LogSoftmax(1).call(logits);
 * ```
 */
export class LogSoftmax extends Module {
  constructor(readonly dim: number) {
    super();
  }

  override forward(input: Tensor): Tensor {
    return F.logSoftmax(input, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

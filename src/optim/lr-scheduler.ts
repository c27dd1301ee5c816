import { ArgumentError } from '../ir/errors.js';
import type { BaseHyper, Optimizer } from './optimizer.js';

/** A JSON value: what scheduler state dicts hold. */
export type JsonValue = number | string | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** A scheduler's state: its fields, like PyTorch's `scheduler.__dict__` without the optimizer. */
export type SchedulerStateDict = Record<string, JsonValue>;

/** Python's `%`: the result has the sign of the divisor. */
function pyMod(a: number, m: number): number {
  return ((a % m) + m) % m;
}

/**
 * The base of the learning-rate schedulers (`torch.optim.lr_scheduler.LRScheduler`). On
 * construction it records each group's `initialLr` and sets the epoch-0 learning rate;
 * each `step()` (once per epoch, or per batch for OneCycleLR, after `optimizer.step()`)
 * advances `lastEpoch` and writes the new rates into the optimizer's groups.
 *
 * ```ts
 * const sched = new StepLR(opt, 30, 0.1);
 * for (let epoch = 0; epoch < 100; epoch++) {
 *   train(); // opt.step() per batch
 *   sched.step();
 * }
 * ```
 */
export abstract class LRScheduler {
  readonly optimizer: Optimizer<BaseHyper>;
  /** The index of the current epoch (0 after construction). */
  lastEpoch = -1;
  /** Each group's `initialLr`. */
  baseLrs: number[];
  protected lastLr: number[] = [];
  protected stepCount = 0;

  /**
   * NOTE: a subclass sets its own fields, then calls `this.initialStep()` at the end of its
   * constructor (JS runs subclass field initializers after `super()` returns).
   */
  constructor(optimizer: Optimizer<BaseHyper>) {
    this.optimizer = optimizer;
    for (const g of optimizer.paramGroups) g.initialLr ??= g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
  }

  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** This step's learning rate for each group (PyTorch's recursive `get_lr`). */
  protected abstract getLr(): number[];

  /** Advances one epoch and sets the groups' learning rates. */
  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    const lrs = this.getLr();
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = lrs[i]!));
    this.lastLr = lrs;
  }

  /**
   * The learning rates the last `step()` set, one per group.
   *
   * ```ts
   * sched.step();
   * console.log(sched.getLastLr()); // [0.05]
   * ```
   */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /**
   * The scheduler's state (every field except the optimizer), for checkpoints.
   *
   * ```ts
   * const saved = sched.stateDict();
   * sched2.loadStateDict(saved);
   * ```
   */
  stateDict(): SchedulerStateDict {
    const out: SchedulerStateDict = {};
    for (const [k, v] of Object.entries(this)) if (k !== 'optimizer') out[k] = structuredClone(v) as JsonValue;
    return out;
  }

  /** Restores the fields saved by `stateDict()`. */
  loadStateDict(sd: SchedulerStateDict): void {
    for (const [k, v] of Object.entries(sd)) {
      if (k === 'optimizer') continue;
      if (!(k in this)) throw new ArgumentError(`${this.constructor.name}.loadStateDict: unexpected key '${k}'`);
      Object.assign(this, { [k]: structuredClone(v) });
    }
  }

  protected groupLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
}

/**
 * Multiplies each group's learning rate by `gamma` every `stepSize` epochs
 * (`torch.optim.lr_scheduler.StepLR`): `lr = initialLr * gamma ** floor(epoch / stepSize)`.
 *
 * ```ts
 * const sched = new StepLR(opt, 10, 0.5); // lr halves every 10 epochs
 * ```
 */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;

  constructor(optimizer: Optimizer<BaseHyper>, stepSize: number, gamma = 0.1) {
    super(optimizer);
    if (!Number.isInteger(stepSize) || stepSize <= 0) throw new ArgumentError(`StepLR: stepSize must be a positive integer, got ${stepSize}`);
    this.stepSize = stepSize;
    this.gamma = gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    const lrs = this.groupLrs();
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return lrs;
    return lrs.map((lr) => lr * this.gamma);
  }
}

/**
 * Multiplies each group's learning rate by `gamma` every epoch
 * (`torch.optim.lr_scheduler.ExponentialLR`): `lr = initialLr * gamma ** epoch`.
 *
 * ```ts
 * const sched = new ExponentialLR(opt, 0.95);
 * ```
 */
export class ExponentialLR extends LRScheduler {
  gamma: number;

  constructor(optimizer: Optimizer<BaseHyper>, gamma: number) {
    super(optimizer);
    this.gamma = gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    const lrs = this.groupLrs();
    return this.lastEpoch === 0 ? lrs : lrs.map((lr) => lr * this.gamma);
  }
}

/**
 * Cosine annealing from each group's initial rate down to `etaMin` over `tMax` epochs
 * (`torch.optim.lr_scheduler.CosineAnnealingLR`, PyTorch's recursive form, which equals
 * `etaMin + (initialLr - etaMin) * (1 + cos(pi * epoch / tMax)) / 2` when nothing else
 * changes the rate).
 *
 * ```ts
 * const sched = new CosineAnnealingLR(opt, 50, 1e-5);
 * ```
 */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;

  constructor(optimizer: Optimizer<BaseHyper>, tMax: number, etaMin = 0) {
    super(optimizer);
    if (!(tMax > 0)) throw new ArgumentError(`CosineAnnealingLR: tMax must be positive, got ${tMax}`);
    this.tMax = tMax;
    this.etaMin = etaMin;
    this.initialStep();
  }

  protected getLr(): number[] {
    const { lastEpoch: e, tMax: T, etaMin } = this;
    const groups = this.optimizer.paramGroups;
    if (e === 0) return this.groupLrs();
    if (this.stepCount === 1 && e > 0) {
      return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    }
    if (pyMod(e - 1 - T, 2 * T) === 0) {
      return groups.map((g, i) => g.lr + ((this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return groups.map((g) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) + etaMin);
  }
}

export interface OneCycleOptions {
  /** The peak learning rate: one number, or one per group. */
  maxLr: number | number[];
  /** The number of steps in the cycle; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** The fraction of the cycle spent increasing the learning rate (default 0.3). */
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  /** Cycle momentum (SGD, RMSprop) or beta1 (Adam) inversely to the learning rate (default true). */
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  /** initialLr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** minLr = initialLr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Annihilate back down symmetrically, then to minLr (fast.ai's schedule) (default false). */
  threePhase?: boolean;
}

type Phase = { endStep: number; startLr: 'initialLr' | 'maxLr'; endLr: 'maxLr' | 'initialLr' | 'minLr'; startMomentum: 'max' | 'base'; endMomentum: 'max' | 'base' };

/**
 * The 1cycle policy (`torch.optim.lr_scheduler.OneCycleLR`, same phases and defaults): the
 * learning rate rises from `maxLr / divFactor` to `maxLr`, then anneals to
 * `initialLr / finalDivFactor`, while momentum (or Adam's beta1) moves the opposite way
 * between `maxMomentum` and `baseMomentum`. Call `step()` after every batch.
 *
 * ```ts
 * const sched = new OneCycleLR(opt, { maxLr: 0.1, epochs: 10, stepsPerEpoch: loader.length });
 * for (let e = 0; e < 10; e++) for (const [x, y] of loader) { trainStep(x, y); sched.step(); }
 * ```
 */
export class OneCycleLR extends LRScheduler {
  totalSteps: number;
  annealStrategy: 'cos' | 'linear';
  cycleMomentum: boolean;
  useBeta1: boolean;
  /** Per group: initial, peak and final learning rates, and the momentum range. */
  initialLrs: number[];
  maxLrs: number[];
  minLrs: number[];
  maxMomentums: number[];
  baseMomentums: number[];
  phases: Phase[];

  constructor(optimizer: Optimizer<BaseHyper>, opts: OneCycleOptions) {
    const n = optimizer.paramGroups.length;
    const perGroup = (name: string, v: number | number[]): number[] => {
      if (typeof v === 'number') return new Array<number>(n).fill(v);
      if (v.length !== n) throw new ArgumentError(`OneCycleLR: expected ${n} values for ${name}, got ${v.length}`);
      return [...v];
    };
    const { pctStart = 0.3, annealStrategy = 'cos', cycleMomentum = true, divFactor = 25, finalDivFactor = 1e4, threePhase = false } = opts;
    let total: number;
    if (opts.totalSteps !== undefined) {
      if (!Number.isInteger(opts.totalSteps) || opts.totalSteps <= 0) throw new ArgumentError(`OneCycleLR: expected a positive integer totalSteps, got ${opts.totalSteps}`);
      total = opts.totalSteps;
    } else if (opts.epochs !== undefined && opts.stepsPerEpoch !== undefined) {
      if (!Number.isInteger(opts.epochs) || opts.epochs <= 0) throw new ArgumentError(`OneCycleLR: expected a positive integer epochs, got ${opts.epochs}`);
      if (!Number.isInteger(opts.stepsPerEpoch) || opts.stepsPerEpoch <= 0) {
        throw new ArgumentError(`OneCycleLR: expected a positive integer stepsPerEpoch, got ${opts.stepsPerEpoch}`);
      }
      total = opts.epochs * opts.stepsPerEpoch;
    } else {
      throw new ArgumentError('OneCycleLR: you must define either totalSteps OR (epochs AND stepsPerEpoch)');
    }
    if (!(pctStart >= 0 && pctStart <= 1)) throw new ArgumentError(`OneCycleLR: expected a number between 0 and 1 for pctStart, got ${pctStart}`);
    if (annealStrategy !== 'cos' && annealStrategy !== 'linear') {
      throw new ArgumentError(`OneCycleLR: annealStrategy must be one of 'cos' or 'linear', got ${JSON.stringify(annealStrategy)}`);
    }
    const maxLrs = perGroup('maxLr', opts.maxLr);
    const initialLrs = maxLrs.map((m) => m / divFactor);
    // NOTE: PyTorch stores initial_lr on the groups before the base class reads it.
    optimizer.paramGroups.forEach((g, i) => (g.initialLr = initialLrs[i]!));
    const useBeta1 = 'betas' in optimizer.defaults;
    if (cycleMomentum && !useBeta1 && !('momentum' in optimizer.defaults)) {
      throw new ArgumentError('OneCycleLR: optimizer must support momentum or beta1 with the `cycleMomentum` option enabled');
    }
    super(optimizer);
    this.totalSteps = total;
    this.annealStrategy = annealStrategy;
    this.cycleMomentum = cycleMomentum;
    this.useBeta1 = useBeta1;
    this.initialLrs = initialLrs;
    this.maxLrs = maxLrs;
    this.minLrs = initialLrs.map((lr) => lr / finalDivFactor);
    this.maxMomentums = perGroup('maxMomentum', opts.maxMomentum ?? 0.95);
    this.baseMomentums = perGroup('baseMomentum', opts.baseMomentum ?? 0.85);
    this.phases = threePhase
      ? [
          { endStep: pctStart * total - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'max', endMomentum: 'base' },
          { endStep: 2 * pctStart * total - 2, startLr: 'maxLr', endLr: 'initialLr', startMomentum: 'base', endMomentum: 'max' },
          { endStep: total - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'max', endMomentum: 'max' },
        ]
      : [
          { endStep: pctStart * total - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'max', endMomentum: 'base' },
          { endStep: total - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'base', endMomentum: 'max' },
        ];
    if (cycleMomentum) this.optimizer.paramGroups.forEach((g, i) => setMomentum(g, this.maxMomentums[i]!, useBeta1));
    this.initialStep();
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'linear') return (end - start) * pct + start;
    return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  }

  protected getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new ArgumentError(`OneCycleLR: tried to step ${stepNum} times; the specified number of total steps is ${this.totalSteps}`);
    }
    const lrTable = { initialLr: this.initialLrs, maxLr: this.maxLrs, minLr: this.minLrs };
    const momTable = { max: this.maxMomentums, base: this.baseMomentums };
    return this.optimizer.paramGroups.map((g, i) => {
      let start = 0;
      let lr = 0;
      for (let k = 0; k < this.phases.length; k++) {
        const phase = this.phases[k]!;
        if (stepNum <= phase.endStep || k === this.phases.length - 1) {
          const pct = (stepNum - start) / (phase.endStep - start);
          lr = this.anneal(lrTable[phase.startLr][i]!, lrTable[phase.endLr][i]!, pct);
          if (this.cycleMomentum) {
            setMomentum(g, this.anneal(momTable[phase.startMomentum][i]!, momTable[phase.endMomentum][i]!, pct), this.useBeta1);
          }
          break;
        }
        start = phase.endStep;
      }
      return lr;
    });
  }
}

/** Sets a group's momentum, or its beta1 for Adam-style optimizers. */
function setMomentum(group: object, value: number, useBeta1: boolean): void {
  if (useBeta1) {
    if ('betas' in group && Array.isArray(group.betas)) group.betas = [value, group.betas[1]];
  } else if ('momentum' in group) {
    group.momentum = value;
  }
}

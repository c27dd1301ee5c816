import { ArgumentError } from '../ir/errors.js';
import { full } from '../frontend-eager/factories.js';
import { noGrad } from '../frontend-eager/grad-mode.js';
import { F, Tensor } from '../frontend-eager/tensor.js';
import { realizeTensors } from './optimizer.js';

function gradsOf(params: Tensor | Iterable<Tensor>): Tensor[] {
  const list = params instanceof Tensor ? [params] : [...params];
  return list.flatMap((p) => (p.grad === null ? [] : [p.grad]));
}

/**
 * Scales the gradients of `params` in place so that their total norm (the norm of the
 * per-parameter norms, `normType` 2 by default, `Infinity` for the max norm) is at most
 * `maxNorm` (`torch.nn.utils.clip_grad_norm_`): every gradient is multiplied by
 * `min(1, maxNorm / (total + 1e-6))`. Returns the total norm before clipping, a 0-d tensor.
 *
 * ```ts
 * loss.backward();
 * const norm = clipGradNorm_(params, 1.0);
 * opt.step();
 * ```
 */
export function clipGradNorm_(
  params: Tensor | Iterable<Tensor>,
  maxNorm: number,
  normType = 2,
  { errorIfNonfinite = false }: { errorIfNonfinite?: boolean } = {},
): Tensor {
  const grads = gradsOf(params);
  if (grads.length === 0) return full([], 0);
  return noGrad(() => {
    const norms = grads.map((g) => F.norm(g, normType));
    const stacked = F.stack(norms);
    const total = normType === Infinity ? F.amax(stacked) : F.norm(stacked, normType);
    if (errorIfNonfinite) {
      const v = total.item() as number;
      if (!Number.isFinite(v)) {
        throw new ArgumentError(
          `clipGradNorm_: the total norm of order ${normType} for gradients from \`parameters\` is non-finite (${v}), so it cannot be clipped. ` +
            'To disable this error and scale the gradients by the non-finite norm anyway, set errorIfNonfinite: false',
        );
      }
    }
    const coef = F.clamp(F.div(maxNorm, F.add(total, 1e-6)), null, 1);
    // NOTE: the scaled gradients are pending state, computed with the next realize
    // (the optimizer step's, in a compiled training step: one graph).
    for (const g of grads) g.mul_(coef);
    return total;
  });
}

/**
 * Clamps every gradient of `params` in place to `[-clipValue, clipValue]`
 * (`torch.nn.utils.clip_grad_value_`).
 *
 * ```ts
 * clipGradValue_(params, 0.5);
 * ```
 */
export function clipGradValue_(params: Tensor | Iterable<Tensor>, clipValue: number): void {
  const grads = gradsOf(params);
  noGrad(() => {
    for (const g of grads) g.clamp_(-clipValue, clipValue);
  });
  realizeTensors(grads);
}

let enabled = true;

/** Whether eager ops currently record autograd history. */
export function isGradEnabled(): boolean {
  return enabled;
}

/**
 * Turns history recording on or off globally (like `torch.set_grad_enabled`).
 * Prefer the scoped forms `noGrad(fn)` / `enableGrad(fn)`.
 */
export function setGradEnabled(on: boolean): void {
  enabled = on;
}

function withGrad<R>(on: boolean, fn: () => R): R {
  const prev = enabled;
  enabled = on;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/**
 * Runs `fn` without recording autograd history (`with torch.no_grad():`).
 *
 * ```ts
 * noGrad(() => w.sub_(w.grad!.mul(0.1)));
 * ```
 */
export function noGrad<R>(fn: () => R): R {
  return withGrad(false, fn);
}

/** Runs `fn` with history recording on, even inside `noGrad` (`with torch.enable_grad():`). */
export function enableGrad<R>(fn: () => R): R {
  return withGrad(true, fn);
}

let replaying = 0;

/**
 * Runs `fn` as the autograd engine computing gradients from what the forward pass saved.
 * NOTE: a tensor the user disposed stays readable there: `dispose` never frees storage that
 * autograd saved (it is shared, or it requires grad), it only closes the user's handle.
 */
export function replaySaved<R>(fn: () => R): R {
  replaying++;
  try {
    return fn();
  } finally {
    replaying--;
  }
}

/** Whether the autograd engine is reading saved tensors (see `replaySaved`). */
export function isReplaying(): boolean {
  return replaying > 0;
}

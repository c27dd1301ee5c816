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

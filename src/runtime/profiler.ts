/**
 * Per-kernel timing. Off by default; `KILN_DEBUG=2` turns it on for the whole process
 * (see debug.ts), `profile(fn)` for one call.
 *
 * ```ts
 * const { result, report } = profile(() => step(x, y));
 * console.log(formatProfile(report));
 * ```
 */
export interface KernelStat {
  label: string;
  calls: number;
  ms: number;
}

class Profiler {
  enabled = false;
  readonly stats = new Map<string, KernelStat>();

  record(label: string, ms: number): void {
    let s = this.stats.get(label);
    if (!s) this.stats.set(label, (s = { label, calls: 0, ms: 0 }));
    s.calls++;
    s.ms += ms;
  }

  report(): KernelStat[] {
    return [...this.stats.values()].sort((a, b) => b.ms - a.ms);
  }
}

export const profiler = new Profiler();

/** Runs `fn` with kernel timing on; returns its result and the per-kernel report. */
export function profile<R>(fn: () => R): { result: R; report: KernelStat[] } {
  const was = profiler.enabled;
  profiler.stats.clear();
  profiler.enabled = true;
  try {
    const result = fn();
    return { result, report: profiler.report() };
  } finally {
    profiler.enabled = was;
  }
}

export function formatProfile(report: readonly KernelStat[], top = 20): string {
  const total = report.reduce((a, s) => a + s.ms, 0);
  const lines = report.slice(0, top).map((s) => `${s.ms.toFixed(3).padStart(10)} ms ${String(s.calls).padStart(7)}x  ${((100 * s.ms) / (total || 1)).toFixed(1).padStart(5)}%  ${s.label}`);
  return [`${total.toFixed(3).padStart(10)} ms total in kernels`, ...lines].join('\n');
}

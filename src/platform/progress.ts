/**
 * A terminal progress bar with rate and ETA, redrawn in place on a TTY and printed as
 * occasional plain lines elsewhere (CI logs, pipes).
 *
 * ```ts
 * const bar = new ProgressBar('epoch 1', loader.length);
 * for (const batch of loader) { ...; bar.tick({ loss: 0.31 }); }
 * bar.done('loss 0.31  acc 97.2%');
 * ```
 */
export class ProgressBar {
  private count = 0;
  private readonly start = performance.now();
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(
    readonly label: string,
    readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    readonly width = 24,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  /** Advances by `n` steps; `info` is shown after the bar (numbers get 4 decimals). */
  tick(info: Record<string, number | string> = {}, n = 1): void {
    this.count = Math.min(this.total, this.count + n);
    const now = performance.now();
    if (this.tty && now - this.lastDraw < 50 && this.count < this.total) return;
    this.lastDraw = now;
    if (this.tty) this.stream.write(`\r${this.line(info)}\u001b[K`);
  }

  /** Finishes the bar with a summary line. */
  done(summary = ''): void {
    const secs = (performance.now() - this.start) / 1000;
    const line = `${this.label} ${this.bar(1)} ${this.total}/${this.total} ${secs.toFixed(1)}s${summary ? `  ${summary}` : ''}`;
    this.stream.write(this.tty ? `\r${line}\u001b[K\n` : `${line}\n`);
  }

  private bar(frac: number): string {
    const filled = Math.round(frac * this.width);
    return `[${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}]`;
  }

  private line(info: Record<string, number | string>): string {
    const frac = this.total ? this.count / this.total : 1;
    const secs = (performance.now() - this.start) / 1000;
    const eta = frac > 0 ? (secs / frac) * (1 - frac) : 0;
    const extra = Object.entries(info)
      .map(([k, v]) => `${k} ${typeof v === 'number' ? v.toFixed(4) : v}`)
      .join('  ');
    return `${this.label} ${this.bar(frac)} ${this.count}/${this.total} eta ${eta.toFixed(1)}s${extra ? `  ${extra}` : ''}`;
  }
}

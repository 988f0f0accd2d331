/**
 * Pearson correlation accumulated one pair at a time (Welford's co-moments),
 * so pooled figures need no arrays and stay accurate for large sums.
 */
export class Correlation {
  private n = 0;
  private mx = 0;
  private my = 0;
  private sxx = 0;
  private syy = 0;
  private sxy = 0;

  add(x: number, y: number): void {
    this.n++;
    const dx = x - this.mx;
    this.mx += dx / this.n;
    const dy = y - this.my;
    this.my += dy / this.n;
    // Constant input keeps dx = 0 exactly, so zero variance is detected exactly.
    this.sxx += dx * (x - this.mx);
    this.syy += dy * (y - this.my);
    this.sxy += dx * (y - this.my);
  }

  /** r in [−1, 1]; NaN with fewer than two pairs or when either side is constant. */
  value(): number {
    if (this.n < 2 || !(this.sxx > 0) || !(this.syy > 0)) return NaN;
    return Math.max(-1, Math.min(1, this.sxy / Math.sqrt(this.sxx * this.syy)));
  }
}

// Two-sided p-values of Student's t distribution, via the regularised incomplete beta function:
// P(|T| >= t) = I_{df/(df+t^2)}(df/2, 1/2). Written out here to avoid a statistics dependency for one function.

/** ln Γ(x) for x > 0: Stirling's series for x >= 15, the recurrence Γ(x) = Γ(x+1)/x below (accurate to ~1e-14). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma needs x > 0, got ${x}`);
  let shift = 0;
  while (x < 15) {
    shift += Math.log(x);
    x += 1;
  }
  const x2 = x * x;
  const series = 1 / (12 * x) - 1 / (360 * x * x2) + 1 / (1260 * x * x2 * x2) - 1 / (1680 * x * x2 * x2 * x2) + 1 / (1188 * x * x2 * x2 * x2 * x2);
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series - shift;
}

/** Regularised incomplete beta I_x(a, b) by its continued fraction (modified Lentz). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  // The fraction converges fast only below the mean; use the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) above it.
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const logFront = a * Math.log(x) + b * Math.log1p(-x) - Math.log(a) - (logGamma(a) + logGamma(b) - logGamma(a + b));
  // I_x = front / g with g = 1 + d1/(1 + d2/(1 + ...)), evaluated by Lentz's method from b0 = 1.
  const tiny = 1e-300;
  let g = 1;
  let c = 1;
  let d = 0;
  for (let n = 1; n <= 400; n++) {
    const m = Math.floor(n / 2);
    const dn = n % 2 === 1 ? (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)) : (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 + dn * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + dn / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = c * d;
    g *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(logFront) / g;
}

/** P(|T| >= |t|) for T ~ Student t with df degrees of freedom. */
export function studentTTwoSidedP(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be > 0, got ${df}`);
  if (Number.isNaN(t)) return Number.NaN;
  if (!Number.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

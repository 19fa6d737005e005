/**
 * Is a memory series flat? After a warm-up (the first fifth of the samples: caches, JIT and the
 * allocator settle), a least-squares line through the rest; its rise over the span is the drift,
 * and it counts as growth only when it exceeds the noise: three standard deviations of the
 * residuals, and never less than 2% of the mean (an allocator's page-level steps).
 */
export interface Trend {
  /** Samples left out at the start. */
  warmup: number;
  slopePerMinute: number;
  drift: number;
  noise: number;
  flat: boolean;
}

const round = (v: number) => Number(v.toFixed(2));

export function memoryTrend(points: [minute: number, value: number][]): Trend {
  const warmup = points.length >= 3 ? Math.max(1, Math.floor(points.length / 5)) : 0;
  const rest = points.slice(warmup);
  const n = rest.length;
  if (n < 2) return { warmup, slopePerMinute: 0, drift: 0, noise: 0, flat: true };
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const mx = mean(rest.map(([x]) => x));
  const my = mean(rest.map(([, y]) => y));
  const sxx = rest.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const slope = sxx === 0 ? 0 : rest.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx;
  const residuals = rest.map(([x, y]) => y - (my + slope * (x - mx)));
  const sd = Math.sqrt(residuals.reduce((s, r) => s + r * r, 0) / Math.max(1, n - 2));
  const drift = slope * (rest[n - 1]![0] - rest[0]![0]);
  const noise = Math.max(3 * sd, 0.02 * my);
  return { warmup, slopePerMinute: round(slope), drift: round(drift), noise: round(noise), flat: drift <= noise };
}

/** Nearest-rank percentile (`p` in 0..100) of `xs`, which need not be sorted; NaN for an empty list. */
export function percentile(xs: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(xs).sort()
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN
}

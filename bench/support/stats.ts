import { loadavg } from 'node:os'

/** Median and range of a set of timings, in the form every benchmark prints. */
export interface Spread {
  median: number
  min: number
  max: number
  n: number
}

export function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
  return { median, min: s[0] ?? NaN, max: s.at(-1) ?? NaN, n: s.length }
}

/** "123 ms (min-max 110-140, n=5)" */
export function fmt(s: Spread, unit = 'ms', digits = 0): string {
  return `${s.median.toFixed(digits)}${unit === 'x' ? '' : ' '}${unit} (min-max ${s.min.toFixed(digits)}-${s.max.toFixed(digits)}, n=${s.n})`
}

/** The machine is shared: every result line carries the load it was measured under. */
export const load = (): string =>
  `loadavg ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`

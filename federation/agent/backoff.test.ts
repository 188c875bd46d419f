import { describe, expect, it } from 'vitest'
import { fullJitterDelay } from './backoff.js'

describe('full-jitter backoff', () => {
  it('grows the ceiling exponentially up to the cap', () => {
    const o = { baseMs: 100, capMs: 1000 }
    expect([0, 1, 2, 3, 4, 10, 100].map((a) => fullJitterDelay(a, o, () => 0.999999))).toEqual([99, 199, 399, 799, 999, 999, 999])
  })
  it('draws each delay anew from [0, ceiling)', () => {
    const delays = Array.from({ length: 200 }, () => fullJitterDelay(5, { baseMs: 100, capMs: 10_000 }))
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...delays)).toBeLessThan(3200)
    expect(new Set(delays).size).toBeGreaterThan(100)
  })
})

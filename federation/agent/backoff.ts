/**
 * Full-jitter exponential backoff (AWS architecture blog; Flight Control PR #1586): each attempt waits a
 * uniformly random time in [0, min(cap, base * 2^attempt)], recomputed per attempt, so a fleet that lost its
 * hub together does not reconnect together.
 */
export interface BackoffOptions {
  baseMs: number
  capMs: number
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, capMs: 60_000 }

export function fullJitterDelay(attempt: number, o: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(o.capMs, o.baseMs * 2 ** Math.min(attempt, 30))
  return Math.floor(random() * ceiling)
}

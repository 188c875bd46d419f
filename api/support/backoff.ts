/**
 * The one reconnect/retry backoff (OVSDB client, OpenFlow connection, reconcile loop, federation agent, the hub's
 * Kubernetes list/watch): exponential with jitter, recomputed per attempt, so a fleet (or a set of reconcilers)
 * that failed together does not retry together. Full jitter (AWS architecture blog; Flight Control PR #1586)
 * draws from [0, ceiling); equal jitter draws from [ceiling/2, ceiling) for callers that must never retry at once.
 */
export interface BackoffOptions {
  /** Ceiling of the first attempt (attempt 0), doubled per attempt. */
  initialMs: number
  /** Largest ceiling. */
  maxMs: number
  /** 'full' (default): [0, ceiling); 'equal': [ceiling/2, ceiling), a floor that keeps a tight loop off. */
  jitter?: 'full' | 'equal'
}

/** The delay before retry number `attempt` (0-based), drawn with `random` (default Math.random). */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  // 2^30 already exceeds any cap; the clamp keeps the product finite for absurd attempt counts.
  const ceiling = Math.min(o.maxMs, o.initialMs * 2 ** Math.min(Math.max(attempt, 0), 30))
  const floor = o.jitter === 'equal' ? ceiling / 2 : 0
  return Math.floor(floor + random() * (ceiling - floor))
}

/**
 * "Did you mean": the candidate closest to a misspelled word by edit distance (Levenshtein: insert, delete,
 * substitute, each costs 1), used for unknown kinds and unknown flags.
 */

/** Levenshtein distance between `a` and `b`. Pure. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]!
}

/**
 * The candidate nearest to `word` (case-insensitive), if it is close enough to be a typo: at most 2 edits, and
 * fewer than half the word's length, so `x` does not "mean" `sc`. Ties go to the shorter, then the earlier candidate.
 * @example nearestWord('scc', ['sc', 'si', 'servicechains']) === 'sc'
 */
export function nearestWord(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase()
  let best: { c: string; d: number } | undefined
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase())
    if (!best || d < best.d || (d === best.d && c.length < best.c.length)) best = { c, d }
  }
  return best && best.d > 0 && best.d <= 2 && best.d * 2 < w.length ? best.c : undefined
}

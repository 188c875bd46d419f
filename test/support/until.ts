/** Waits until `fn` returns something other than undefined/false; retries thrown errors; fails naming `what`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000, stepMs = 50): Promise<T> {
  const start = Date.now()
  let lastErr: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v !== undefined && v !== false) return v
    } catch (err) {
      lastErr = err
    }
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${(lastErr as Error).message})` : ''}`)
    await new Promise((r) => setTimeout(r, stepMs))
  }
}

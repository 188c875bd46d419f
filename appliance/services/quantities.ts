/** TODO(#15): replace with api/resources/quantity.ts once it lands. Kubernetes quantities -> numbers. */
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 }
const DECIMAL: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, m: 1e-3, '': 1 }

function parse(q: string | number): number {
  if (typeof q === 'number') return q
  const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T|m)?$/.exec(q.trim())
  if (!m) throw new Error(`quantity ${JSON.stringify(q)} is not a Kubernetes quantity`)
  const unit = m[2] ?? ''
  return Number(m[1]) * (BINARY[unit] ?? DECIMAL[unit] ?? 1)
}

export function parseCpuMillis(q: string | number): number {
  return Math.round(parse(q) * 1000)
}

export function parseMemoryBytes(q: string | number): number {
  return Math.round(parse(q))
}

export function parseCount(q: string | number): number {
  return Math.round(parse(q))
}

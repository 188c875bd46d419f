/**
 * DPF's ResourceFitting, per DPU: the active flavor's `dpuResources` minus `systemReservedResources` is what
 * services may request; services are admitted oldest first (a new service never evicts a running one), and one
 * that does not fit is not started (`ResourcesDoNotFit`, naming the resource and the figures). A resource the
 * flavor does not list is not limited; with no flavor nothing is.
 */
import { parseQuantity, quantityProblem, type QuantityUnit } from '../../api/resources/quantity.js'

export type ResourceList = Readonly<Record<string, unknown>>

export interface FitResult {
  /** Keys that fit, in admission order. */
  admitted: string[]
  /** Keys that do not fit, with why. */
  rejected: Map<string, string>
  /** What is left after the admitted services (for status and `describe`). */
  remaining: Record<string, number>
}

function unitOf(resource: string): QuantityUnit {
  if (resource === 'cpu') return 'cpuMillis'
  if (resource === 'memory' || resource === 'ephemeral-storage' || resource.startsWith('hugepages-')) return 'bytes'
  return 'count'
}

/** A quantity as a number; a value that is not one (a flavor's free-form list) counts as absent. */
function amount(resource: string, q: unknown): number | undefined {
  if (typeof q !== 'string' && typeof q !== 'number') return undefined
  const unit = unitOf(resource)
  return quantityProblem(q, unit) === undefined ? parseQuantity(q, unit, resource) : undefined
}

function show(resource: string, n: number): string {
  if (resource === 'cpu') return `${n}m`
  if (resource === 'memory' || resource.startsWith('hugepages-')) return `${(n / 2 ** 20).toFixed(0)}Mi`
  return String(n)
}

/** Adds up container requests (falling back to limits) into one list per service. */
export function podRequests(containers: ReadonlyArray<{ resources?: { requests?: ResourceList; limits?: ResourceList } }>): Record<string, number> {
  const sum: Record<string, number> = {}
  for (const c of containers) {
    const req = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) }
    for (const [r, q] of Object.entries(req)) {
      const n = amount(r, q)
      if (n !== undefined) sum[r] = (sum[r] ?? 0) + n
    }
  }
  return sum
}

export function fitServices(dpuResources: ResourceList | undefined, reserved: ResourceList | undefined, candidates: ReadonlyArray<{ key: string; requests: Record<string, number> }>): FitResult {
  const remaining: Record<string, number> = {}
  for (const [r, q] of Object.entries(dpuResources ?? {})) {
    const total = amount(r, q)
    if (total !== undefined) remaining[r] = total - (amount(r, reserved?.[r]) ?? 0)
  }
  const admitted: string[] = []
  const rejected = new Map<string, string>()
  for (const c of candidates) {
    const short = Object.entries(c.requests).filter(([r, n]) => remaining[r] !== undefined && n > remaining[r]!)
    if (short.length > 0) {
      rejected.set(c.key, short.map(([r, n]) => `${r}: requests ${show(r, n)}, ${show(r, Math.max(0, remaining[r]!))} left of the flavor's dpuResources minus systemReservedResources`).join('; '))
      continue
    }
    for (const [r, n] of Object.entries(c.requests)) if (remaining[r] !== undefined) remaining[r] -= n
    admitted.push(c.key)
  }
  return { admitted, rejected, remaining }
}

/**
 * Port resolution: every `matchLabels` of a chain port must select exactly one ServiceInterface in the chain's
 * namespace on this DPU; zero or several is a problem reported against that selector (DPF fails these only at
 * runtime, with a log line; we say it in the chain's status and still program the other switches).
 */
import { matchesLabels } from '../../api/resources/selector-match.js'
import type { ChainInterface, PortProblem } from './model.js'

export function formatSelector(matchLabels: Readonly<Record<string, string>>): string {
  return Object.keys(matchLabels)
    .sort()
    .map((k) => `${k}=${matchLabels[k]}`)
    .join(',')
}

export function interfaceKey(i: { namespace: string; name: string }): string {
  return `${i.namespace}/${i.name}`
}

/** Index interfaces by namespace once per compile, so resolution is linear in ports, not ports x interfaces. */
export function indexByNamespace(interfaces: readonly ChainInterface[]): Map<string, ChainInterface[]> {
  const byNs = new Map<string, ChainInterface[]>()
  for (const i of interfaces) {
    const list = byNs.get(i.namespace) ?? []
    list.push(i)
    byNs.set(i.namespace, list)
  }
  for (const list of byNs.values()) list.sort((a, b) => a.name.localeCompare(b.name))
  return byNs
}

/**
 * Per candidate list (one namespace's interfaces, built once per compile): interfaces by `key=value` label, in
 * list order. Without it, resolving 2,000 ports among 2,000 interfaces is 4M label comparisons (~200 ms).
 */
const labelIndexes = new WeakMap<readonly ChainInterface[], Map<string, ChainInterface[]>>()

function labelIndex(candidates: readonly ChainInterface[]): Map<string, ChainInterface[]> {
  let index = labelIndexes.get(candidates)
  if (!index) {
    index = new Map()
    for (const i of candidates) {
      for (const [k, v] of Object.entries(i.labels)) {
        const key = `${k}\u0000${v}`
        const list = index.get(key)
        if (list) list.push(i)
        else index.set(key, [i])
      }
    }
    labelIndexes.set(candidates, index)
  }
  return index
}

export function resolvePort(matchLabels: Readonly<Record<string, string>>, candidates: readonly ChainInterface[]): { interface: ChainInterface } | { problem: PortProblem } {
  // Only interfaces carrying the selector's rarest pair can match; the filter below still checks every pair.
  let pool = candidates
  for (const [k, v] of Object.entries(matchLabels)) {
    const list = labelIndex(candidates).get(`${k}\u0000${v}`) ?? []
    if (list.length < pool.length) pool = list
  }
  const hits = pool.filter((i) => matchesLabels(matchLabels, i.labels))
  const selector = formatSelector(matchLabels)
  if (hits.length === 0) return { problem: { kind: 'no-match', selector } }
  if (hits.length > 1) return { problem: { kind: 'ambiguous', selector, candidates: hits.map(interfaceKey) } }
  return { interface: hits[0]! }
}

export function describeProblem(p: PortProblem): string {
  switch (p.kind) {
    case 'no-match':
      return `no ServiceInterface matches {${p.selector}}`
    case 'ambiguous':
      return `{${p.selector}} matches ${p.candidates.length} ServiceInterfaces (${p.candidates.join(', ')}); it must match exactly one`
    case 'not-attached':
      return `ServiceInterface ${p.interface} has no OpenFlow port yet`
    case 'port-in-use':
      return `ServiceInterface ${p.interface} is already a port of ${p.usedBy}`
    case 'bridge-mismatch':
      return `ServiceInterface ${p.interface} is on bridge ${p.bridge}, the switch's other ports are on ${p.expected}`
  }
}

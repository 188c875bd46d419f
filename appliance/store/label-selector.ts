/**
 * Kubernetes label selector strings: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x,y)`,
 * joined by commas (AND). Parsed once, matched against each object's labels.
 */
import { ApplianceError } from '../../api/errors.js'

export type LabelRequirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: readonly string[] }
  | { key: string; op: 'exists' | 'absent' }

export type LabelSelector = readonly LabelRequirement[]

const TERM = /^\s*(?:(!)\s*([^\s=!,()]+)|([^\s=!,()]+)\s*(?:(==|=|!=)\s*([^\s=!,()]*)|\s+(in|notin)\s*\(([^)]*)\))?)\s*$/

function splitTerms(text: string): string[] {
  const terms: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (ch === '(') depth++
    else if (ch === ')') depth--
    else if (ch === ',' && depth === 0) {
      terms.push(text.slice(start, i))
      start = i + 1
    }
  }
  terms.push(text.slice(start))
  return terms.filter((t) => t.trim() !== '')
}

/** Parses a selector string; throws `api.validation` naming the `labelSelector` parameter. */
export function parseLabelSelector(text: string): LabelSelector {
  return splitTerms(text).map((term) => {
    const m = TERM.exec(term)
    if (!m) {
      throw new ApplianceError('api.validation', `invalid label selector term "${term.trim()}"`, {
        issues: [{ path: 'labelSelector', message: `cannot parse "${term.trim()}"` }],
      })
    }
    if (m[1]) return { key: m[2]!, op: 'absent' as const }
    const key = m[3]!
    if (m[4]) return { key, op: m[4] === '!=' ? ('neq' as const) : ('eq' as const), value: m[5] ?? '' }
    if (m[6]) {
      const values = (m[7] ?? '').split(',').map((v) => v.trim()).filter((v) => v !== '')
      return { key, op: m[6] as 'in' | 'notin', values }
    }
    return { key, op: 'exists' as const }
  })
}

export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  return selector.every((r) => {
    const has = Object.hasOwn(labels, r.key)
    const v = labels[r.key]
    switch (r.op) {
      case 'eq': return has && v === r.value
      case 'neq': return !has || v !== r.value
      case 'in': return has && r.values.includes(v!)
      case 'notin': return !has || !r.values.includes(v!)
      case 'exists': return has
      case 'absent': return !has
    }
  })
}

/**
 * Kubernetes label selector strings: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x,y)`,
 * joined by commas (AND). Parsed once into the API's metav1.LabelSelector shape, so one matcher
 * (`matchesLabelSelector`, api/resources/selector-match.ts) serves strings and objects alike:
 * `a=b` is `a In (b)` and `a!=b` is `a NotIn (b)`, exactly as in Kubernetes.
 */
import { ApplianceError } from '../../api/errors.js'
import type { LabelSelector, LabelSelectorRequirement } from '../../api/resources/common.js'

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
  const matchExpressions = splitTerms(text).map((term): LabelSelectorRequirement => {
    const m = TERM.exec(term)
    if (!m) {
      throw new ApplianceError('api.validation', `invalid label selector term "${term.trim()}"`, {
        issues: [{ path: 'labelSelector', message: `cannot parse "${term.trim()}"` }],
      })
    }
    if (m[1]) return { key: m[2]!, operator: 'DoesNotExist' }
    const key = m[3]!
    if (m[4]) return { key, operator: m[4] === '!=' ? 'NotIn' : 'In', values: [m[5] ?? ''] }
    if (m[6]) {
      const values = (m[7] ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '')
      return { key, operator: m[6] === 'in' ? 'In' : 'NotIn', values }
    }
    return { key, operator: 'Exists' }
  })
  return { matchExpressions }
}

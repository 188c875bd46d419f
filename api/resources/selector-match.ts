/**
 * Kubernetes label-selector semantics, shared by the renderer (nodeSelector against DPU node labels) and the
 * chain reconciler (port matchLabels against ServiceInterface labels).
 */
import type { LabelSelector, LabelSelectorRequirement } from './common.js'

type Labels = Readonly<Record<string, string>>

/** Every `matchLabels` pair is present with the same value. */
export function matchesLabels(matchLabels: Labels | undefined, labels: Labels): boolean {
  for (const [k, v] of Object.entries(matchLabels ?? {})) if (!Object.hasOwn(labels, k) || labels[k] !== v) return false
  return true
}

function matchesRequirement(r: LabelSelectorRequirement, labels: Labels): boolean {
  const has = Object.hasOwn(labels, r.key)
  const values = r.values ?? []
  switch (r.operator) {
    case 'In':
      return has && values.includes(labels[r.key]!)
    case 'NotIn':
      return !has || !values.includes(labels[r.key]!)
    case 'Exists':
      return has
    case 'DoesNotExist':
      return !has
  }
}

/** A selector matches when all its matchLabels and all its matchExpressions do; absent or empty matches all. */
export function matchesLabelSelector(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (selector === undefined) return true
  return matchesLabels(selector.matchLabels, labels) && (selector.matchExpressions ?? []).every((r) => matchesRequirement(r, labels))
}

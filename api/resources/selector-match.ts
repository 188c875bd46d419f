/**
 * Kubernetes label-selector and node-selector semantics, shared by the renderer (nodeSelector against DPU node
 * labels), the hub (a DPUService's serviceDaemonSet.nodeSelector) and the appliance (port matchLabels against
 * ServiceInterface labels, a DPUServiceIPAM's nodeSelector).
 */
import type { LabelSelector, LabelSelectorRequirement, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm } from './common.js'

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

/** A node as a corev1.NodeSelector sees it: `matchExpressions` read its labels, `matchFields` its name. */
export interface SelectedNode {
  name: string
  labels: Labels
}

/** One NodeSelectorRequirement against a value (a label, or the node name for matchFields); `Gt`/`Lt` compare integers. */
function matchesNodeRequirement(r: NodeSelectorRequirement, value: string | undefined): boolean {
  if (r.operator === 'Gt' || r.operator === 'Lt') {
    // Kubernetes: the value must parse as an integer, else the requirement does not match.
    if (value === undefined || !/^-?\d+$/.test(value)) return false
    const have = BigInt(value)
    const want = BigInt(r.values![0]!)
    return r.operator === 'Gt' ? have > want : have < want
  }
  return matchesRequirement({ key: r.key, operator: r.operator, ...(r.values === undefined ? {} : { values: r.values }) }, value === undefined ? {} : { [r.key]: value })
}

function matchesTerm(term: NodeSelectorTerm, node: SelectedNode): boolean {
  const exprs = term.matchExpressions ?? []
  const fields = term.matchFields ?? []
  // An empty term selects no node (k8s.io/component-helpers nodeaffinity).
  if (exprs.length === 0 && fields.length === 0) return false
  return exprs.every((r) => matchesNodeRequirement(r, Object.hasOwn(node.labels, r.key) ? node.labels[r.key] : undefined)) && fields.every((r) => matchesNodeRequirement(r, node.name))
}

/**
 * corev1.NodeSelector semantics: absent selects every node; otherwise a node is selected when ANY term matches,
 * so `{nodeSelectorTerms: []}` selects none.
 * @example matchesNodeSelector({ nodeSelectorTerms: [{ matchExpressions: [{ key: 'rack', operator: 'In', values: ['a'] }] }] }, { name: 'dpu-1', labels: { rack: 'a' } }) // true
 */
export function matchesNodeSelector(selector: NodeSelector | undefined, node: SelectedNode): boolean {
  if (selector === undefined) return true
  return selector.nodeSelectorTerms.some((t) => matchesTerm(t, node))
}

/** True when the selector reads the node's name (`matchFields`), not only its labels. */
export function nodeSelectorReadsName(selector: NodeSelector | undefined): boolean {
  return selector?.nodeSelectorTerms.some((t) => (t.matchFields?.length ?? 0) > 0) ?? false
}

import { describe, expect, it } from 'vitest'
import { NodeSelectorSchema, type LabelSelector, type NodeSelector, type NodeSelectorRequirement } from './common.js'
import { matchesLabels, matchesLabelSelector, matchesNodeSelector, nodeSelectorReadsName } from './selector-match.js'

const node = { rack: 'a', 'feature.node.kubernetes.io/dpu-enabled': 'true', zone: '' }

describe('matchesLabelSelector', () => {
  it.each<[string, LabelSelector | undefined, boolean]>([
    ['absent selector', undefined, true],
    ['empty selector', {}, true],
    ['matchLabels equal', { matchLabels: { rack: 'a' } }, true],
    ['matchLabels other value', { matchLabels: { rack: 'b' } }, false],
    ['matchLabels missing key', { matchLabels: { row: '1' } }, false],
    ['matchLabels empty value present', { matchLabels: { zone: '' } }, true],
    ['In hit', { matchExpressions: [{ key: 'rack', operator: 'In', values: ['b', 'a'] }] }, true],
    ['In miss', { matchExpressions: [{ key: 'rack', operator: 'In', values: ['b'] }] }, false],
    ['In on missing key', { matchExpressions: [{ key: 'row', operator: 'In', values: ['1'] }] }, false],
    ['NotIn hit', { matchExpressions: [{ key: 'rack', operator: 'NotIn', values: ['a'] }] }, false],
    ['NotIn miss', { matchExpressions: [{ key: 'rack', operator: 'NotIn', values: ['b'] }] }, true],
    ['NotIn on missing key', { matchExpressions: [{ key: 'row', operator: 'NotIn', values: ['1'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'feature.node.kubernetes.io/dpu-enabled', operator: 'Exists' }] }, true],
    ['Exists on missing key', { matchExpressions: [{ key: 'row', operator: 'Exists' }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'row', operator: 'DoesNotExist' }] }, true],
    ['DoesNotExist on present key', { matchExpressions: [{ key: 'rack', operator: 'DoesNotExist' }] }, false],
    ['labels AND expressions', { matchLabels: { rack: 'a' }, matchExpressions: [{ key: 'row', operator: 'Exists' }] }, false],
  ])('%s', (_name, selector, want) => {
    expect(matchesLabelSelector(selector, node)).toBe(want)
  })

  it('does not match inherited properties', () => {
    expect(matchesLabels({ toString: 'x' }, {})).toBe(false)
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, {})).toBe(false)
  })
})

describe('matchesNodeSelector (corev1.NodeSelector)', () => {
  const dpu = { name: 'dpu-7', labels: { rack: 'a', gen: '3' } }
  const term = (...matchExpressions: NodeSelectorRequirement[]) => ({ matchExpressions })
  it.each<[string, NodeSelector | undefined, boolean]>([
    ['absent selector (every node)', undefined, true],
    ['no terms (no node)', { nodeSelectorTerms: [] }, false],
    ['an empty term (no node)', { nodeSelectorTerms: [{}] }, false],
    ['In hit', { nodeSelectorTerms: [term({ key: 'rack', operator: 'In', values: ['a'] })] }, true],
    ['In miss', { nodeSelectorTerms: [term({ key: 'rack', operator: 'In', values: ['b'] })] }, false],
    ['expressions in a term are ANDed', { nodeSelectorTerms: [term({ key: 'rack', operator: 'In', values: ['a'] }, { key: 'gen', operator: 'DoesNotExist' })] }, false],
    ['terms are ORed', { nodeSelectorTerms: [term({ key: 'rack', operator: 'In', values: ['b'] }), term({ key: 'gen', operator: 'Exists' })] }, true],
    ['NotIn on a missing key', { nodeSelectorTerms: [term({ key: 'row', operator: 'NotIn', values: ['1'] })] }, true],
    ['Gt hit', { nodeSelectorTerms: [term({ key: 'gen', operator: 'Gt', values: ['2'] })] }, true],
    ['Gt equal', { nodeSelectorTerms: [term({ key: 'gen', operator: 'Gt', values: ['3'] })] }, false],
    ['Lt hit', { nodeSelectorTerms: [term({ key: 'gen', operator: 'Lt', values: ['10'] })] }, true],
    ['Gt on a non-integer label', { nodeSelectorTerms: [term({ key: 'rack', operator: 'Gt', values: ['0'] })] }, false],
    ['Gt on a missing label', { nodeSelectorTerms: [term({ key: 'row', operator: 'Gt', values: ['0'] })] }, false],
    ['matchFields metadata.name hit', { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['dpu-7'] }] }] }, true],
    ['matchFields metadata.name miss', { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['dpu-8'] }] }] }, false],
  ])('%s', (_name, selector, want) => {
    expect(matchesNodeSelector(selector, dpu)).toBe(want)
  })

  it('says when a selector reads the node name', () => {
    expect(nodeSelectorReadsName({ nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['x'] }] }] })).toBe(true)
    expect(nodeSelectorReadsName({ nodeSelectorTerms: [term({ key: 'rack', operator: 'Exists' })] })).toBe(false)
    expect(nodeSelectorReadsName(undefined)).toBe(false)
  })

  it.each<[string, unknown, RegExp]>([
    ['a LabelSelector where a NodeSelector belongs', { matchLabels: { rack: 'a' } }, /nodeSelectorTerms is required: this nodeSelector is a Kubernetes NodeSelector/],
    ['Gt with a word', { nodeSelectorTerms: [term({ key: 'gen', operator: 'Gt', values: ['x'] })] }, /exactly one integer value/],
    ['matchFields on a label', { nodeSelectorTerms: [{ matchFields: [{ key: 'rack', operator: 'In', values: ['a'] }] }] }, /only the key metadata.name/],
  ])('refuses %s', (_name, input, message) => {
    const r = NodeSelectorSchema.safeParse(input)
    expect(r.success).toBe(false)
    expect(r.error!.issues.map((i) => i.message).join('; ')).toMatch(message)
  })
})

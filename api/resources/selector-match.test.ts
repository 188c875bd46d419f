import { describe, expect, it } from 'vitest'
import type { LabelSelector } from './common.js'
import { matchesLabels, matchesLabelSelector } from './selector-match.js'

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

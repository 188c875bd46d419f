import { describe, expect, it } from 'vitest'
import { matchesLabelSelector } from '../../api/resources/selector-match.js'
import { parseLabelSelector } from './label-selector.js'

const labels = { app: 'fw', tier: 'edge' }

describe('parseLabelSelector', () => {
  it.each([
    ['app=fw', true],
    ['app==fw', true],
    ['app=lb', false],
    ['app!=lb', true],
    ['zone!=a', true],
    ['app', true],
    ['!app', false],
    ['!zone', true],
    ['app in (lb, fw)', true],
    ['app notin (fw)', false],
    ['app=fw,tier=core', false],
    ['', true],
  ])('%s matches {app: fw, tier: edge}: %s', (text, want) => {
    expect(matchesLabelSelector(parseLabelSelector(text), labels)).toBe(want)
  })

  it('yields the metav1.LabelSelector shape', () => {
    expect(parseLabelSelector('a!=b, c')).toEqual({
      matchExpressions: [
        { key: 'a', operator: 'NotIn', values: ['b'] },
        { key: 'c', operator: 'Exists' },
      ],
    })
  })

  it('rejects a term it cannot parse, naming the parameter', () => {
    expect(() => parseLabelSelector('a b c')).toThrowError(/invalid label selector term "a b c"/)
  })
})

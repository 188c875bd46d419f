import { describe, expect, it } from 'vitest'
import { UsageError } from '../../api/cli.js'
import { parseTimeout, parseWaitFor } from './wait.js'

describe('dpuctl wait flags', () => {
  it('reads kubectl --for forms', () => {
    expect(parseWaitFor('condition=Ready')).toEqual({ kind: 'condition', type: 'Ready', status: 'True' })
    expect(parseWaitFor('condition=Ready=false')).toEqual({ kind: 'condition', type: 'Ready', status: 'False' })
    expect(parseWaitFor('delete')).toEqual({ kind: 'delete' })
    expect(() => parseWaitFor('jsonpath={.status}')).toThrow(UsageError)
    expect(() => parseWaitFor('condition=')).toThrow(UsageError)
  })

  it('reads durations', () => {
    expect(parseTimeout('30s')).toBe(30_000)
    expect(parseTimeout('2m')).toBe(120_000)
    expect(parseTimeout('500ms')).toBe(500)
    expect(parseTimeout('5')).toBe(5000)
    expect(() => parseTimeout('soon')).toThrow(UsageError)
  })
})

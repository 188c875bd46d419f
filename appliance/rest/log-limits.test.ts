import { describe, expect, it } from 'vitest'
import { isApplianceError } from '../../api/errors.js'
import { LogFollowAdmission } from './log-limits.js'

describe('LogFollowAdmission', () => {
  it('admits follow streams up to the per-client cap, then refuses with rest.too-many-log-follows', () => {
    const a = new LogFollowAdmission({ maxFollows: 3, maxFollowsPerClient: 2 })
    const r1 = a.admit('10.0.0.1')
    a.admit('10.0.0.1')
    let refused: unknown
    try {
      a.admit('10.0.0.1')
    } catch (err) {
      refused = err
    }
    expect(isApplianceError(refused) && refused.code).toBe('rest.too-many-log-follows')
    expect((refused as Error).message).toMatch(/2 log follow streams are already open from 10\.0\.0\.1/)
    // Another client still gets the one slot left in total, then nobody does.
    a.admit('10.0.0.2')
    expect(() => a.admit('10.0.0.3')).toThrow(/3 log follow streams are already open on this appliance/)
    r1()
    r1()
    expect(a.open).toBe(2)
    expect(() => a.admit('10.0.0.1')).not.toThrow()
  })
})

import { describe, expect, it } from 'vitest'
import { apply, applyActions, flow, gotoTable, output, setField, writeMetadata } from './builders.js'
import { FlowsInvalidError } from './errors.js'
import { checkFlow, definePipeline, defineTable, verifyFlow } from './pipeline.js'

const CLASSIFY = defineTable({ name: 'classify', id: 0, match: { in_port: 'exact', eth_type: 'exact' }, setFields: ['reg0'], next: ['forward'], missGoto: null })
const FORWARD = defineTable({
  name: 'forward',
  id: CLASSIFY.id + 1,
  exactMatch: true,
  match: { reg0: 'exact', eth_dst: 'exact' },
  requireCookie: true,
})
const PIPELINE = definePipeline([CLASSIFY, FORWARD])

describe('pipeline declarations', () => {
  it('rejects unknown fields, masks on unmaskable fields, backward or undeclared gotos, id clashes', () => {
    expect(() => defineTable({ name: 't', id: 0, match: { nope: 'exact' } as never })).toThrowError(/unknown field nope/)
    expect(() => defineTable({ name: 't', id: 0, match: { in_port: 'masked' } })).toThrowError(/in_port cannot be masked/)
    expect(() => definePipeline([{ ...FORWARD, next: ['classify'] }, CLASSIFY])).toThrowError(/cannot go back to classify/)
    expect(() => definePipeline([{ ...CLASSIFY, next: ['nowhere'] }])).toThrowError(/undeclared table nowhere/)
    expect(() => definePipeline([CLASSIFY, { ...FORWARD, id: 0 }])).toThrowError(/share id 0/)
  })
})

describe('verifyFlow', () => {
  const ok = flow({ table: 0, priority: 10, cookie: 1n, match: { in_port: 1 }, instructions: [applyActions(setField('reg0', 4)), gotoTable(1)] })

  it('accepts a conforming flow and a match-nothing default flow', () => {
    expect(verifyFlow(PIPELINE, ok)).toBe(ok)
    expect(checkFlow(PIPELINE, flow({ table: 0, priority: 0 }))).toEqual([])
    expect(checkFlow(PIPELINE, flow({ table: 1, priority: 5, cookie: 2n, match: { reg0: 4, eth_dst: '02:00:00:00:00:01' }, instructions: apply(output(2)) }))).toEqual([])
  })

  it('names every violation', () => {
    const bad = flow({
      table: 0,
      priority: 0,
      match: { in_port: 1, eth_dst: '02:00:00:00:00:01' },
      instructions: [applyActions(setField('reg1', 1)), writeMetadata(1n), gotoTable(0)],
    })
    expect(checkFlow(PIPELINE, bad).map((i) => i.message)).toEqual([
      'table classify does not match on eth_dst',
      'the default (priority 0) flow of classify must match nothing',
      'table classify may not set reg1',
      'table classify may not write metadata',
      'table classify may not go to table classify',
    ])
    expect(() => verifyFlow(PIPELINE, bad)).toThrowError(FlowsInvalidError)
  })

  it('enforces exact-match tables, unmasked fields, owner cookies and declared tables', () => {
    const issues = checkFlow(PIPELINE, flow({ table: 1, priority: 5, match: { reg0: { value: 4, mask: 0xf } } }))
    expect(issues.map((i) => i.message)).toEqual(['table forward matches reg0 exactly; no mask', 'exact-match table forward needs eth_dst', 'table forward requires an owner cookie'])
    expect(checkFlow(PIPELINE, flow({ table: 9, priority: 1 }))[0]?.message).toMatch(/table 9 is not declared/)
  })
})

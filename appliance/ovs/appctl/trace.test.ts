import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseTrace, runOfprotoTrace } from './trace.js'

const golden = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8')

describe('parseTrace', () => {
  it('reads the flow, each table step with its rule and actions, and the datapath actions', () => {
    const t = parseTrace(golden('trace-arp.txt'))
    expect(t.flow).toMatch(/^arp,in_port=1,/)
    expect(t.steps).toEqual([{ bridge: 'br0', table: 0, rule: 'in_port=1, priority 100, cookie 0x1234', actions: ['output:2'] }])
    expect(t.megaflow).toBe('recirc_id=0,eth,arp,in_port=1')
    expect(t.datapathActions).toEqual(['1'])
  })

  it('reports a table miss as a drop', () => {
    const t = parseTrace(golden('trace-drop.txt'))
    expect(t.steps).toEqual([{ bridge: 'br0', table: 0, rule: 'No match.', actions: ['drop'] }])
    expect(t.datapathActions).toEqual(['drop'])
  })

  it('splits datapath actions only at top-level commas', () => {
    const t = parseTrace('Datapath actions: set(eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02)),push_vlan(vid=5,pcp=0),3\n')
    expect(t.datapathActions).toEqual(['set(eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02))', 'push_vlan(vid=5,pcp=0)', '3'])
  })
})

describe('runOfprotoTrace', () => {
  it('refuses a flow that ovs-appctl would read as an option, without running it', async () => {
    await expect(runOfprotoTrace('/nonexistent.ctl', 'br0', '--generate')).rejects.toMatchObject({ code: 'appctl.failed' })
  })
})

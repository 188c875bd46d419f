import { describe, expect, it } from 'vitest'
import { TraceRequestSchema, tracePacketProblem } from './trace-request.js'

describe('tracePacketProblem', () => {
  it.each([
    'arp,dl_src=02:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp_op=1,arp_spa=192.0.2.1,arp_tpa=192.0.2.2',
    'dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02',
    'tcp, nw_dst=10.0.0.1, tp_dst=80',
  ])('accepts ovs-ofctl flow words: %s', (packet) => {
    expect(tracePacketProblem(packet)).toBeUndefined()
  })

  it.each<[string, string]>([
    ['', 'must not be empty'],
    ['arp,dl_src 02:00:00:00:00:01', 'word 2 "dl_src 02:00:00:00:00:01" is not an ovs-ofctl field or field=value'],
    ['--generate', 'word 1 "--generate" is not'],
    ['arp br0', 'word 1 "arp br0" is not'],
    ['arp;reboot', 'word 1 "arp;reboot" is not'],
    ['dl_src=$(x)', 'word 1 "dl_src=$(x)" is not'],
    ['arp,,tcp', 'word 2 is empty'],
    ['in_port=1,arp', 'word 1 "in_port=1": in_port is set from the FROM port'],
    ['x'.repeat(513), 'must be at most 512 characters'],
  ])('names the problem with %j', (packet, problem) => {
    expect(tracePacketProblem(packet)).toContain(problem)
  })
})

describe('TraceRequestSchema', () => {
  it('defaults the namespace and refuses a bad packet at the packet field', () => {
    expect(TraceRequestSchema.parse({ chain: 'c', from: 'p0' })).toEqual({ chain: 'c', from: 'p0', namespace: 'default' })
    const r = TraceRequestSchema.safeParse({ chain: 'c', from: 'p0', packet: 'arp,bogus word' })
    expect(r.success).toBe(false)
    expect(r.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['packet', 'word 2 "bogus word" is not an ovs-ofctl field or field=value (e.g. dl_dst=ff:ff:ff:ff:ff:ff)']])
  })
})

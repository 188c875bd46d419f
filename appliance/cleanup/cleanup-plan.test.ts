import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseDatabaseSchema, TableCache } from '../ovs/ovsdb/index.js'
import { computeCleanupPlan, describeKept, describeRemovals, isEmptyPlan, type ObservedHost } from './cleanup-plan.js'

// The schema the Debian openvswitch-common package installs (the one ovsdb-server serves in the OVS tests).
const schema = parseDatabaseSchema(JSON.parse(readFileSync('/usr/share/openvswitch/vswitch.ovsschema', 'utf8')))
const U = (n: number): string => `0a0b0c0d-0000-4000-8000-${String(n).padStart(12, '0')}`
const OWNED = ['map', [['owner', 'dpu-appliance']]]
const SV = 'sv0123456789'
const SV_UNRECORDED = 'svabcdefabcd'

/**
 * br-sfc (ours: p0 ours, svc veth ours, `mirror` foreign), br-tenant (adopted: marked, role set), br-ext (foreign:
 * `uplink` foreign, a service port of ours on it).
 */
function switchCache(): TableCache {
  const cache = new TableCache(schema, ['Open_vSwitch', 'Bridge', 'Port', 'Interface'])
  const set = (...ns: number[]) => ['set', ns.map((n) => ['uuid', U(n)])]
  cache.applyTableUpdates2({
    Open_vSwitch: { [U(1)]: { initial: { bridges: set(10, 20, 30) } } },
    Bridge: {
      [U(10)]: { initial: { name: 'br-sfc', ports: set(11, 12, 13), external_ids: OWNED } },
      [U(20)]: {
        initial: {
          name: 'br-tenant',
          ports: set(21),
          external_ids: [
            'map',
            [
              ['owner', 'dpu-appliance'],
              ['dpu-appliance-role', 'hbn'],
            ],
          ],
        },
      },
      [U(30)]: { initial: { name: 'br-ext', ports: set(31, 32), external_ids: ['map', [['owner', 'someone-else']]] } },
    },
    Port: {
      [U(11)]: { initial: { name: 'p0', external_ids: OWNED } },
      [U(12)]: { initial: { name: SV, external_ids: OWNED } },
      [U(13)]: { initial: { name: 'mirror' } },
      [U(21)]: { initial: { name: 'br-tenant', external_ids: OWNED } },
      [U(31)]: { initial: { name: 'uplink' } },
      [U(32)]: { initial: { name: SV_UNRECORDED, external_ids: OWNED } },
    },
  })
  return cache
}

const host = (netns: string[], links: Record<string, string[]>): ObservedHost => ({ netns, links: new Map(Object.entries(links).map(([k, v]) => [k, new Set(v)])) })

describe('computeCleanupPlan', () => {
  it('removes owned and adopted bridges, our ports on foreign bridges, and nothing foreign', () => {
    const plan = computeCleanupPlan(switchCache(), [], host([], { '': [] }), { serviceNetnsPrefix: '' })
    expect(plan.bridges).toEqual([
      { name: 'br-sfc', uuid: U(10), foreignPorts: ['mirror'] },
      { name: 'br-tenant', uuid: U(20), foreignPorts: [] },
    ])
    expect(plan.ports).toEqual([{ name: SV_UNRECORDED, uuid: U(32), bridge: 'br-ext', bridgeUuid: U(30) }])
    expect(plan.kept.bridges).toEqual(['br-ext'])
    expect(describeRemovals(plan)).toEqual(['bridge br-sfc (with foreign port(s) mirror on it)', 'bridge br-tenant', `port ${SV_UNRECORDED} from bridge br-ext`])
  })

  it('removes recorded veths and those behind owned service ports (in the vswitchd namespace), if they exist', () => {
    const recorded = [
      { kind: 'veth' as const, name: SV, netns: 'ovs-ns' },
      { kind: 'veth' as const, name: 'sv9999999999', netns: 'ovs-ns' }, // recorded, but already gone
    ]
    const plan = computeCleanupPlan(switchCache(), recorded, host(['ovs-ns'], { '': ['lo'], 'ovs-ns': [SV, SV_UNRECORDED, 'lo'] }), { ovsNetns: 'ovs-ns', serviceNetnsPrefix: '' })
    expect(plan.veths).toEqual([
      { kind: 'veth', name: SV, netns: 'ovs-ns' },
      { kind: 'veth', name: SV_UNRECORDED, netns: 'ovs-ns' },
    ])
    expect(plan.staleRecords).toEqual([{ kind: 'veth', name: 'sv9999999999', netns: 'ovs-ns' }])
  })

  it('removes recorded namespaces only; an unrecorded <prefix>svc-* one is reported as kept', () => {
    const recorded = [
      { kind: 'netns' as const, name: 'dpu-a-svc-fw' },
      { kind: 'netns' as const, name: 'custom-ns' }, // from the netns annotation: any name, still ours
      { kind: 'netns' as const, name: 'dpu-a-svc-gone' },
    ]
    const plan = computeCleanupPlan(undefined, recorded, host(['dpu-a-svc-fw', 'custom-ns', 'dpu-a-svc-theirs', 'svc-other', 'unrelated'], { '': [] }), {
      serviceNetnsPrefix: 'dpu-a-',
    })
    expect(plan.netns).toEqual(['custom-ns', 'dpu-a-svc-fw'])
    expect(plan.kept.netns).toEqual(['dpu-a-svc-theirs'])
    expect(plan.staleRecords).toEqual([{ kind: 'netns', name: 'dpu-a-svc-gone' }])
    expect(describeKept(plan)).toEqual(['netns dpu-a-svc-theirs (not recorded as created by this appliance; remove it by hand if it is a leftover)'])
  })

  it('is empty on a machine with nothing of ours', () => {
    const plan = computeCleanupPlan(undefined, [], host(['svc-x'], { '': ['lo', 'eth0'] }), { serviceNetnsPrefix: '' })
    expect(isEmptyPlan(plan)).toBe(true)
    expect(plan.kept.netns).toEqual(['svc-x'])
  })
})

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CacheInconsistentError, TableCache } from './cache.js'
import { OvsdbProtocolError } from './errors.js'
import { parseDatabaseSchema } from './schema.js'

// The schema the Debian openvswitch-common package installs (the same one ovsdb-server serves in the tests).
const schema = parseDatabaseSchema(JSON.parse(readFileSync('/usr/share/openvswitch/vswitch.ovsschema', 'utf8')))
const TABLES = ['Open_vSwitch', 'Bridge', 'Port', 'Interface']
const U = (n: number): string => `0a0b0c0d-0000-4000-8000-${String(n).padStart(12, '0')}`

function seeded(): TableCache {
  const cache = new TableCache(schema, TABLES)
  cache.applyTableUpdates2({
    Open_vSwitch: { [U(1)]: { initial: { bridges: ['uuid', U(2)], next_cfg: 3, cur_cfg: 3 } } },
    Bridge: {
      [U(2)]: {
        initial: {
          name: 'br-sfc',
          datapath_type: 'netdev',
          ports: [
            'set',
            [
              ['uuid', U(3)],
              ['uuid', U(4)],
            ],
          ],
          external_ids: ['map', [['owner', 'dpu']]],
        },
      },
    },
    Port: {
      [U(3)]: { initial: { name: 'p0', interfaces: ['uuid', U(5)] } },
      [U(4)]: { initial: { name: 'p1', interfaces: ['uuid', U(6)] } },
    },
    Interface: {
      [U(5)]: { initial: { name: 'p0', ofport: 1 } },
      [U(6)]: { initial: { name: 'p1', type: 'internal', ofport: ['set', []] } },
    },
  })
  return cache
}

describe('TableCache', () => {
  it('decodes initial rows into typed rows, filling omitted default-valued columns', () => {
    const cache = seeded()
    const br = cache.bridge('br-sfc')!
    expect(br).toMatchObject({ _uuid: U(2), name: 'br-sfc', datapath_type: 'netdev', ports: [U(3), U(4)], fail_mode: null, protocols: [], external_ids: { owner: 'dpu' } })
    expect(cache.openVSwitch()).toMatchObject({ bridges: [U(2)], cur_cfg: 3, external_ids: {} })
    expect(cache.interface('p0')!.ofport).toBe(1)
    expect(cache.interface('p1')).toMatchObject({ ofport: null, type: 'internal', error: null })
    expect(cache.portsOf(br).map((p) => p.name)).toEqual(['p0', 'p1'])
    expect(cache.interfacesOf(cache.port('p0')!).map((i) => i.name)).toEqual(['p0'])
  })

  it('applies update2 modify diffs: set symmetric difference, map keys, scalars', () => {
    const cache = seeded()
    const before = cache.bridge('br-sfc')!
    const changes = cache.applyTableUpdates2({
      Bridge: {
        [U(2)]: {
          modify: {
            ports: ['uuid', U(3)],
            external_ids: [
              'map',
              [
                ['owner', 'dpu'],
                ['dpf-id', 'x'],
              ],
            ],
            fail_mode: 'secure',
          },
        },
      },
      Port: { [U(3)]: { delete: null } },
      Interface: { [U(5)]: { delete: null } },
    })
    expect(changes.map((c) => `${c.kind} ${c.table} ${c.uuid}`)).toEqual([`modify Bridge ${U(2)}`, `delete Port ${U(3)}`, `delete Interface ${U(5)}`])
    const after = cache.bridge('br-sfc')!
    expect(after).toMatchObject({ ports: [U(4)], external_ids: { 'dpf-id': 'x' }, fail_mode: 'secure' })
    // Snapshots: the old row object is untouched and is what the change reports.
    expect(before.ports).toEqual([U(3), U(4)])
    expect(changes[0]!.old).toBe(before)
    expect(changes[0]!.new).toBe(after)
    expect(cache.port('p0')).toBeUndefined()
    expect(cache.interface('p0')).toBeUndefined()
  })

  it('moves the name index when a row is renamed', () => {
    const cache = seeded()
    cache.applyTableUpdates2({ Port: { [U(4)]: { modify: { name: 'p1-renamed' } } } })
    expect(cache.port('p1')).toBeUndefined()
    expect(cache.port('p1-renamed')!._uuid).toBe(U(4))
  })

  it('leaves the cache untouched when a message cannot be applied, and says why', () => {
    const cache = seeded()
    const apply = (): unknown =>
      cache.applyTableUpdates2({
        Bridge: { [U(2)]: { modify: { name: 'renamed' } } },
        Port: { [U(99)]: { modify: { name: 'ghost' } } },
      })
    expect(apply).toThrow(CacheInconsistentError)
    expect(cache.bridge('br-sfc')).toBeDefined()
    expect(() => cache.applyTableUpdates2({ Bridge: { [U(2)]: { insert: { name: 'dup' } } } })).toThrow(/already holds/)
    expect(() => cache.applyTableUpdates2({ Bridge: { [U(7)]: { insert: {}, delete: null } } })).toThrow(OvsdbProtocolError)
    expect(() => cache.applyTableUpdates2({ Bridge: { [U(2)]: { modify: { ports: 'not-a-uuid' } } } })).toThrow(/uuid atom/)
    expect(cache.bridge('br-sfc')!.ports).toEqual([U(3), U(4)])
  })

  it('ignores tables it does not monitor', () => {
    const cache = seeded()
    expect(cache.applyTableUpdates2({ Mirror: { [U(50)]: { insert: { name: 'm' } } } })).toEqual([])
  })

  it('applies RFC 7047 table-updates (monitor v1): new values replace, no diffs', () => {
    const cache = seeded()
    const changes = cache.applyTableUpdates({
      Bridge: {
        [U(2)]: {
          old: {
            ports: [
              'set',
              [
                ['uuid', U(3)],
                ['uuid', U(4)],
              ],
            ],
          },
          new: { name: 'br-sfc', ports: ['uuid', U(4)] },
        },
      },
      Port: { [U(3)]: { old: { name: 'p0' } }, [U(8)]: { new: { name: 'p8', interfaces: ['uuid', U(9)] } } },
    })
    expect(changes.map((c) => c.kind)).toEqual(['modify', 'delete', 'insert'])
    expect(cache.bridge('br-sfc')!.ports).toEqual([U(4)])
    expect(cache.port('p8')!.interfaces).toEqual([U(9)])
  })

  it('full resync: diffs a fresh cache against the held rows, deletes included', () => {
    const cache = seeded()
    const fresh = cache.buildEmpty()
    fresh.applyTableUpdates2({
      Open_vSwitch: { [U(1)]: { initial: { bridges: ['uuid', U(2)], next_cfg: 3, cur_cfg: 3 } } },
      Bridge: { [U(2)]: { initial: { name: 'br-sfc', datapath_type: 'netdev', ports: ['uuid', U(4)], external_ids: ['map', [['owner', 'dpu']]] } } },
      Port: { [U(4)]: { initial: { name: 'p1', interfaces: ['uuid', U(6)] } }, [U(10)]: { initial: { name: 'p10', interfaces: ['uuid', U(6)] } } },
      Interface: { [U(6)]: { initial: { name: 'p1', type: 'internal', ofport: ['set', []] } } },
    })
    const changes = cache.replaceWith(fresh)
    expect(changes.map((c) => `${c.kind} ${c.table} ${c.uuid}`).sort()).toEqual([`modify Bridge ${U(2)}`, `delete Port ${U(3)}`, `insert Port ${U(10)}`, `delete Interface ${U(5)}`].sort())
    expect(cache.port('p0')).toBeUndefined()
    expect(cache.port('p10')).toBeDefined()
    expect(cache.interfaces().map((i) => i.name)).toEqual(['p1'])
  })
})

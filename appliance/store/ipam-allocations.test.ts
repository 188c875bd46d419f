import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore, type Store } from './store.js'

let dir: string
let store: Store
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ipam-store-test-'))
  store = openStore(join(dir, 'state.db'))
})
afterEach(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

const block = ['10.0.0.1', '10.0.0.2', '10.0.0.4']
const addressOf = (pool: string, iface: string) => store.ipamAllocations.allocate(pool, iface, block)?.address

describe('IPAM allocations', () => {
  it('hands out the first free candidate, one per interface, and the same one again when asked again', () => {
    expect(addressOf('ns/pool', 'ns/a')).toBe('10.0.0.1')
    expect(addressOf('ns/pool', 'ns/b')).toBe('10.0.0.2')
    expect(addressOf('ns/pool', 'ns/a')).toBe('10.0.0.1')
    // Another pool is another address space.
    expect(addressOf('ns/other', 'ns/b')).toBe('10.0.0.1')
    expect(store.ipamAllocations.get('ns/pool', 'ns/b')?.address).toBe('10.0.0.2')
  })

  it('is bounded by the candidates: exhausted until an interface gives its address back', () => {
    for (const i of ['a', 'b', 'c']) expect(addressOf('ns/pool', `ns/${i}`)).toBeDefined()
    expect(store.ipamAllocations.allocate('ns/pool', 'ns/d', block)).toBeUndefined()
    expect(store.ipamAllocations.get('ns/pool', 'ns/d')).toBeUndefined()
    expect(store.ipamAllocations.release('ns/pool', 'ns/b')).toBe(true)
    expect(store.ipamAllocations.release('ns/pool', 'ns/b')).toBe(false)
    expect(addressOf('ns/pool', 'ns/d')).toBe('10.0.0.2')
  })

  it('keeps every allocation across a reopened store file', () => {
    addressOf('ns/pool', 'ns/b')
    addressOf('ns/pool', 'ns/a')
    store.close()
    store = openStore(join(dir, 'state.db'))
    expect(store.ipamAllocations.list().map(({ createdAt: _, ...a }) => a)).toEqual([
      { pool: 'ns/pool', interface: 'ns/a', address: '10.0.0.2' },
      { pool: 'ns/pool', interface: 'ns/b', address: '10.0.0.1' },
    ])
    expect(addressOf('ns/pool', 'ns/a')).toBe('10.0.0.2')
    expect(addressOf('ns/pool', 'ns/c')).toBe('10.0.0.4')
    expect(store.dump().ipamAllocations).toHaveLength(3)
  })
})

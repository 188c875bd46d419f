/**
 * monitor_cond_since resume against a single-node clustered database (standalone databases always answer
 * found=false). Per reference/ovs.md §10.5 the server keeps enough history only once the database holds enough
 * atoms, so the test first writes 20 bridges x 50 external_ids entries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startOvsSandbox, type OvsSandbox } from '../../../bin/demo/ovs-sandbox.js'
import { startSocketProxy, type SocketProxy } from '../../../test/support/socket-proxy.js'
import type { RowChange } from './cache.js'
import { OvsdbClient, type SyncInfo } from './client.js'
import { ZERO_UUID } from './notation.js'
import { whereName } from './txn.js'

const TABLES = ['Open_vSwitch', 'Bridge', 'Port', 'Interface'] as const
function snapshot(client: OvsdbClient): Record<string, unknown> {
  // Sets have no order: compare them sorted.
  const norm = (row: object): object => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Array.isArray(v) ? [...v].sort() : v]))
  return Object.fromEntries(TABLES.map((t) => [t, Object.fromEntries([...client.cache.rows(t)].sort(([a], [b]) => a.localeCompare(b)).map(([u, r]) => [u, norm(r)]))]))
}

describe('OvsdbClient resume on a clustered database', () => {
  let ovs: OvsSandbox
  let proxy: SocketProxy
  let client: OvsdbClient
  let writer: OvsdbClient

  beforeAll(async () => {
    ovs = await startOvsSandbox({ clustered: true, vswitchd: false })
    proxy = await startSocketProxy(ovs.dbSock)
    // The writer talks to the server directly; the client under test goes through the proxy we can cut.
    writer = await OvsdbClient.connect({ remote: ovs.dbRemote })
    const txn = writer.txn()
    const bridges = Array.from({ length: 20 }, (_, b) =>
      txn.insert('Bridge', { name: `br${b}`, external_ids: Object.fromEntries(Array.from({ length: 50 }, (_, k) => [`key${k}`, `value-${b}-${k}`])) }),
    )
    txn.mutate('Open_vSwitch', [], [['bridges', 'insert', bridges]])
    await writer.transact(txn)
    client = await OvsdbClient.connect({ remote: proxy.remote, backoff: { initialMs: 20, maxMs: 100 } })
  })
  afterAll(async () => {
    client?.close()
    writer?.close()
    await proxy?.close()
    await ovs?.stop()
  })

  it('resumes from the last transaction id with found=true and receives only the delta', async () => {
    expect(client.cache.bridges()).toHaveLength(20)
    // A change seen live, so the client holds a recent txn id.
    await writer.transact(writer.txn().mutate('Bridge', whereName('br0'), [['external_ids', 'insert', { live: 'yes' }]]))
    for (let i = 0; i < 100 && client.cache.bridge('br0')!.external_ids.live !== 'yes'; i++) await new Promise((r) => setTimeout(r, 10))
    expect(client.lastTransactionId).toBeDefined()
    expect(client.lastTransactionId).not.toBe(ZERO_UUID)

    // Cut the client off, change three rows (two new bridges, the root row's bridges column) and one existing
    // bridge, then let it back in.
    const disconnected = new Promise<void>((resolve) => client.on('disconnected', () => resolve()))
    proxy.refuse = true
    proxy.dropAll()
    await disconnected
    const txn = writer.txn()
    const added = [txn.insert('Bridge', { name: 'br-new1' }), txn.insert('Bridge', { name: 'br-new2' })]
    txn.mutate('Open_vSwitch', [], [['bridges', 'insert', added]])
    txn.update('Bridge', whereName('br5'), { external_ids: { only: 'this' } })
    await writer.transact(txn)

    const events: RowChange[] = []
    const off = client.onChange((c) => events.push(...c))
    const resynced = new Promise<SyncInfo>((resolve) => client.on('resynced', resolve))
    proxy.refuse = false
    const info = await resynced
    off()

    expect(info).toEqual({ method: 'monitor_cond_since', resumed: true, replyRows: 4, changes: 4 })
    expect(events.map((e) => `${e.kind} ${e.table} ${e.new?.name ?? ''}`).sort()).toEqual(['insert Bridge br-new1', 'insert Bridge br-new2', 'modify Bridge br5', 'modify Open_vSwitch '].sort())
    expect(client.cache.bridge('br5')!.external_ids).toEqual({ only: 'this' })
    expect(snapshot(client)).toEqual(snapshot(writer))
  })

  it('resumes across an ovsdb-server restart with an empty delta (clustered: history is rebuilt from the log)', async () => {
    const disconnected = new Promise<void>((resolve) => client.on('disconnected', () => resolve()))
    const resynced = new Promise<SyncInfo>((resolve) => client.on('resynced', resolve))
    await ovs.killOvsdb()
    await disconnected
    await ovs.startOvsdb()
    const info = await resynced
    expect(info.method).toBe('monitor_cond_since')
    const fresh = await OvsdbClient.connect({ remote: ovs.dbRemote })
    try {
      expect(snapshot(client)).toEqual(snapshot(fresh))
    } finally {
      fresh.close()
    }
    // Observed on OVS 3.1: the restarted server finds our txn id in the history it replays from the raft log.
    expect(info).toMatchObject({ resumed: true, replyRows: 0, changes: 0 })
  })
})

import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startOvsSandbox, type OvsSandbox } from '../../../bin/demo/ovs-sandbox.js'
import { startSocketProxy } from '../../../test/support/socket-proxy.js'
import type { RowChange } from './cache.js'
import { OvsdbClient } from './client.js'
import { OvsdbClosedError, OvsdbConstraintViolationError, OvsdbNotConnectedError, OvsdbReferentialIntegrityError, OvsdbSchemaError, OvsdbSyntaxError, OvsdbTimedOutError } from './errors.js'
import { isRetryable } from '../../../api/errors.js'
import { whereName, whereUuid } from './txn.js'

const run = promisify(execFile)
const TABLES = ['Open_vSwitch', 'Bridge', 'Port', 'Interface'] as const

function snapshot(client: OvsdbClient): Record<string, unknown> {
  // Sets have no order: compare them sorted.
  const norm = (row: object): object => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Array.isArray(v) ? [...v].sort() : v]))
  return Object.fromEntries(TABLES.map((t) => [t, Object.fromEntries([...client.cache.rows(t)].sort(([a], [b]) => a.localeCompare(b)).map(([u, r]) => [u, norm(r)]))]))
}

/** Resolve with the first change batch for which `pred` holds. */
function nextChanges(client: OvsdbClient, pred: (changes: RowChange[]) => boolean, timeoutMs = 10_000): Promise<RowChange[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error('no matching change batch'))
    }, timeoutMs)
    const off = client.onChange((changes) => {
      if (!pred(changes)) return
      clearTimeout(timer)
      off()
      resolve(changes)
    })
  })
}

function once<T>(subscribe: (cb: (v: T) => void) => () => void, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error('event did not happen in time'))
    }, timeoutMs)
    const off = subscribe((v) => {
      clearTimeout(timer)
      off()
      resolve(v)
    })
  })
}

/** `ovs-vsctl --format=json list <table>` as objects keyed by column name (values in OVSDB JSON notation). */
async function vsctlList(ovs: OvsSandbox, table: string): Promise<Record<string, unknown>[]> {
  const out = JSON.parse(await ovs.vsctl('--format=json', 'list', table)) as { headings: string[]; data: unknown[][] }
  return out.data.map((row) => Object.fromEntries(out.headings.map((h, i) => [h, row[i]])))
}

// Bridges and internal ports of a netdev datapath are tap devices in vswitchd's network namespace: this suite's
// vswitchd gets a private one so it cannot collide with other suites' sandboxes (names are also prefixed `dbt-`).
describe('OvsdbClient against ovsdb-server and ovs-vswitchd', () => {
  let ovs: OvsSandbox
  let client: OvsdbClient
  beforeAll(async () => {
    ovs = await startOvsSandbox({ privateNetns: true })
    client = await OvsdbClient.connect({ remote: ovs.dbRemote, probeIntervalMs: 0 })
  })
  afterAll(async () => {
    client?.close()
    await ovs?.stop()
  })

  it('reads the schema, lists databases and holds the root row', async () => {
    expect(client.state).toBe('connected')
    expect(client.lastSync).toMatchObject({ method: 'monitor_cond_since', resumed: false })
    expect(await client.listDatabases()).toEqual(expect.arrayContaining(['Open_vSwitch', '_Server']))
    expect(await client.echo('a', 1)).toEqual(['a', 1])
    expect(client.schema.version).toMatch(/^\d+\.\d+\.\d+$/)
    const root = client.cache.openVSwitch()!
    const [listed] = await vsctlList(ovs, 'Open_vSwitch')
    expect(root._uuid).toBe((listed!._uuid as [string, string])[1])
  })

  it('follows changes made by another client (ovs-vsctl) and agrees with its listing', async () => {
    const seen = nextChanges(client, (c) => c.some((x) => x.table === 'Interface' && x.new?.name === 'dbt-vp1'))
    await ovs.vsctl(
      'add-br',
      'dbt-v',
      '--',
      'set',
      'bridge',
      'dbt-v',
      'datapath_type=netdev',
      '--',
      'add-port',
      'dbt-v',
      'dbt-vp1',
      '--',
      'set',
      'interface',
      'dbt-vp1',
      'type=internal',
      'external_ids:dpf-id=a1',
    )
    await seen
    const iface = client.cache.interface('dbt-vp1')!
    expect(iface).toMatchObject({ type: 'internal', external_ids: { 'dpf-id': 'a1' } })
    const listed = (await vsctlList(ovs, 'Interface')).find((r) => r.name === 'dbt-vp1')!
    expect(iface._uuid).toBe((listed._uuid as [string, string])[1])
    expect(iface.ofport).toBe(listed.ofport)
    const br = client.cache.bridge('dbt-v')!
    expect(
      client.cache
        .portsOf(br)
        .map((p) => p.name)
        .sort(),
    ).toEqual(['dbt-v', 'dbt-vp1'])
  })

  it('creates a bridge, port and interface in one transaction, emits them in one batch, waits for vswitchd', async () => {
    const batches: RowChange[][] = []
    const off = client.onChange((c) => batches.push(c))
    const txn = client.txn()
    const iface = txn.insert('Interface', { name: 'dbt-tp0', type: 'internal', external_ids: { 'dpf-id': 'dbt-tp0' } })
    const port = txn.insert('Port', { name: 'dbt-tp0', interfaces: [iface] })
    const brPort = txn.insert('Port', { name: 'dbt-br', interfaces: [txn.insert('Interface', { name: 'dbt-br', type: 'internal' })] })
    const br = txn.insert('Bridge', { name: 'dbt-br', datapath_type: 'netdev', fail_mode: 'secure', ports: [port, brPort] })
    txn.mutate('Open_vSwitch', [], [['bridges', 'insert', [br]]])
    txn.incrementNextCfg()
    txn.comment('test: add dbt-br')
    const result = await client.transact(txn)
    off()
    // ovsdb-server sends the update before the reply: the cache already holds the rows.
    expect(client.cache.bridge('dbt-br')?._uuid).toBe(result.uuidOf(br))
    const inserts = batches[0]!.filter((c) => c.kind === 'insert').map((c) => `${c.table}:${c.new!.name}`)
    expect(inserts.sort()).toEqual(['Bridge:dbt-br', 'Interface:dbt-br', 'Interface:dbt-tp0', 'Port:dbt-br', 'Port:dbt-tp0'])
    expect(result.nextCfg).toBeGreaterThan(0)
    await client.waitForCurCfg(result.nextCfg!)
    expect(client.cache.openVSwitch()!.cur_cfg).toBeGreaterThanOrEqual(result.nextCfg!)
    // XXX: no ofport check here: netdev datapaths of concurrent sandboxes share the `ovs-netdev` tap in one netns,
    // so vswitchd may fail to open its datapath when another test runs one; cur_cfg still advances.
    expect((await ovs.vsctl('get', 'bridge', 'dbt-br', 'fail_mode')).trim()).toBe('secure')
  })

  it('surfaces a referential integrity violation with the op that inserted the dangling row', async () => {
    const txn = client.txn()
    const port = txn.insert('Port', { name: 'dangling', interfaces: ['0a0b0c0d-0000-4000-8000-000000000001'] })
    txn.mutate('Bridge', whereName('dbt-br'), [['ports', 'insert', [port]]])
    const err = await client.transact(txn).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OvsdbReferentialIntegrityError)
    expect(err).toMatchObject({ index: 0, retryable: false, operation: { op: 'insert', table: 'Port', rowName: 'dangling', atCommit: true } })
    expect((err as Error).message).toMatch(/references nonexistent row 0a0b0c0d-0000-4000-8000-000000000001/)
    expect(client.cache.port('dangling')).toBeUndefined()
  })

  it('surfaces a referential integrity violation on delete with the deleting op', async () => {
    const iface = client.cache.interface('dbt-tp0')!
    const txn = client.txn().comment('delete a referenced interface')
    txn.delete('Interface', whereUuid(iface._uuid))
    const err = await client.transact(txn).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OvsdbReferentialIntegrityError)
    expect(err).toMatchObject({ index: 1, operation: { op: 'delete', table: 'Interface' } })
  })

  it('surfaces a duplicate bridge name (constraint violation at commit) with the insert that caused it', async () => {
    const txn = client.txn()
    const br = txn.insert('Bridge', { name: 'dbt-br' })
    txn.mutate('Open_vSwitch', [], [['bridges', 'insert', [br]]])
    const err = await client.transact(txn).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OvsdbConstraintViolationError)
    expect(err).toMatchObject({ code: 'ovsdb.operation-failed', index: 0, operation: { table: 'Bridge', rowName: 'dbt-br' } })
    expect((err as OvsdbConstraintViolationError).details).toMatch(/identical values \(dbt-br\) for index on column "name"/)
  })

  it('fails a wait on a stale row (optimistic concurrency) as a retryable conflict on that op', async () => {
    const stale = client.cache.bridge('dbt-br')!
    await ovs.vsctl('--no-wait', 'set', 'bridge', 'dbt-br', 'external_ids:changed=yes')
    for (let i = 0; i < 200 && client.cache.bridge('dbt-br')!.external_ids.changed !== 'yes'; i++) await new Promise((r) => setTimeout(r, 10))
    const txn = client.txn()
    txn.comment('verify then write')
    txn.verify('Bridge', stale, ['external_ids'])
    txn.update('Bridge', whereUuid(stale._uuid), { external_ids: { overwritten: 'yes' } })
    const err = await client.transact(txn).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OvsdbTimedOutError)
    expect(err).toMatchObject({ code: 'ovsdb.conflict', index: 1, operation: { op: 'wait', table: 'Bridge', columns: ['external_ids'] } })
    expect(isRetryable(err)).toBe(true)
    expect(client.cache.bridge('dbt-br')!.external_ids).toEqual({ changed: 'yes' })
    // With the fresh row the same transaction goes through.
    const retry = client.txn()
    retry.verify('Bridge', client.cache.bridge('dbt-br')!, ['external_ids'])
    retry.mutate('Bridge', whereUuid(stale._uuid), [['external_ids', 'insert', { overwritten: 'yes' }]])
    await client.transact(retry)
    expect(client.cache.bridge('dbt-br')!.external_ids).toEqual({ changed: 'yes', overwritten: 'yes' })
  })

  it('reports a server-side syntax error with its op index', async () => {
    const err = await client
      .transact([
        { op: 'comment', comment: 'x' },
        { op: 'insert', table: 'Port', row: { name: 'p', interfaces: ['set', []] } },
      ])
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OvsdbSyntaxError)
    expect(err).toMatchObject({ index: 1, details: expect.stringMatching(/set must have 1 to/) })
  })

  it('answers the server inactivity probe and stays connected past 10 s of silence', async () => {
    let disconnected = false
    const off = client.on('disconnected', () => (disconnected = true))
    await new Promise((r) => setTimeout(r, 11_000))
    off()
    expect(disconnected).toBe(false)
    expect(client.state).toBe('connected')
    expect(await client.request('echo', ['still', 'here'])).toEqual(['still', 'here'])
  }, 20_000)

  it("fails connect with the server's own error, not a timeout, on an unknown database or table", async () => {
    await expect(OvsdbClient.connect({ remote: ovs.dbRemote, database: 'Nope' })).rejects.toMatchObject({
      code: 'ovsdb.protocol',
      message: expect.stringMatching(/get_schema failed: unknown database/),
    })
    await expect(OvsdbClient.connect({ remote: ovs.dbRemote, tables: ['Bridge', 'NoSuchTable'] })).rejects.toBeInstanceOf(OvsdbSchemaError)
    await expect(OvsdbClient.connect({ remote: ovs.dbRemote, tables: [{ table: 'Bridge', columns: ['name'] }] })).rejects.toThrow(/typed Bridge rows need column ports/)
  })

  it('connects over tcp too', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000)
    const tcp = await startOvsSandbox({ vswitchd: false, tcpPort: port })
    try {
      const viaTcp = await OvsdbClient.connect({ remote: `tcp:127.0.0.1:${port}` })
      expect(viaTcp.cache.openVSwitch()).toBeDefined()
      viaTcp.close()
    } finally {
      await tcp.stop()
    }
  })

  it('keeps retrying while the server is absent and fails connect with a timeout naming the last error', async () => {
    const err = await OvsdbClient.connect({ remote: `unix:${ovs.rundir}/absent.sock`, connectTimeoutMs: 500, backoff: { initialMs: 10, maxMs: 50 } }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ovsdb.timeout', retryable: true, context: { lastError: expect.stringMatching(/cannot connect/) } })
  })

  it('cancels its monitor: the cache stops following', async () => {
    const other = await OvsdbClient.connect({ remote: ovs.dbRemote })
    try {
      await other.cancelMonitor()
      expect(other.monitorId).toBeUndefined()
      await ovs.vsctl('--no-wait', 'add-br', 'dbt-cancel')
      for (let i = 0; i < 100 && !client.cache.bridge('dbt-cancel'); i++) await new Promise((r) => setTimeout(r, 10))
      expect(client.cache.bridge('dbt-cancel')).toBeDefined()
      expect(other.cache.bridge('dbt-cancel')).toBeUndefined()
    } finally {
      other.close()
    }
  })

  it('rejects work after close with a non-retryable closed error', async () => {
    const other = await OvsdbClient.connect({ remote: ovs.dbRemote })
    other.close()
    const err = await other.transact([{ op: 'comment', comment: 'x' }]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OvsdbClosedError)
    expect(isRetryable(err)).toBe(false)
    expect(other.state).toBe('closed')
  })
})

describe('OvsdbClient reconnect after ovsdb-server restarts', () => {
  let ovs: OvsSandbox
  let client: OvsdbClient
  beforeAll(async () => {
    ovs = await startOvsSandbox({ vswitchd: false })
    client = await OvsdbClient.connect({ remote: ovs.dbRemote, backoff: { initialMs: 50, maxMs: 300 } })
  })
  afterAll(async () => {
    client?.close()
    await ovs?.stop()
  })

  it('resyncs to the restarted database: rows deleted while disconnected produce delete events', async () => {
    await ovs.vsctl('--no-wait', 'add-br', 'br-keep', '--', 'add-port', 'br-keep', 'k0', '--', 'set', 'interface', 'k0', 'external_ids:v=1')
    await ovs.vsctl('--no-wait', 'add-br', 'br-gone', '--', 'add-port', 'br-gone', 'g0', '--', 'add-port', 'br-gone', 'g1')
    for (let i = 0; i < 100 && !client.cache.port('g1'); i++) await new Promise((r) => setTimeout(r, 20))
    const gone = client.cache.bridge('br-gone')!
    const goneUuids = new Set([gone._uuid, ...gone.ports, ...client.cache.portsOf(gone).flatMap((p) => p.interfaces)])
    expect(goneUuids.size).toBe(7)

    const disconnected = once<Error | undefined>((cb) => client.on('disconnected', cb))
    await ovs.killOvsdb()
    await disconnected
    expect(client.state).not.toBe('connected')
    const notConnected = await client.transact([{ op: 'comment', comment: 'x' }]).catch((e: unknown) => e)
    expect(notConnected).toBeInstanceOf(OvsdbNotConnectedError)
    expect(isRetryable(notConnected)).toBe(true)

    // Change the database file while no server runs: drop br-gone (garbage collection removes its ports and
    // interfaces), change k0, add a bridge.
    const root = client.cache.openVSwitch()!._uuid
    const ops = [
      'Open_vSwitch',
      { op: 'mutate', table: 'Open_vSwitch', where: [['_uuid', '==', ['uuid', root]]], mutations: [['bridges', 'delete', ['uuid', gone._uuid]]] },
      { op: 'update', table: 'Interface', where: [['name', '==', 'k0']], row: { external_ids: ['map', [['v', '2']]] } },
      { op: 'insert', table: 'Bridge', row: { name: 'br-new' }, 'uuid-name': 'nb' },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['named-uuid', 'nb']]] },
    ]
    await run('ovsdb-tool', ['transact', join(ovs.rundir, 'conf.db'), JSON.stringify(ops)], { env: ovs.env })

    const events: RowChange[] = []
    const off = client.onChange((c) => events.push(...c))
    const resynced = once<unknown>((cb) => client.on('resynced', cb))
    await ovs.startOvsdb()
    expect(await resynced).toMatchObject({ method: 'monitor_cond_since', resumed: false })
    off()

    const deletes = events.filter((e) => e.kind === 'delete')
    expect(new Set(deletes.map((e) => e.uuid))).toEqual(goneUuids)
    expect(events.filter((e) => e.kind === 'insert').map((e) => e.new!.name)).toEqual(['br-new'])
    expect(events.find((e) => e.kind === 'modify' && e.table === 'Interface')).toMatchObject({ old: { external_ids: { v: '1' } }, new: { external_ids: { v: '2' } } })
    expect(client.cache.bridge('br-gone')).toBeUndefined()
    expect(client.cache.port('g0')).toBeUndefined()

    // The cache equals a fresh read by a new client, and ovs-vsctl agrees on the bridges.
    const fresh = await OvsdbClient.connect({ remote: ovs.dbRemote })
    try {
      expect(snapshot(client)).toEqual(snapshot(fresh))
    } finally {
      fresh.close()
    }
    const names = (await vsctlList(ovs, 'Bridge')).map((r) => r.name).sort()
    expect(
      client.cache
        .bridges()
        .map((b) => b.name)
        .sort(),
    ).toEqual(names)
    // And it is live again.
    await client.transact(client.txn().mutate('Bridge', whereName('br-new'), [['external_ids', 'insert', { ok: 'yes' }]]))
    expect(client.cache.bridge('br-new')!.external_ids).toEqual({ ok: 'yes' })
  })
})

describe('OvsdbClient monitor fallback', () => {
  let ovs: OvsSandbox
  beforeAll(async () => {
    ovs = await startOvsSandbox({ vswitchd: false })
    await ovs.vsctl('--no-wait', 'add-br', 'br-m', '--', 'add-port', 'br-m', 'm0', '--', 'set', 'interface', 'm0', 'external_ids:a=1')
  })
  afterAll(async () => {
    await ovs?.stop()
  })

  it.each([
    { refused: ['monitor_cond_since'], expected: 'monitor_cond' },
    { refused: ['monitor_cond_since', 'monitor_cond'], expected: 'monitor' },
  ])('falls back to $expected when the server answers "unknown method" to $refused', async ({ refused, expected }) => {
    const proxy = await startSocketProxy(ovs.dbSock, { unknownMethods: refused })
    const reference = await OvsdbClient.connect({ remote: ovs.dbRemote })
    let client: OvsdbClient | undefined
    try {
      client = await OvsdbClient.connect({ remote: proxy.remote })
      expect(client.lastSync).toMatchObject({ method: expected, resumed: false })
      expect(snapshot(client)).toEqual(snapshot(reference))
      // Live updates in the older notation (update2 / update) keep the cache exact: modify, insert, delete.
      const c = client
      const settled = (): boolean => c.cache.port('m1') !== undefined && c.cache.interface('m0')?.external_ids.a === '2' && !c.cache.port(`gone-${expected}`)
      await ovs.vsctl('--no-wait', 'add-port', 'br-m', `gone-${expected}`)
      await ovs.vsctl('--no-wait', 'set', 'interface', 'm0', 'external_ids:a=2', '--', '--may-exist', 'add-port', 'br-m', 'm1', '--', 'del-port', 'br-m', `gone-${expected}`)
      for (let i = 0; i < 200 && !settled(); i++) await new Promise((r) => setTimeout(r, 10))
      for (let i = 0; i < 200 && JSON.stringify(snapshot(c)) !== JSON.stringify(snapshot(reference)); i++) await new Promise((r) => setTimeout(r, 10))
      expect(settled()).toBe(true)
      expect(snapshot(client)).toEqual(snapshot(reference))
    } finally {
      client?.close()
      reference.close()
      await proxy.close()
    }
  })
})

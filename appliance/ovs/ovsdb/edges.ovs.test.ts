/**
 * Edge cases against a real ovsdb-server: a transact that times out is cancelled (RFC 7047 §4.1.4) and retryable
 * only when its outcome is known or a repeat is safe; a database larger than `maxMessageBytes` fails once, with
 * that reason, instead of being downloaded again and again; a commit-time referential integrity error from a
 * delete by name is blamed on that delete.
 */
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isRetryable } from '../../../api/errors.js'
import { startOvsSandbox, type OvsSandbox } from '../../../bin/demo/ovs-sandbox.js'
import { OvsNode } from '../../node/ovs-node.js'
import { OvsdbClient } from './client.js'
import { OvsdbMessageTooLargeError, OvsdbReferentialIntegrityError, OvsdbTransactTimeoutError } from './errors.js'
import { whereName } from './txn.js'

async function until(pred: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Run `body` with ovsdb-server stopped (SIGSTOP); it is always continued, even when `body` throws. */
async function whileStopped<T>(ovs: OvsSandbox, body: () => Promise<T>): Promise<T> {
  const pid = ovs.ovsdbPid()!
  process.kill(pid, 'SIGSTOP')
  try {
    return await body()
  } finally {
    process.kill(pid, 'SIGCONT')
  }
}

describe('transact timeout', () => {
  let ovs: OvsSandbox
  let client: OvsdbClient
  beforeAll(async () => {
    ovs = await startOvsSandbox({ vswitchd: false })
    await ovs.vsctl('--no-wait', 'add-br', 'br-t')
    client = await OvsdbClient.connect({ remote: ovs.dbRemote, probeIntervalMs: 0 })
  })
  afterAll(async () => {
    client?.close()
    await ovs?.stop()
  })

  it('cancels a waiting transact: the server answers "canceled", nothing commits, the error is retryable', async () => {
    const txn = client.txn()
    // A wait the database never satisfies, with a long timeout: the server holds the transaction pending.
    txn.wait('Bridge', whereName('br-t'), ['external_ids'], [{ external_ids: { never: 'true' } }], { timeoutMs: 60_000 })
    txn.mutate('Bridge', whereName('br-t'), [['external_ids', 'insert', { cancelled: 'no' }]])
    const err = await client.transact(txn, { timeoutMs: 300 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OvsdbTransactTimeoutError)
    // committed === false only comes from the server's "canceled" reply to our cancel notification.
    expect(err).toMatchObject({ code: 'ovsdb.timeout', committed: false, retryable: true })
    expect((err as Error).message).toMatch(/cancelled: ovsdb-server confirmed nothing was committed/)
    // Had the cancel not been sent, the transaction would still be pending and then commit once the wait held.
    await ovs.vsctl('--no-wait', 'set', 'bridge', 'br-t', 'external_ids:never=true')
    await until(() => client.cache.bridge('br-t')!.external_ids.never === 'true', 'the cache to see never=true')
    await client.echo('after')
    expect(client.cache.bridge('br-t')!.external_ids.cancelled).toBeUndefined()
    expect((await ovs.vsctl('get', 'bridge', 'br-t', 'external_ids')).trim()).not.toMatch(/cancelled/)
    expect(client.state).toBe('connected')
  })

  it('an unanswered insert is not retryable (it may still commit), and it does commit afterwards', async () => {
    const insert = client.txn()
    const br = insert.insert('Bridge', { name: 'br-late' })
    insert.mutate('Open_vSwitch', [], [['bridges', 'insert', [br]]])
    const err = await whileStopped(ovs, () => client.transact(insert, { timeoutMs: 200, cancelGraceMs: 200 }).catch((e: unknown) => e))
    expect(err).toBeInstanceOf(OvsdbTransactTimeoutError)
    expect(err).toMatchObject({ committed: undefined, context: { committed: 'unknown' } })
    expect(isRetryable(err)).toBe(false)
    expect((err as Error).message).toMatch(/may still commit \(not retried: it is not idempotent and has no wait\/assert guard\)/)
    // The outcome really was unknown: continued, the server runs the transaction (and drops our cancel).
    await until(() => client.cache.bridge('br-late') !== undefined, 'br-late to commit')
    expect(client.state).toBe('connected')
  })

  it('an unanswered transaction guarded by a wait stays retryable', async () => {
    const guarded = client.txn()
    guarded.verify('Bridge', client.cache.bridge('br-t')!, ['external_ids'])
    guarded.mutate('Bridge', whereName('br-t'), [['external_ids', 'insert', { guarded: 'yes' }]])
    const err = await whileStopped(ovs, () => client.transact(guarded, { timeoutMs: 200, cancelGraceMs: 200 }).catch((e: unknown) => e))
    expect(err).toMatchObject({ committed: undefined })
    expect(isRetryable(err)).toBe(true)
    await until(() => client.cache.bridge('br-t')!.external_ids.guarded === 'yes', 'the guarded mutate to commit')
  })

  it('a reply that arrives within the grace after the cancel is the outcome', async () => {
    const pid = ovs.ovsdbPid()!
    const txn = client.txn()
    txn.mutate('Bridge', whereName('br-t'), [['external_ids', 'insert', { late: 'yes' }]])
    process.kill(pid, 'SIGSTOP')
    let result
    try {
      const pending = client.transact(txn, { timeoutMs: 200, cancelGraceMs: 30_000 })
      await new Promise((r) => setTimeout(r, 500))
      process.kill(pid, 'SIGCONT')
      result = await pending
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    expect(result.results[0]).toEqual({ count: 1 })
    expect(client.cache.bridge('br-t')!.external_ids.late).toBe('yes')
  })
})

describe('a database larger than maxMessageBytes', () => {
  let ovs: OvsSandbox
  beforeAll(async () => {
    ovs = await startOvsSandbox({ vswitchd: false })
    // About 400 Port and Interface rows: a monitor reply of well over 64 KiB.
    const args = ['--no-wait', 'add-br', 'br-big']
    for (let i = 0; i < 200; i++) args.push('--', 'add-port', 'br-big', `big-port-with-a-long-name-${i}`)
    await ovs.vsctl(...args)
  }, 60_000)
  afterAll(async () => {
    await ovs?.stop()
  })

  it('connect fails at once with the reason, not a timeout', async () => {
    const err = await OvsdbClient.connect({ remote: ovs.dbRemote, maxMessageBytes: 16 * 1024, connectTimeoutMs: 30_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OvsdbMessageTooLargeError)
    expect((err as Error).message).toMatch(/OVSDB message too large: more than maxMessageBytes=16384/)
  })

  it('fails once and waits instead of downloading the database again; readiness says why', async () => {
    const node = new OvsNode({ remote: ovs.dbRemote, rundir: ovs.rundir, log: pino({ level: 'silent' }), maxMessageBytes: 16 * 1024 })
    try {
      node.start()
      await until(() => node.readiness().message?.includes('too large') === true, 'readiness to name the failure')
      expect(node.readiness()).toMatchObject({ name: 'ovsdb', ok: false, message: expect.stringMatching(/not connected to unix:.*: OVSDB message too large: more than maxMessageBytes=16384/) })
      const client = (node as unknown as { opened: OvsdbClient }).opened
      const errors: Error[] = []
      client.on('error', (e) => errors.push(e))
      // With the old behaviour (retry after a backoff of at most 5 s, starting at 100 ms) this window saw
      // several more downloads; now the next attempt is minutes away.
      await new Promise((r) => setTimeout(r, 2000))
      expect(errors).toEqual([])
      expect(client.failure).toBeInstanceOf(OvsdbMessageTooLargeError)
      expect(client.state).toBe('disconnected')
    } finally {
      await node.close()
    }
  })

  it('reconnectNow retries at once (e.g. after the database shrank)', async () => {
    const client = OvsdbClient.open({ remote: ovs.dbRemote, maxMessageBytes: 16 * 1024 })
    try {
      await until(() => client.failure instanceof OvsdbMessageTooLargeError, 'the first failure')
      await ovs.vsctl('--no-wait', 'del-br', 'br-big')
      const connected = new Promise<void>((resolve) => client.on('connected', () => resolve()))
      client.reconnectNow()
      await connected
      expect(client.failure).toBeUndefined()
      expect(client.cache.bridge('br-big')).toBeUndefined()
    } finally {
      client.close()
    }
  })
})

describe('referential integrity errors at commit', () => {
  let ovs: OvsSandbox
  let client: OvsdbClient
  beforeAll(async () => {
    ovs = await startOvsSandbox({ vswitchd: false })
    await ovs.vsctl('--no-wait', 'add-br', 'br-r', '--', 'add-port', 'br-r', 'r0', '--', 'add-port', 'br-r', 'r1')
    client = await OvsdbClient.connect({ remote: ovs.dbRemote, probeIntervalMs: 0 })
  })
  afterAll(async () => {
    client?.close()
    await ovs?.stop()
  })

  it('blames a delete by name of a referenced row on that delete, not "commit"', async () => {
    const txn = client.txn().comment('delete a referenced interface by name')
    txn.mutate('Bridge', whereName('br-r'), [['external_ids', 'insert', { touched: 'yes' }]])
    txn.delete('Interface', whereName('r1'))
    const err = await client.transact(txn).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OvsdbReferentialIntegrityError)
    expect(err).toMatchObject({ index: 2, operation: { op: 'delete', table: 'Interface', atCommit: true } })
    expect((err as Error).message).toMatch(/^commit, caused by op 2 \(delete Interface\): referential integrity violation: cannot delete Interface row [0-9a-f-]{36} because of 1 remaining reference/)
    expect(client.cache.interface('r1')).toBeDefined()
  })

  it('tells two deletes by name on the same table apart through the cached row', async () => {
    const txn = client.txn()
    txn.delete('Port', whereName('no-such-port'))
    txn.delete('Port', whereName('r0'))
    const err = await client.transact(txn).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OvsdbReferentialIntegrityError)
    expect(err).toMatchObject({ index: 1, operation: { op: 'delete', table: 'Port', where: [['name', '==', 'r0']] } })
  })
})

/**
 * Wire faults between the client and a real ovsdb-server: a proxy (test/support/socket-proxy.ts) forwards the
 * session and injects what a broken or hostile peer could send. Every fault must end the session with a clear
 * typed error, never a crash or an unbounded buffer, and the client must reconnect and resync.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startOvsSandbox, type OvsSandbox } from '../../../bin/demo/ovs-sandbox.js'
import { startSocketProxy, type SocketProxy } from '../../../test/support/socket-proxy.js'
import { CacheInconsistentError } from './cache.js'
import { OvsdbClient } from './client.js'
import { OvsdbMessageTooLargeError, OvsdbProtocolError, OvsdbTimeoutError } from './errors.js'
import { whereName } from './txn.js'

const LIMIT = 256 * 1024

describe('OvsdbClient under wire faults', () => {
  let ovs: OvsSandbox
  let proxy: SocketProxy
  let client: OvsdbClient
  const errors: Error[] = []

  beforeAll(async () => {
    ovs = await startOvsSandbox({ vswitchd: false })
    await ovs.vsctl('--no-wait', 'add-br', 'br-f')
    proxy = await startSocketProxy(ovs.dbSock)
    client = await OvsdbClient.connect({
      remote: proxy.remote,
      maxMessageBytes: LIMIT,
      probeIntervalMs: 0,
      backoff: { initialMs: 20, maxMs: 100 },
      // The over-long message is injected, not the database outgrowing the limit: come back at once.
      oversizeRetryMs: 20,
    })
    client.on('error', (err) => errors.push(err))
  })
  afterAll(async () => {
    client?.close()
    await proxy?.close()
    await ovs?.stop()
  })
  afterEach(() => {
    errors.length = 0
  })

  /** Inject, then wait for the session to fail and the client to come back (a new proxied connection). */
  async function faultAndRecover(inject: () => void): Promise<Error> {
    const before = proxy.accepted
    const reconnected = new Promise<void>((resolve) => {
      const off = client.on('connected', () => {
        off()
        resolve()
      })
    })
    inject()
    await reconnected
    expect(proxy.accepted).toBeGreaterThan(before)
    expect(client.state).toBe('connected')
    // Alive: a transaction goes through and the cache follows it.
    const tag = `t${Date.now()}`
    await client.transact(client.txn().mutate('Bridge', whereName('br-f'), [['external_ids', 'insert', { [tag]: 'ok' }]]))
    expect(client.cache.bridge('br-f')!.external_ids[tag]).toBe('ok')
    expect(errors.length).toBeGreaterThan(0)
    return errors[0]!
  }

  it('bytes that are not JSON', async () => {
    const err = await faultAndRecover(() => proxy.inject('this is not json\n'))
    expect(err).toBeInstanceOf(OvsdbProtocolError)
    expect(err.message).toMatch(/unexpected byte 0x74 between JSON-RPC messages/)
  })

  it('balanced but malformed JSON', async () => {
    const err = await faultAndRecover(() => proxy.inject('{"id": 1, oops}'))
    expect(err.message).toMatch(/malformed JSON/)
  })

  it('an over-long message: cut at the limit, buffer released', async () => {
    const err = await faultAndRecover(() => {
      proxy.inject('{"id":null,"method":"update3","params":["x","')
      for (let i = 0; i < 16; i++) proxy.inject(Buffer.alloc(64 * 1024, 0x61))
    })
    expect(err).toBeInstanceOf(OvsdbMessageTooLargeError)
    const { limit, seen } = (err as OvsdbMessageTooLargeError).context as { limit: number; seen: number }
    expect(limit).toBe(LIMIT)
    // Failed as soon as the buffered part passed the limit, not after buffering the whole 1 MiB.
    expect(seen).toBeGreaterThan(LIMIT)
    expect(seen).toBeLessThan(LIMIT + 128 * 1024)
  })

  it('a reply to a request id never sent', async () => {
    const err = await faultAndRecover(() => proxy.inject('{"id":987654,"result":[],"error":null}'))
    expect(err).toBeInstanceOf(OvsdbProtocolError)
    expect(err.message).toMatch(/reply to unknown request id 987654/)
  })

  it('a JSON-RPC object that is neither request nor reply', async () => {
    const err = await faultAndRecover(() => proxy.inject('{"hello":"world"}'))
    expect(err.message).toMatch(/neither request nor reply/)
  })

  it('a truncated message followed by close', async () => {
    const err = await faultAndRecover(() => proxy.inject('{"id":null,"method":"update3","params":["', { end: true }))
    expect(err).toBeInstanceOf(OvsdbProtocolError)
    expect(err.message).toMatch(/truncated/)
  })

  it('a notification without a params array', async () => {
    const err = await faultAndRecover(() => proxy.inject('{"id":null,"method":"update3","params":"not-an-array"}'))
    expect(err.message).toMatch(/update3 without a params array/)
  })

  it('an update the cache cannot apply (modify of an unknown row): full resync, cache still exact', async () => {
    const resynced = new Promise<unknown>((resolve) => {
      const off = client.on('resynced', (info) => {
        off()
        resolve(info)
      })
    })
    const ghost = '0a0b0c0d-0000-4000-8000-0000000000ff'
    const update = { Bridge: { [ghost]: { modify: { name: 'ghost' } } } }
    const err = await faultAndRecover(() => proxy.inject(JSON.stringify({ id: null, method: 'update3', params: [client.monitorId, '00000000-0000-0000-0000-000000000000', update] })))
    expect(err).toBeInstanceOf(CacheInconsistentError)
    expect(err.message).toMatch(/modify of Bridge 0a0b0c0d-0000-4000-8000-0000000000ff, which the cache does not hold/)
    expect(await resynced).toMatchObject({ resumed: false })
    expect(client.cache.bridges().map((b) => b.name)).toEqual(['br-f'])
  })
})

describe('OvsdbClient inactivity probe', () => {
  it('detects a silent server with its own echo and reconnects', async () => {
    const ovs = await startOvsSandbox({ vswitchd: false })
    const proxy = await startSocketProxy(ovs.dbSock)
    let client: OvsdbClient | undefined
    try {
      client = await OvsdbClient.connect({ remote: proxy.remote, probeIntervalMs: 300, backoff: { initialMs: 20, maxMs: 100 } })
      const failed = new Promise<Error>((resolve) => client!.on('error', resolve))
      const reconnected = new Promise<void>((resolve) => client!.on('disconnected', () => client!.on('connected', () => resolve())))
      const started = Date.now()
      proxy.stall()
      const err = await failed
      expect(err).toBeInstanceOf(OvsdbTimeoutError)
      expect(err.message).toMatch(/inactivity probe/)
      expect(Date.now() - started).toBeGreaterThanOrEqual(550)
      await reconnected
      expect(client.state).toBe('connected')
    } finally {
      client?.close()
      await proxy.close()
      await ovs.stop()
    }
  })
})

import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger } from './logger.js'

function capture(): { out: PassThrough; lines: () => string[] } {
  const out = new PassThrough()
  let text = ''
  out.on('data', (d: Buffer) => (text += d.toString('utf8')))
  return { out, lines: () => text.trim().split('\n') }
}

describe('createLogger', () => {
  it('writes one JSON object per line with an ISO time and a string level', () => {
    const { out, lines } = capture()
    const log = createLogger({ destination: out, base: { node: 'dpu-a' } })
    log.info({ url: 'http://x' }, 'listening')
    log.debug('hidden at info')
    const parsed = lines().map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(parsed).toHaveLength(1)
    expect(parsed[0]).toMatchObject({ level: 'info', node: 'dpu-a', url: 'http://x', msg: 'listening' })
    expect(new Date(String(parsed[0]!.time)).toISOString()).toBe(parsed[0]!.time)
  })

  it('writes the component a child binds exactly once', () => {
    const { out, lines } = capture()
    createLogger({ destination: out, base: { node: 'dpu-a' } })
      .child({ component: 'ovs' })
      .warn('x')
    expect(lines()[0]!.match(/"component":/g)).toHaveLength(1)
  })
})

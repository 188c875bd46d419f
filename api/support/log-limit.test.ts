import { describe, expect, it } from 'vitest'
import { recordingLogger } from '../../test/support/recording-logger.js'
import { LogLimiter } from './log-limit.js'

describe('LogLimiter', () => {
  it('writes one line per key per interval, then summarizes what it held back', () => {
    let now = 0
    const limiter = new LogLimiter({ intervalMs: 60_000, now: () => now })
    const log = recordingLogger()
    // Five a second for two minutes, as an OpenFlow version mismatch does.
    for (; now < 120_000; now += 200) limiter.log(log, 'warn', 'br-sfc', { bridge: 'br-sfc' }, 'OpenFlow protocol error')
    expect(log.lines.map((l) => l.msg)).toEqual(['OpenFlow protocol error', 'OpenFlow protocol error (repeated 299 times in the last 60s)'])
    expect(log.lines[1]!.fields).toEqual({ bridge: 'br-sfc', repeated: 299 })
    expect(log.lines[1]!.level).toBe('warn')
  })

  it('keeps keys apart', () => {
    const limiter = new LogLimiter({ now: () => 0 })
    expect(limiter.take('a')).toEqual({ repeated: 0, sinceMs: 0 })
    expect(limiter.take('b')).toEqual({ repeated: 0, sinceMs: 0 })
    expect(limiter.take('a')).toBeUndefined()
  })

  it('writes at once again after reset(prefix)', () => {
    let now = 0
    const limiter = new LogLimiter({ intervalMs: 1000, now: () => now })
    limiter.take('chains\0x')
    limiter.take('ports\0x')
    now = 10
    limiter.reset('chains\0')
    expect(limiter.take('chains\0x')).toEqual({ repeated: 0, sinceMs: 0 })
    expect(limiter.take('ports\0x')).toBeUndefined()
  })

  it('forgets the least recently written keys past maxKeys', () => {
    const limiter = new LogLimiter({ now: () => 0, maxKeys: 2 })
    limiter.take('a')
    limiter.take('b')
    limiter.take('c')
    expect(limiter.take('a')).toEqual({ repeated: 0, sinceMs: 0 })
    expect(limiter.take('c')).toBeUndefined()
  })
})

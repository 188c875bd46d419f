import { describe, expect, it } from 'vitest'
import { recordingLogger } from '../../test/support/recording-logger.js'
import { OutageLog } from './outage-log.js'

describe('OutageLog', () => {
  it('says it once with the hint, reminds once per interval with duration and attempts, and says when it connects', () => {
    let now = 0
    const log = recordingLogger()
    const outage = new OutageLog({ logger: log, what: 'Open vSwitch database', fields: { remote: 'unix:/x' }, hint: 'start Open vSwitch', now: () => now })
    for (; now <= 150_000; now += 2500) outage.failed('no such socket (ENOENT)')
    outage.connected({ method: 'monitor_cond_since' })
    expect(log.lines.map((l) => `${l.level} ${l.msg}`)).toEqual([
      'warn Open vSwitch database unavailable: no such socket (ENOENT); start Open vSwitch; retrying',
      'warn Open vSwitch database still unavailable after 60s and 25 attempts: no such socket (ENOENT); start Open vSwitch',
      'warn Open vSwitch database still unavailable after 120s and 49 attempts: no such socket (ENOENT); start Open vSwitch',
      'info connected to the Open vSwitch database after 61 failed attempts over 153s',
    ])
    expect(log.lines[0]!.fields).toEqual({ remote: 'unix:/x', error: 'no such socket (ENOENT)', attempts: 1, failingForS: 0 })
    expect(log.lines[3]!.fields).toMatchObject({ remote: 'unix:/x', method: 'monitor_cond_since', attempts: 61, failedForS: 153 })
  })

  it('announces a lost connection once and reminds only an interval later', () => {
    let now = 0
    const log = recordingLogger()
    const outage = new OutageLog({ logger: log, what: 'federation hub', now: () => now })
    outage.connected()
    outage.lost('hub ended the stream')
    for (now = 1000; now < 60_000; now += 1000) outage.failed('connection refused')
    expect(log.lines.map((l) => l.msg)).toEqual(['connected to the federation hub', 'lost the connection to the federation hub (hub ended the stream); reconnecting'])
    now = 60_000
    outage.failed('connection refused')
    expect(log.lines.at(-1)!.msg).toBe('federation hub still unavailable after 60s and 60 attempts: connection refused')
  })
})

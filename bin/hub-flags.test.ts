import { describe, expect, it } from 'vitest'
import { UsageError } from '../api/cli.js'
import { DEFAULT_HUB_LIMITS } from '../federation/hub/hub.js'
import { HUB_LIMIT_FLAGS } from '../federation/hub/limit-flags.js'
import { hubCommands, parseHubFlags } from './hub.js'

const base = ['--data-dir', '/tmp/hub', '--manifests', '/tmp/m', '--insecure']

describe('hub limit flags', () => {
  it('set the limits they name and leave the others to their defaults', () => {
    expect(parseHubFlags(base, '/tmp').limits).toEqual({})
    const f = parseHubFlags([...base, '--max-connections-per-identity', '3', '--max-streams-per-identity=8', '--delta-cache-bytes', '1048576'], '/tmp')
    expect(f.limits).toEqual({ maxConnectionsPerIdentity: 3, maxStreamsPerIdentity: 8, deltaCacheBytes: 1_048_576 })
  })

  it.each([
    ['0', /--hello-burst must be at least 1 \(got "0"\)/],
    ['1.5', /--hello-burst must be a whole number \(got "1.5"\)/],
    ['ten', /--hello-burst must be a whole number \(got "ten"\)/],
    ['99999999999999999999', /--hello-burst is too large/],
  ])('refuse %s as a usage error naming the flag', (value, message) => {
    expect(() => parseHubFlags([...base, '--hello-burst', value], '/tmp')).toThrow(UsageError)
    expect(() => parseHubFlags([...base, '--hello-burst', value], '/tmp')).toThrow(message)
  })

  it('cover every HubLimits field, each in the usage with its default', () => {
    expect(HUB_LIMIT_FLAGS.map((f) => f.field).sort()).toEqual(Object.keys(DEFAULT_HUB_LIMITS).sort())
    const usage = hubCommands.find((c) => c.path.join(' ') === 'hub run')!.usage
    for (const f of HUB_LIMIT_FLAGS) expect(usage).toMatch(new RegExp(`--${f.flag} .*\\(default ${DEFAULT_HUB_LIMITS[f.field]}\\)`))
  })
})

describe('hub --helm', () => {
  it('is absent unless given, and resolves against the working directory', () => {
    expect(parseHubFlags(base, '/tmp').helm).toBeUndefined()
    expect(parseHubFlags([...base, '--helm', 'tools/helm'], '/opt').helm).toBe('/opt/tools/helm')
    expect(parseHubFlags([...base, '--helm', '/usr/local/bin/helm'], '/opt').helm).toBe('/usr/local/bin/helm')
  })

  it('is in the usage with what happens without it', () => {
    const usage = hubCommands.find((c) => c.path.join(' ') === 'hub run')!.usage
    expect(usage).toMatch(/--helm PATH .*helm binary for DPUService charts/)
    expect(usage).toMatch(/Rendered=False \(HelmNotConfigured\)/)
  })
})

import { describe, expect, it } from 'vitest'
import { resolveApplianceConfig } from '../appliance/cli/config.js'
import { parseHubFlags } from './hub.js'

const portOf = (listen: string): number => Number(listen.slice(listen.lastIndexOf(':') + 1))

describe('default listen addresses', () => {
  it('give the appliance REST API, the hub REST API and the hub gRPC service three different ports', () => {
    const appliance = resolveApplianceConfig({ 'node-name': 'dpu-a' }, '/tmp').listen
    const hub = parseHubFlags(['--data-dir', '/tmp/hub', '--manifests', '/tmp/m', '--insecure'], '/tmp')
    const ports = [appliance, hub.apiListen, hub.listen].map(portOf)
    for (const p of ports) expect(p).toBeGreaterThan(0) // fixed ports, not "any free port"
    expect(new Set(ports).size).toBe(3)
  })
})

import { describe, expect, it } from 'vitest'
import { agentOptionsFromFlags } from './config.js'

describe('agent flags', () => {
  it('is off without --hub and insists on identity and mTLS with it', async () => {
    expect(await agentOptionsFromFlags({})).toBeNull()
    await expect(agentOptionsFromFlags({ hub: 'hub:7443' })).rejects.toThrow(/--dpu-name is required/)
    await expect(agentOptionsFromFlags({ hub: 'hub:7443', dpuName: 'a' })).rejects.toThrow(/mTLS is required/)
    await expect(agentOptionsFromFlags({ hub: 'hub', dpuName: 'a', insecure: true })).rejects.toThrow(/HOST:PORT/)
    await expect(agentOptionsFromFlags({ hub: 'hub:1', dpuName: 'a', insecure: true, tlsCa: 'x' })).rejects.toThrow(/exclusive/)
    await expect(agentOptionsFromFlags({ hub: 'hub:1', dpuName: 'a', tlsCert: '/nope', tlsKey: '/nope', tlsCa: '/nope' })).rejects.toThrow(/cannot read \/nope/)
    expect(await agentOptionsFromFlags({ hub: 'hub:1', dpuName: 'a', insecure: true, labels: { zone: 'a' } })).toEqual({ hub: 'hub:1', dpuName: 'a', tls: 'insecure', labels: { zone: 'a' } })
  })
})

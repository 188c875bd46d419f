/**
 * The hub under abuse, in its own process so its RSS and fds are its own: mTLS with the bench's development
 * certificates, the shipped limits (DEFAULT_HUB_LIMITS) unless argv[4] overrides some (the smoke test shortens
 * the hello timeout). Answers `stats` with what only the hub knows: delta cache bytes, open streams, sessions,
 * refusals by reason.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DEFAULT_HUB_LIMITS, startHub, type HubLimits } from '../../federation/hub/hub.js'
import { ManifestDirSource } from '../../federation/hub/sources/manifest-dir.js'
import { parseManifest, render } from '../../test/support/federation-fixtures.js'

const [dataDir, manifests, pkiDir, limitsJson] = process.argv.slice(2)
const limits: HubLimits = { ...DEFAULT_HUB_LIMITS, ...(JSON.parse(limitsJson ?? '{}') as Partial<HubLimits>) }
const tls = { cert: await readFile(join(pkiDir!, 'hub.crt')), key: await readFile(join(pkiDir!, 'hub.key')), ca: await readFile(join(pkiDir!, 'ca.crt')) }
const hub = await startHub({
  dataDir: dataDir!,
  listen: '127.0.0.1:0',
  tls,
  sources: [new ManifestDirSource({ dir: manifests!, parse: parseManifest })],
  render,
  limits,
})

/** `name{label="x"} 3` lines of one metric, as { x: 3 } (or { '': 3 } without labels). */
async function metric(name: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const line of (await hub.metrics.registry.metrics()).split('\n')) {
    const m = new RegExp(`^${name}(?:\\{[a-z]+="([^"]*)"\\})? (\\S+)$`).exec(line)
    if (m) out[m[1] ?? ''] = Number(m[2])
  }
  return out
}

process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'stats') {
    void (async () => {
      process.send!({
        ev: 'stats',
        heapUsed: process.memoryUsage().heapUsed,
        heapTotal: process.memoryUsage().heapTotal,
        external: process.memoryUsage().external,
        sessions: [...hub.sessions.keys()],
        openStreams: hub.openStreams(),
        deltaCacheBytes: (await metric('dpu_hub_delta_cache_bytes'))[''] ?? 0,
        streamErrors: await metric('dpu_hub_stream_errors_total'),
      })
    })()
  } else if (m.cmd === 'gc') {
    global.gc?.()
    process.send!({ ev: 'gc' })
  } else if (m.cmd === 'stop') void hub.stop().then(() => process.exit(0))
})
process.send!({ ev: 'ready', grpcPort: hub.grpcPort, limits })

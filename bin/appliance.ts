/**
 * Composition root of the appliance: opens the store, builds the REST app and serves it. Wiring only; every
 * decision lives in the parts it connects.
 */
import { mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import type { CliCommand } from '../api/cli.js'
import { applianceClientCommands } from '../appliance/cli/index.js'
import type { ApplianceConfig } from '../appliance/cli/config.js'
import { splitListen } from '../appliance/cli/config.js'
import { applianceRunCommand, type RunningAppliance } from '../appliance/cli/run.js'
import { createLogger, createMetricsRegistry } from '../appliance/observe/index.js'
import { createApp, loadOrCreateToken } from '../appliance/rest/index.js'
import { openStore } from '../appliance/store/index.js'
import { OvsNode } from '../appliance/node/ovs-node.js'
import { NodeController } from '../appliance/reconcile/controller.js'
import { OVSDB_NONE } from '../appliance/cli/config.js'

export async function startAppliance(config: ApplianceConfig): Promise<RunningAppliance> {
  const log = createLogger({ level: config.logLevel, base: { component: 'appliance', node: config.nodeName } })
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const tokenFile = config.tokenFile ?? join(config.dataDir, 'token')
  const token = loadOrCreateToken(tokenFile, config.tokenFile === undefined)
  const store = openStore(join(config.dataDir, 'state.db'), { nodeName: config.nodeName })
  const node = { name: config.nodeName, labels: config.nodeLabels }
  const ovs = config.ovsdb === OVSDB_NONE ? undefined : new OvsNode({ remote: config.ovsdb, rundir: config.ovsRundir, log: log.child({ component: 'ovs' }) })
  const controller = ovs
    ? new NodeController({
        store,
        ovs,
        nodeName: config.nodeName,
        log: log.child({ component: 'reconcile' }),
        settings: { bridges: config.bridges, datapath: config.datapath, otherConfig: config.otherConfig, ...(config.mtu !== undefined ? { mtu: config.mtu } : {}) },
      })
    : undefined
  const app = createApp({
    store,
    log,
    registry: createMetricsRegistry(),
    token: () => token,
    node,
    readiness: ovs ? [() => ovs.readiness()] : [],
    ...(controller ? { switchView: { bridges: () => controller.observedBridges() as unknown as ReadonlyArray<Record<string, unknown>> } } : {}),
  })
  controller?.start()
  ovs?.start()
  const { host, port } = splitListen(config.listen)

  let server: ReturnType<typeof serve>
  try {
    server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s))
      s.once('error', reject)
    })
  } catch (err) {
    store.close()
    throw err
  }
  const address = server.address() as AddressInfo
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
  log.info({ url, tokenFile, dataDir: config.dataDir, nodeLabels: node.labels }, `listening on ${url}, token file ${tokenFile}`)

  let closing: Promise<void> | undefined
  return {
    url,
    tokenFile,
    close() {
      closing ??= new Promise<void>((resolve) => {
        log.info('shutting down')
        controller?.stop()
        server.close(() => {
          void ovs?.close()
          store.close()
          log.info('stopped')
          resolve()
        })
        // watch streams are long-lived: end them so close() does not wait for clients to hang up
        if ('closeAllConnections' in server) (server as { closeAllConnections(): void }).closeAllConnections()
      })
      return closing
    },
  }
}

/** Every appliance command, with `appliance run` bound to this composition root. */
export const applianceCommands: readonly CliCommand[] = [applianceRunCommand(startAppliance), ...applianceClientCommands]

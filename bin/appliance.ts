/**
 * Composition root of the appliance: opens the store, builds the REST app and serves it. Wiring only; every
 * decision lives in the parts it connects.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import type { CliCommand } from '../api/cli.js'
import type { ApplianceConfig } from '../appliance/cli/config.js'
import { describeNodeNameSource, splitListen } from '../appliance/cli/config.js'
import { applianceRunCommand, type RunningAppliance } from '../appliance/cli/run.js'
import { applianceCleanupCommand } from '../appliance/cli/cleanup.js'
import { runCleanup } from '../appliance/cleanup/index.js'
import { createLogger } from '../api/support/logger.js'
import { installCrashHandlers } from '../api/support/crash-handlers.js'
import { createMetricsRegistry } from '../appliance/observe/index.js'
import { createApp, listenRest, loadOrCreateToken, TokenFileSource, type RestListener } from '../appliance/rest/index.js'
import { acquireDataDirLock, openStore } from '../appliance/store/index.js'
import { startFleetRollup } from '../appliance/desired/index.js'
import { OvsNode } from '../appliance/node/ovs-node.js'
import { NodeController } from '../appliance/reconcile/controller.js'
import { createServiceRuntimes } from '../appliance/services/runtimes.js'
import { createNodeMetrics, startSwitchObservers } from '../appliance/reconcile/switch-observers.js'
import { OVSDB_NONE, OVSDB_UNAVAILABLE_HINT } from '../appliance/cli/config.js'
import { createStoreAgentPort } from '../appliance/federation/agent-port-impl.js'
import { agentOptionsFromFlags } from '../federation/agent/config.js'
import { startAgent } from '../federation/agent/agent.js'

export async function startAppliance(config: ApplianceConfig): Promise<RunningAppliance> {
  // A long-lived daemon on a DPU whose memory every service shares (DESIGN.md §8, RSS <= 96 MiB): V8 trades
  // some speed for a smaller heap (slower heap growth, earlier GC). Measured with 1,000 chains: RSS 158 (138 after
  // restore) instead of 179-183 (190) MiB (BENCHMARKS.md, chains memory). Set here, not on the command line, so every way of starting
  // the daemon (systemd unit, tests, benchmarks) gets it; the heap-growth policy reads the flag as it goes.
  setFlagsFromString('--optimize-for-size')
  const root = createLogger({ level: config.logLevel, base: { node: config.nodeName } })
  const log = root.child({ component: 'appliance' })
  installCrashHandlers(log)
  // Fleet objects select nodes by name and labels: an unexpected default (the host name) must be visible at once.
  log.info({ nodeNameFrom: config.nodeNameFrom ?? 'caller' }, `node name ${config.nodeName} (${describeNodeNameSource(config.nodeNameFrom)})`)
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  // Before anything else touches the data dir: a refused second start must leave the first one undisturbed.
  const lock = acquireDataDirLock(config.dataDir, 'appliance run')
  let store: ReturnType<typeof openStore>
  let token: TokenFileSource
  const tokenFile = config.tokenFile ?? join(config.dataDir, 'token')
  try {
    loadOrCreateToken(tokenFile, config.tokenFile === undefined)
    // Re-read when it changes: rewriting the file revokes the old token with the next request.
    token = new TokenFileSource(tokenFile)
    store = openStore(join(config.dataDir, 'state.db'), { nodeName: config.nodeName })
  } catch (err) {
    lock.release()
    throw err
  }
  const node = { name: config.nodeName, labels: config.nodeLabels }
  const stopRollup = startFleetRollup(store, node)
  const ovs = config.ovsdb === OVSDB_NONE ? undefined : new OvsNode({ remote: config.ovsdb, rundir: config.ovsRundir, log: root.child({ component: 'ovs' }), unavailableHint: OVSDB_UNAVAILABLE_HINT })
  const registry = createMetricsRegistry()
  // The loop-pass metrics must exist before the controller; the metrics read the controller lazily.
  let controller: NodeController | undefined
  const nodeMetrics = ovs ? createNodeMetrics({ registry, store, ovs, nodeName: config.nodeName, controller: () => controller }) : undefined
  const services = createServiceRuntimes({
    serviceRuntime: config.serviceRuntime,
    dataDir: config.dataDir,
    nodeName: config.nodeName,
    ...(config.serviceNetnsPrefix ? { namePrefix: config.serviceNetnsPrefix } : {}),
    ...(config.podmanSocket ? { podmanSocket: config.podmanSocket } : {}),
    ...(config.podmanInfraImage ? { podmanInfraImage: config.podmanInfraImage } : {}),
    ...(config.podmanInfraCommand ? { podmanInfraCommand: config.podmanInfraCommand } : {}),
  })
  controller = ovs
    ? new NodeController({
        store,
        ovs,
        ...(nodeMetrics ? { onLoopRun: nodeMetrics.onLoopRun } : {}),
        nodeName: config.nodeName,
        nodeLabels: config.nodeLabels,
        log: root.child({ component: 'reconcile' }),
        ...(services ? { services: { ...services, stateDir: join(config.dataDir, 'services', 'volumes') } } : {}),
        ...(config.ovsNetns ? { ovsNetns: config.ovsNetns } : {}),
        ...(config.verifyInterval !== undefined ? { verifyIntervalMs: config.verifyInterval * 1000 } : {}),
        settings: {
          bridges: config.bridges,
          datapath: config.datapath,
          otherConfig: config.otherConfig,
          ...(config.mtu !== undefined ? { mtu: config.mtu } : {}),
          ...(config.serviceNetnsPrefix ? { serviceNetnsPrefix: config.serviceNetnsPrefix } : {}),
        },
      })
    : undefined
  const observers =
    ovs && controller
      ? startSwitchObservers({
          store,
          ovs,
          controller,
          nodeName: config.nodeName,
          rundir: config.ovsRundir,
          ...(config.ovsCtl ? { ovsCtl: config.ovsCtl } : {}),
          log: root.child({ component: 'observe' }),
          ...(nodeMetrics ? { metrics: nodeMetrics.metrics } : {}),
          ...(config.countersInterval !== undefined ? { countersIntervalMs: config.countersInterval * 1000 } : {}),
        })
      : undefined
  const agentOptions = await agentOptionsFromFlags({
    hub: config.hub,
    dpuName: config.dpuName ?? config.nodeName,
    tlsCert: config.tlsCert,
    tlsKey: config.tlsKey,
    tlsCa: config.tlsCa,
    insecure: config.insecure,
    labels: config.nodeLabels,
  })
  if (agentOptions?.tls === 'insecure') log.warn({ hub: config.hub }, 'federation without TLS (--insecure): development only, anyone can impersonate this DPU or the hub')
  const agent = agentOptions
    ? startAgent({ ...agentOptions, port: createStoreAgentPort(store, { log: root.child({ component: 'federation' }) }), logger: root.child({ component: 'agent' }) })
    : undefined
  const { host, port } = splitListen(config.listen)
  const app = createApp({
    store,
    log,
    registry,
    token: () => token.current(),
    node,
    allowedHosts: [host, ...config.allowedHosts],
    publicMetrics: config.publicMetrics,
    readiness: [
      ...(ovs ? [() => ovs.readiness(), () => ovs.openflowReadiness()] : []),
      // The hub being away never makes the appliance unready (fail-static): the check reports, it does not gate.
      ...(agent ? [() => ({ name: 'hub', ok: true, message: hubSummary(agent.state()) })] : []),
    ],
    status: () => ({
      ovs: ovs ? { connected: ovs.connected, remote: config.ovsdb, openflow: ovs.openflowState() } : { connected: false, remote: 'none' },
      hub: agent ? agent.state() : { connection: 'disabled' },
    }),
    ...(observers ? { switchView: observers.view, waitInstalled: observers.waitInstalled } : {}),
    ...(controller?.servicesReconciler ? { serviceOps: controller.servicesReconciler } : {}),
  })
  controller?.start()
  ovs?.start()

  let server: RestListener['server']
  let url: string
  try {
    ;({ server, url } = await listenRest(app, { host, port, log, ...(config.apiTlsCert && config.apiTlsKey ? { tls: { certFile: config.apiTlsCert, keyFile: config.apiTlsKey } } : {}) }))
  } catch (err) {
    store.close()
    lock.release()
    throw err
  }
  log.info({ url, tokenFile, dataDir: config.dataDir, nodeLabels: node.labels }, `listening on ${url} as node ${config.nodeName}, token file ${tokenFile}`)

  let closing: Promise<void> | undefined
  return {
    url,
    tokenFile,
    close() {
      closing ??= new Promise<void>((resolve) => {
        log.info('shutting down')
        observers?.stop()
        controller?.stop()
        stopRollup()
        const agentStopped = agent?.stop() ?? Promise.resolve()
        server.close(async () => {
          await agentStopped.catch(() => undefined)
          void ovs?.close()
          // Containers outlive the appliance; only connections and watchers close.
          for (const rt of Object.values(services?.runtimes ?? {})) await rt.close().catch(() => undefined)
          store.close()
          lock.release()
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

function hubSummary(s: { connection: string; hub: string; syncedRevision: number; lastHubContact: string | null }): string {
  return `${s.connection} to ${s.hub}, syncedRevision ${s.syncedRevision}, lastHubContact ${s.lastHubContact ?? 'never'}`
}

/**
 * The appliance daemon's commands: `appliance run` bound to this composition root, `appliance cleanup` to its
 * part. The client commands (get, apply, ...) are loaded on their own (bin/commands.ts).
 */
export const applianceCommands: readonly CliCommand[] = [applianceRunCommand(startAppliance), applianceCleanupCommand(runCleanup)]

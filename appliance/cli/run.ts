/**
 * `dpuctl appliance run`: resolves the configuration and hands it to the start function the composition root
 * passes in (`bin/appliance.ts`), then waits for SIGTERM/SIGINT and shuts down cleanly.
 */
import type { CliCommand } from '../../api/cli.js'
import { resolveApplianceConfig, DEFAULT_DATA_DIR, DEFAULT_LISTEN, DEFAULT_OVSDB, DEFAULT_OVS_RUNDIR, type ApplianceConfig } from './config.js'
import { parseFlags } from '../../api/cli-flags.js'

export interface RunningAppliance {
  url: string
  tokenFile: string
  close(): Promise<void>
}

export type StartAppliance = (config: ApplianceConfig) => Promise<RunningAppliance>

const USAGE = `Usage: dpuctl appliance run [--data-dir DIR] [--listen HOST:PORT] [--token-file F] [--config FILE]
                           [--node-name NAME] [--node-label k=v]... [--log-level LEVEL]
                           [--ovsdb unix:PATH|tcp:HOST:PORT|none] [--ovs-rundir DIR] [--ovs-netns NAME]
                           [--ovs-ctl PATH] [--counters-interval SECONDS] [--verify-interval SECONDS]
                           [--datapath netdev|system]
                           [--api-tls-cert F --api-tls-key F] [--allowed-host NAME]... [--public-metrics]
                           [--hub HOST:PORT --dpu-name NAME --tls-cert F --tls-key F --tls-ca F | --insecure]

Starts the appliance: SQLite state in DIR, the local REST API on HOST:PORT. Logs are JSON lines on stderr.
  --data-dir DIR       state directory (default ${DEFAULT_DATA_DIR}); holds state.db and, unless
                       --token-file is given, the bearer token file "token" (created 0600 on first start)
  --listen HOST:PORT   REST listen address (default ${DEFAULT_LISTEN}; port 0 picks a free port)
  --token-file F       read the bearer token from F instead of <data-dir>/token
  --config FILE        YAML with the same keys as these flags (data-dir, listen, ...); flags win
  --node-name NAME     this DPU's node name (default: the host name)
  --node-label k=v     this DPU's node labels, for fleet objects' nodeSelector (repeatable)
  --log-level LEVEL    fatal|error|warn|info|debug|trace|silent (default info)
  --ovsdb REMOTE       Open vSwitch database (default ${DEFAULT_OVSDB}); "none" runs without OVS
  --ovs-rundir DIR     where vswitchd puts <bridge>.mgmt OpenFlow sockets (default ${DEFAULT_OVS_RUNDIR})
  --ovs-netns NAME     network namespace of ovs-vswitchd, if not this process's (service veth ends go there)
  --ovs-ctl PATH       ovs-vswitchd control socket for dpuctl trace (default: <ovs-rundir>/ovs-vswitchd.<pid>.ctl
                       from ovs-vswitchd.pid, else <ovs-rundir>/ovs-vswitchd.ctl)
  --counters-interval S  how often chain packet/byte counters are read into status (default 10)
  --verify-interval S  how often installed flows are read back to find drift (default 30; 0 turns it off)
  --datapath TYPE      datapath of the bridges the appliance creates: netdev (default; DOCA) or system
  --api-tls-cert/--api-tls-key F   serve the REST API over HTTPS with this PEM certificate and key
                       (a non-loopback --listen without them logs a warning: the token travels in clear)
  --allowed-host NAME  also answer requests whose Host header is NAME (repeatable; * for any). Default: IP
                       addresses, localhost, the node name and the host name (DNS-rebinding defence)
  --public-metrics     serve /metrics and /openapi.json without the token (default: behind it)
  --hub HOST:PORT      federation hub to sync desired state from (absent: standalone)
  --dpu-name NAME      this DPU's name at the hub (must match its certificate; default: --node-name)
  --tls-cert/--tls-key/--tls-ca F   mTLS client certificate, key and CA for the hub
  --insecure           plaintext to the hub (development only; logs a warning)
  --service-netns-prefix P  default service netns is P + svc-<serviceID> (several appliances on one host)
  --service-runtime R  backend for Service objects: auto (podman if installed, else process; default),
                       podman, process or none
  --podman-socket PATH podman's API socket (default <data-dir>/podman.sock; started when nothing listens)
  --podman-infra-image IMG / --podman-infra-command CMD   each pod's infra container (holds its netns)
The config file may also set bridges: {sfc, hbn, ovn}, other-config: {key: value} and mtu.
SIGTERM or SIGINT stops it. One appliance per data dir: a second start on DIR is refused while one runs.
After it stopped, dpuctl appliance cleanup removes its bridges, service veths and namespaces.`

export function applianceRunCommand(start: StartAppliance): CliCommand {
  return {
    path: ['appliance', 'run'],
    summary: 'run the appliance (store, REST API) in the foreground',
    usage: USAGE,
    async run(args, io) {
      const { values } = parseFlags(
        args,
        {
          'data-dir': { type: 'string' },
          listen: { type: 'string' },
          'token-file': { type: 'string' },
          config: { type: 'string' },
          'node-name': { type: 'string' },
          'node-label': { type: 'string', multiple: true },
          'log-level': { type: 'string' },
          ovsdb: { type: 'string' },
          'ovs-rundir': { type: 'string' },
          'ovs-netns': { type: 'string' },
          'ovs-ctl': { type: 'string' },
          'counters-interval': { type: 'string' },
          'verify-interval': { type: 'string' },
          datapath: { type: 'string' },
          hub: { type: 'string' },
          'dpu-name': { type: 'string' },
          'tls-cert': { type: 'string' },
          'tls-key': { type: 'string' },
          'tls-ca': { type: 'string' },
          insecure: { type: 'boolean' },
          'service-netns-prefix': { type: 'string' },
          'api-tls-cert': { type: 'string' },
          'api-tls-key': { type: 'string' },
          'allowed-host': { type: 'string', multiple: true },
          'public-metrics': { type: 'boolean' },
          'service-runtime': { type: 'string' },
          'podman-socket': { type: 'string' },
          'podman-infra-image': { type: 'string' },
          'podman-infra-command': { type: 'string' },
        },
        0,
      )
      const config = resolveApplianceConfig(values, io.cwd)
      const running = await start(config)
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGTERM', stop)
          process.off('SIGINT', stop)
          resolve()
        }
        process.on('SIGTERM', stop)
        process.on('SIGINT', stop)
      })
      await running.close()
      return 0
    },
  }
}

/**
 * IPv4 addresses and routes of an interface inside a service's network namespace, as a CNI IPAM result is applied:
 * one address (`10.0.120.1/29`), routes through the gateway, a default route when asked. Level-triggered: reads
 * `ip -j -4 addr` and `ip -j -4 route` of the interface and changes only what differs. The interface is the
 * appliance's (it created the veth), so IPv4 addresses and gateway routes on it that are not desired are removed;
 * kernel (connected) routes are left to the kernel.
 */
import { runCommand, type CommandRunner } from './command.js'
import { UnexpectedOutputError } from './errors.js'
import { validateIfName, validateNetnsName } from './names.js'

export interface Ipv4Config {
  /** `address/prefixLength`. */
  address: string
  gateway?: string
  /** Destination CIDRs routed through the gateway. */
  routes: readonly string[]
  /** A default route through the gateway. */
  defaultRoute: boolean
}

export interface AddressOptions {
  netns: string
  run?: CommandRunner
}

interface IpAddrJson {
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number; scope?: string }>
}
interface IpRouteJson {
  dst: string
  gateway?: string
  protocol?: string
}

function parseJson<T>(argv: readonly string[], stdout: string): T {
  try {
    return JSON.parse(stdout.trim() === '' ? '[]' : stdout) as T
  } catch (cause) {
    throw new UnexpectedOutputError(argv, 'output is not JSON', stdout, cause)
  }
}

/** Global-scope IPv4 addresses of `ifName` as `address/prefixLength`. */
export async function readIpv4Addresses(ifName: string, options: AddressOptions): Promise<string[]> {
  const argv = ['ip', '-n', validateNetnsName(options.netns), '-j', '-4', 'addr', 'show', 'dev', validateIfName(ifName)]
  const { stdout } = await (options.run ?? runCommand)(argv)
  return parseJson<IpAddrJson[]>(argv, stdout)
    .flatMap((l) => l.addr_info ?? [])
    .filter((a) => a.family === 'inet' && a.scope === 'global' && a.local !== undefined)
    .map((a) => `${a.local}/${a.prefixlen}`)
}

/** Routes through a gateway on `ifName` as `dst via gateway` (dst `default` or a CIDR). */
async function readGatewayRoutes(ifName: string, options: AddressOptions): Promise<Array<{ dst: string; gateway: string }>> {
  const argv = ['ip', '-n', validateNetnsName(options.netns), '-j', '-4', 'route', 'show', 'dev', validateIfName(ifName)]
  const { stdout } = await (options.run ?? runCommand)(argv)
  return parseJson<IpRouteJson[]>(argv, stdout).flatMap((r) => (r.gateway !== undefined ? [{ dst: r.dst, gateway: r.gateway }] : []))
}

/** Makes `ifName` in `options.netns` carry exactly `config`; returns what it changed (empty: nothing). */
export async function ensureIpv4(ifName: string, config: Ipv4Config, options: AddressOptions): Promise<string[]> {
  const run = options.run ?? runCommand
  const ip = ['ip', '-n', validateNetnsName(options.netns)]
  const dev = validateIfName(ifName)
  const actions: string[] = []
  const have = await readIpv4Addresses(dev, options)
  for (const extra of have.filter((a) => a !== config.address)) {
    await run([...ip, 'addr', 'del', extra, 'dev', dev])
    actions.push(`del ${extra}`)
  }
  if (!have.includes(config.address)) {
    await run([...ip, 'addr', 'add', config.address, 'dev', dev])
    actions.push(`add ${config.address}`)
  }
  const want = new Map<string, string>()
  if (config.gateway !== undefined) {
    // `ip route` prints a host route without its /32.
    for (const dst of config.routes) want.set(dst.endsWith('/32') ? dst.slice(0, -3) : dst, config.gateway)
    if (config.defaultRoute) want.set('default', config.gateway)
  }
  const routes = await readGatewayRoutes(dev, options)
  for (const r of routes) {
    if (want.get(r.dst) === r.gateway) continue
    await run([...ip, 'route', 'del', r.dst, 'via', r.gateway, 'dev', dev])
    actions.push(`del route ${r.dst} via ${r.gateway}`)
  }
  for (const [dst, gateway] of want) {
    if (routes.some((r) => r.dst === dst && r.gateway === gateway)) continue
    await run([...ip, 'route', 'replace', dst, 'via', gateway, 'dev', dev])
    actions.push(`route ${dst} via ${gateway}`)
  }
  return actions
}

/** Removes `address` (`a.b.c.d`, any prefix length) from `ifName` if it is there (an allocation given back). */
export async function removeIpv4(ifName: string, address: string, options: AddressOptions): Promise<boolean> {
  const found = (await readIpv4Addresses(ifName, options)).find((a) => a.split('/')[0] === address)
  if (found === undefined) return false
  await (options.run ?? runCommand)(['ip', '-n', validateNetnsName(options.netns), 'addr', 'del', found, 'dev', validateIfName(ifName)])
  return true
}

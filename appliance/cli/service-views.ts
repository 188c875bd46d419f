/**
 * How dpuctl shows Services: the `get` table (NAME, PHASE, READY containers, RESTARTS, AGE; `-o wide` adds the
 * runtime, images, interfaces and the Ready reason) and the Service part of `describe` (a spec summary, then
 * containers and interfaces as tables). Pure: it reads what the services reconciler wrote into status.
 */
import type { StoredObject } from '../../api/meta.js'
import type { ServiceSpec } from '../../api/resources/service.js'
import { age, formatTable } from './output.js'

interface ServiceStatusView {
  phase?: string
  runtime?: string
  netns?: string
  restarts?: number
  conditions?: Array<{ type: string; status: string; reason: string }>
  interfaces?: Array<{ name: string; interfaceName?: string; network?: string; ready?: boolean }>
  containers?: Array<{ name: string; image?: string; state?: string; ready?: boolean; restartCount?: number; exitCode?: number; startedAt?: string; pid?: number }>
}

const statusOf = (o: StoredObject) => (o.status ?? {}) as ServiceStatusView
const specOf = (o: StoredObject) => o.spec as unknown as Partial<ServiceSpec> | null
const containersOf = (o: StoredObject) => specOf(o)?.template?.spec?.containers ?? []

/** `1/2`: containers ready of those the spec declares. */
export function readyContainers(o: StoredObject): string {
  const ready = (statusOf(o).containers ?? []).filter((c) => c.ready === true).length
  return `${ready}/${containersOf(o).length}`
}

/** `net1@mybrsfc`, with `(unready)` while the ports pass has not plugged it. */
export function interfaceCells(o: StoredObject): string {
  const ifaces = statusOf(o).interfaces ?? []
  return ifaces.length === 0 ? '<none>' : ifaces.map((i) => `${i.interfaceName ?? i.name}@${i.network ?? '?'}${i.ready ? '' : '(unready)'}`).join(',')
}

/** The `get` table of Services: header row first. */
export function serviceRows(items: readonly StoredObject[], opts: { wide: boolean; allNamespaces: boolean; namePrefix?: string }): string[][] {
  const header = [...(opts.allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'PHASE', 'READY', 'RESTARTS', 'AGE', ...(opts.wide ? ['RUNTIME', 'IMAGES', 'INTERFACES', 'REASON'] : [])]
  const rows = items.map((o) => {
    const s = statusOf(o)
    return [
      ...(opts.allNamespaces ? [o.metadata.namespace] : []),
      `${opts.namePrefix ?? ''}${o.metadata.name}`,
      s.phase ?? 'Unknown',
      readyContainers(o),
      String(s.restarts ?? 0),
      age(o.metadata.creationTimestamp),
      ...(opts.wide
        ? [
            s.runtime ?? specOf(o)?.runtime ?? '-',
            containersOf(o)
              .map((c) => c.image)
              .join(',') || '-',
            interfaceCells(o),
            s.conditions?.find((c) => c.type === 'Ready')?.reason ?? '-',
          ]
        : []),
    ]
  })
  return [header, ...rows]
}

const indent = (text: string, by: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => by + l)
    .join('\n') + '\n'

/** `describe service`: what replaces the spec YAML, and the status fields shown as tables. */
export function renderServiceSpec(o: StoredObject): string {
  const spec = specOf(o)
  const pod = spec?.template?.spec
  const lines = [
    ['Service ID:', spec?.serviceID ?? '<none>'],
    ['Runtime:', spec?.runtime ?? '<default>'],
    ['Restart Policy:', pod?.restartPolicy ?? 'Always'],
  ]
  let out = 'Spec:\n' + lines.map(([k, v]) => `  ${k!.padEnd(20)}${v}`).join('\n') + '\n'
  out += '  Containers:\n'
  for (const c of containersOf(o)) {
    const argv = [...(c.command ?? []), ...(c.args ?? [])]
    const probes = (['readinessProbe', 'livenessProbe', 'startupProbe'] as const).filter((p) => c[p] !== undefined).map((p) => p.replace('Probe', ''))
    out += `    ${c.name}:\n`
    out += `      Image:     ${c.image}\n`
    if (argv.length > 0) out += `      Command:   ${argv.map((a) => (/^[\w./:=@-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}\n`
    if (c.resources?.requests)
      out += `      Requests:  ${Object.entries(c.resources.requests)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ')}\n`
    if (c.resources?.limits)
      out += `      Limits:    ${Object.entries(c.resources.limits)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ')}\n`
    if (probes.length > 0) out += `      Probes:    ${probes.join(', ')}\n`
  }
  return out
}

/** Containers and interfaces of a Service's status as tables (the rest of the status is printed as YAML). */
export function renderServiceStatus(o: StoredObject): string {
  const s = statusOf(o)
  let out = `  Runtime:              ${s.runtime ?? '<none>'}\n  Netns:                ${s.netns ?? '<none>'}\n  Restarts:             ${s.restarts ?? 0}\n`
  const containers = s.containers ?? []
  if (containers.length === 0) out += '  Containers:           <none>\n'
  else {
    out += '  Containers:\n'
    const rows = containers.map((c) => [
      c.name,
      c.state ?? '-',
      String(c.ready ?? false),
      String(c.restartCount ?? 0),
      c.exitCode !== undefined ? String(c.exitCode) : '-',
      c.pid !== undefined ? String(c.pid) : '-',
      c.startedAt ? `${age(c.startedAt)} ago` : '-',
      c.image ?? '-',
    ])
    out += indent(formatTable([['NAME', 'STATE', 'READY', 'RESTARTS', 'EXIT CODE', 'PID', 'STARTED', 'IMAGE'], ...rows]), '    ')
  }
  const ifaces = s.interfaces ?? []
  if (ifaces.length === 0) out += '  Interfaces:           <none>\n'
  else {
    out += '  Interfaces:\n'
    out += indent(formatTable([['NAME', 'INTERFACE', 'NETWORK', 'READY'], ...ifaces.map((i) => [i.name, i.interfaceName ?? '-', i.network ?? '-', String(i.ready ?? false)])]), '    ')
  }
  return out
}

/** Status fields `renderServiceStatus` shows, left out of the YAML rest. */
export const SERVICE_STATUS_FIELDS = ['runtime', 'netns', 'restarts', 'containers', 'interfaces'] as const
